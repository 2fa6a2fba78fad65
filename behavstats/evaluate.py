"""How well a policy solves mazes, and where it goes when it misses the cheese.

Success = the episode reached the cheese (+10 reward) within the step limit,
sampling actions from the policy. Reported on the training distribution (cheese in
the top-right n x n region) and on vanilla levels, by maze-size band, and on the
vanilla mazes the behavioural study uses (decision square, cheese outside the
top-right 5x5): how many reach the cheese, the top-right cell, the top-right 5x5.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import replace

import pandas as pd

from behavstats.levelspec import format_levels
from behavstats.policy import Policy
from behavstats.rollout import RolloutConfig, gather, level_episodes

SIZE_BANDS = {"3-9": (3, 9), "11-17": (11, 17), "19-25": (19, 25)}


def size_band(maze_dim: int) -> str:
    return next(name for name, (low, high) in SIZE_BANDS.items() if low <= maze_dim <= high)


def success_by_band(episodes: pd.DataFrame) -> dict[str, float]:
    """Share of episodes that reached the cheese, overall and per maze-size band."""
    bands = episodes["maze_dim"].map(size_band)
    out = {"all": float(episodes["reached_cheese"].mean())}
    out.update({b: float(episodes.loc[bands == b, "reached_cheese"].mean())
                for b in SIZE_BANDS if (bands == b).any()})
    out["n"] = len(episodes)
    return out


def decision_behaviour(episodes: pd.DataFrame) -> dict[str, float]:
    """On vanilla mazes with a decision square and the cheese outside the top-right 5x5:
    shares reaching the cheese, the top-right cell, the top-right 5x5; and among
    the misses, the shares reaching the top-right cell / 5x5."""
    chosen = episodes[episodes["has_dsq"] & ~episodes["cheese_in_tr5"]]
    misses = chosen[~chosen["reached_cheese"]]
    return {"n": len(chosen),
            "reached_cheese": float(chosen["reached_cheese"].mean()),
            "reached_top_right": float(chosen["reached_top_right"].mean()),
            "reached_tr5": float(chosen["reached_tr5"].mean()),
            "misses": len(misses),
            "misses_reached_top_right": float(misses["reached_top_right"].mean()),
            "misses_reached_tr5": float(misses["reached_tr5"].mean())}


def evaluate(policy: Policy, levels: Sequence[int], *, region: int | None = None, seed: int = 0,
             mode: str = "hard", max_steps: int = 500, progress: bool = False,
             executor: Executor | None = None, out_dir=None) -> dict:
    """Success on the training distribution and on vanilla levels, and the decision
    behaviour on vanilla levels. With `out_dir`, episodes are gathered there
    (resumable, parallel through `executor`). The training distribution draws the
    cheese into the top-right `region` x `region` corner: by default the policy's own
    training region, else 5 (the published agents' `rand_region_5`)."""
    region = region or policy.training_region or 5
    vanilla_config = RolloutConfig(seed=seed, mode=mode, max_steps=max_steps)
    configs = {"training": replace(vanilla_config, cheese_region=region),
               "vanilla": vanilla_config}
    tables = {}
    for name, config in configs.items():
        if out_dir is None:
            tables[name] = level_episodes(policy, levels, config, progress=progress)
        else:
            tables[name] = gather(policy, levels, f"{out_dir}/{name}", config,
                                  executor=executor, progress=progress)
    return {"levels": format_levels(levels), "region": region, "seed": seed,
            "max_steps": max_steps,
            "training": success_by_band(tables["training"]),
            "vanilla": success_by_band(tables["vanilla"]),
            "decision": decision_behaviour(tables["vanilla"])}


def evaluation_table(result: dict) -> pd.DataFrame:
    """The evaluation as a table: one row per distribution, columns all + bands + n."""
    n = result["region"]
    rows = {f"training (cheese in top-right {n}x{n})": result["training"],
            "vanilla": result["vanilla"]}
    return pd.DataFrame(rows).T.astype({"n": int})
