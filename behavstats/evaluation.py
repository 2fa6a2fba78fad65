"""How well a policy solves mazes, and where it goes when it misses the cheese.

Success = the episode reached the cheese (+10 reward) within the step limit,
sampling actions from the policy. Reported on the training distribution (cheese in
the top-right n x n region) and on vanilla levels, by maze-size band, and on the
vanilla mazes the behavioural study uses (`vocabulary.decision_mazes`: decision
square, cheese outside the top-right 5x5): how many reach the cheese, the top-right
cell, the top-right 5x5.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from behavstats.experiments import Evaluation
from behavstats.levelspec import format_levels
from behavstats.policy import Policy
from behavstats.results import Result, quantity_row
from behavstats.rollout import RolloutConfig, gather, level_episodes
from behavstats.vocabulary import (
    DECISION_GROUP,
    MISSES,
    REACHED,
    TOP_RIGHT_REGION,
    TRAINING,
    VANILLA,
    decision_mazes,
)

SIZE_BANDS = {"3-9": (3, 9), "11-17": (11, 17), "19-25": (19, 25)}


def size_band(maze_dim: int) -> str:
    return next(name for name, (low, high) in SIZE_BANDS.items() if low <= maze_dim <= high)


def success_by_band(episodes: pd.DataFrame, distribution: str) -> pd.DataFrame:
    """Share of episodes that reached the cheese, overall ("all") and per maze-size
    band: distribution, band, n, success."""
    bands = episodes["maze_dim"].map(size_band)
    rows = [{"band": "all", "n": len(episodes),
             "success": float(episodes["reached_cheese"].mean())}]
    rows += [{"band": b, "n": int((bands == b).sum()),
              "success": float(episodes.loc[bands == b, "reached_cheese"].mean())}
             for b in SIZE_BANDS if (bands == b).any()]
    return pd.DataFrame(rows).assign(distribution=distribution)[
        ["distribution", "band", "n", "success"]]


def decision_behaviour(episodes: pd.DataFrame) -> pd.DataFrame:
    """On vanilla mazes with a decision square and the cheese outside the top-right 5x5
    ("decision mazes", `vocabulary.decision_mazes`), and among their misses: n and the
    shares reaching the cheese, the top-right cell, the top-right 5x5 (columns group,
    n, `REACHED`)."""
    chosen = decision_mazes(episodes)
    misses = chosen[~chosen["reached_cheese"].astype(bool)]
    return pd.DataFrame([{"group": group, "n": len(rows),
                          **{k: float(rows[k].mean()) for k in REACHED}}
                         for group, rows in ((DECISION_GROUP, chosen), (MISSES, misses))])


@dataclass(frozen=True, eq=False)
class EvaluationResult(Result):
    """What `Evaluation.run` (`evaluate`) measured.

    success: one row per distribution (training, vanilla) and band (all, then the
        `SIZE_BANDS` present): distribution, band, n, success (share that reached the
        cheese).
    decision: `decision_behaviour` of the vanilla episodes (all those given as
        `vanilla`, e.g. the study's 10,000, else the evaluated levels'): group
        (decision mazes, misses), n, reached_cheese, reached_top_right, reached_tr5.
    params: the settings (`Evaluation`, with the region used), levels (a level spec)
        and decision_episodes (the vanilla episodes the decision table counts).
    """

    success: pd.DataFrame
    decision: pd.DataFrame
    params: dict
    topic = "evaluation"
    settings_type = Evaluation

    def _rows(self) -> list[dict]:
        rows = [quantity_row("success", _condition(r.distribution, r.band), r.success, n=r.n)
                for r in self.success.itertuples()]
        vanilla = self.success.query(f"distribution == '{VANILLA}' and band == 'all'")["n"]
        episodes = self.params.get("decision_episodes", int(vanilla.iloc[0]))
        decision = self.decision.set_index("group")
        rows.append(quantity_row("decision_share", VANILLA,
                                 decision.loc[DECISION_GROUP, "n"] / episodes, n=episodes))
        rows += [quantity_row(k, group, r[k], n=r["n"]) for group, r in decision.iterrows()
                 for k in REACHED]
        return rows

    def table(self) -> pd.DataFrame:
        """Success as a wide table: one row per distribution, columns all + bands + n."""
        region = self.params["region"]
        wide = self.success.pivot(index="distribution", columns="band", values="success")
        wide = wide[[b for b in ("all", *SIZE_BANDS) if b in wide.columns]]
        wide["n"] = self.success.query("band == 'all'").set_index("distribution")["n"]
        wide.columns.name = wide.index.name = None
        names = {TRAINING: f"training (cheese in top-right {region}x{region})",
                 VANILLA: VANILLA}
        return wide.loc[[TRAINING, VANILLA]].rename(index=names).astype({"n": int})


def _condition(distribution: str, band: str) -> str:
    return distribution if band == "all" else f"{distribution}, maze {band}"


def evaluate(policy: Policy, levels: Sequence[int], *, progress: bool = False,
             executor: Executor | None = None, episodes_dir: str | Path | None = None,
             vanilla: pd.DataFrame | None = None, out_dir: str | Path | None = None,
             **settings: Any) -> EvaluationResult:
    """`Evaluation(**settings).run(policy, levels, ...)`. out_dir: the old name of
    `episodes_dir` (deprecated: `out_dir` writes a result everywhere else)."""
    if out_dir is not None:
        warnings.warn("evaluate(out_dir=...) is now evaluate(episodes_dir=...): the folder "
                      "its episodes are gathered in", DeprecationWarning, stacklevel=2)
        episodes_dir = episodes_dir or out_dir
    return Evaluation(**settings).run(policy, levels, progress=progress, executor=executor,
                                      episodes_dir=episodes_dir, vanilla=vanilla)


def compute(settings: Evaluation, policy: Policy, levels: Sequence[int], *,
            progress: bool = False, executor: Executor | None = None,
            episodes_dir: str | Path | None = None, vanilla: pd.DataFrame | None = None
            ) -> EvaluationResult:
    """Success on the training distribution and on vanilla levels, and the decision
    behaviour on vanilla levels (`Evaluation.run`). With `episodes_dir`, episodes are
    gathered there (resumable, parallel through `executor`). The training distribution
    draws the cheese into the top-right `region` x `region` corner: by default the
    policy's own training region, else `TOP_RIGHT_REGION` (the published agents'
    `rand_region_5`).

    vanilla: episodes of vanilla levels already run by this policy with the same seed,
    mode and step limit (`level_episodes` columns, e.g. the study's episodes part);
    when they hold every level, those rows are used instead of running them again,
    and the decision behaviour is measured on all of them (the study's 10,000
    episodes, the published protocol), so the report reads it from this result.
    """
    region, seed, mode, max_steps = (settings.region, settings.seed, settings.mode,
                                      settings.max_steps)
    region = region or policy.training_region or TOP_RIGHT_REGION
    vanilla_config = RolloutConfig(seed=seed, mode=mode, max_steps=max_steps)
    configs = {TRAINING: replace(vanilla_config, cheese_region=region),
               VANILLA: vanilla_config}
    tables = {}
    decision_table = None
    if vanilla is not None and set(levels) <= set(vanilla["level"]):
        tables[VANILLA] = vanilla.set_index("level", drop=False).loc[list(levels)] \
            .reset_index(drop=True)
        decision_table = vanilla
    for name, config in configs.items():
        if name in tables:
            continue
        if episodes_dir is None:
            tables[name] = level_episodes(policy, levels, config, progress=progress)
        else:
            tables[name] = gather(policy, levels, f"{episodes_dir}/{name}", config,
                                  executor=executor, progress=progress)
    tables = {name: tables[name] for name in configs}
    success = pd.concat([success_by_band(t, name) for name, t in tables.items()],
                        ignore_index=True)
    if decision_table is None:
        decision_table = tables[VANILLA]
    return EvaluationResult(success, decision_behaviour(decision_table),
                            {**settings.to_dict(), "region": region,
                             "levels": format_levels(levels),
                             "decision_episodes": len(decision_table)})
