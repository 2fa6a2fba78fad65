"""Channel ablation sweep: every channel of a layer zero- and mean-ablated on its own,
beside channel discovery's tracking score (`interventions.channels`), so causal and
correlational evidence sit in one table.

For each level with a decision square (dsq), the mouse on its dsq: the change of
P(move towards the cheese) when one channel is set to zero (`zero`) or to its mean
(`mean`). The mean is leave-one-maze-out: the mean of that channel's activations at
the dsq observations of the other levels of the run, so a maze's own cheese never
enters its replacement. Each mean change is tested against 0 (two-sided sign-flip
test over levels, `stats.multiplicity`); its q-value is Benjamini-Hochberg over every
channel x method of the run (the family).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.engine import BATCH, forward
from behavstats.env import Observer
from behavstats.experiments import Ablation, Channels
from behavstats.hooks import Ablate, ReplaceChannels
from behavstats.interventions.channels import Discovery, discovered_channels
from behavstats.interventions.effects import estimate_ci
from behavstats.interventions.forward import (
    ChannelError,
    DecisionSquares,
    decision_levels,
)
from behavstats.maze import Maze
from behavstats.policy import Policy
from behavstats.results import Result, quantity_row
from behavstats.stats.multiplicity import family_row, sign_flip_pvalues, significant, with_tests
from behavstats.vocabulary import VECTOR_LAYER

METHODS = ("zero", "mean")
COLUMNS = ("layer", "channel", "method", "estimate", "ci_low", "ci_high", "n", "p_value",
           "q_value", "tracking_score")
SUMMARY_CHANNELS = 10
"""Channels per method in the summary (the largest effects)."""
FAMILY = "channel x method"
"""The ablation's family of tests, as its summary row names it."""


@dataclass(frozen=True, eq=False)
class AblationResult(Result):
    """What `Ablation.run` (`run_ablation`) measured.

    ablation: one row per channel and method (`COLUMNS`): the mean change of
        P(towards cheese) at the dsq with its bootstrap interval over the n levels,
        p_value (sign-flip test of no mean change) and q_value (Benjamini-Hochberg
        over all rows), and the channel's tracking score; rows by method, largest
        |estimate| first.
    levels: one row per channel, method and level: the change (`change`).
    params: the settings (`Ablation`) and n_levels, n_used (levels with a dsq).
    """

    ablation: pd.DataFrame
    levels: pd.DataFrame
    params: dict
    topic = "ablation"
    settings_type = Ablation
    csv_tables = ("ablation",)

    def _rows(self) -> list[dict]:
        """Per method, the `SUMMARY_CHANNELS` largest effects (and the largest
        significant one, when it is not among them), each beside its channel's tracking
        score; then how many of the family's tests are significant."""
        rows = []
        for method, part in self.ablation.groupby("method", sort=False):
            found = part[significant(part["q_value"])].head(1)
            for r in pd.concat([part.head(SUMMARY_CHANNELS), found]).drop_duplicates(
                    "channel").itertuples():
                condition = f"{method}-ablate channel {r.channel} at {r.layer}"
                rows += [quantity_row("p_cheese_change", condition, r.estimate, r.ci_low,
                                      r.ci_high, r.n, r.p_value, r.q_value),
                         quantity_row("channel_score", condition, r.tracking_score)]
        return [*rows, family_row(FAMILY, self.ablation["q_value"])]

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Ablation effect against tracking score, one panel per method."""
        from behavstats.plots.sweeps import plot_ablation

        return {"ablation": lambda: plot_ablation(self.ablation)}


def run_ablation(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, discovery: Discovery | None = None,
                 progress: bool = False, batch: int = BATCH, **settings: Any
                 ) -> AblationResult:
    """`Ablation(**settings).run(policy, levels, out_dir, discovery=discovery)`."""
    return Ablation(**settings).run(policy, levels, out_dir, discovery=discovery,
                                    progress=progress, batch=batch)


def compute(settings: Ablation, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            discovery: Discovery | None = None, progress: bool = False, batch: int = BATCH
            ) -> AblationResult:
    """Ablate each channel of the layer on the levels (seeds or mazes) with a decision
    square (at least two, for the leave-one-out mean). The tracking score comes from
    `discovery` (a finished channel discovery, or levels to run one on; default: a
    discovery on the same levels with `placements` cheese cells each)."""
    layer, mode, seed, n_boot = settings.layer, settings.mode, settings.seed, settings.n_boot
    if not policy.has_channel_maps(layer):
        raise ChannelError(f"{layer} has no channel maps: ablate a layer of the IMPALA blocks, "
                           f"e.g. {VECTOR_LAYER}")
    mazes, points, chosen = decision_levels(levels, mode, minimum=2, why="mean-ablation")
    dsq = DecisionSquares.of(policy, mazes, points, chosen, layer, Observer(batch=batch),
                             batch=batch)
    cache = dsq.cache
    acts = forward(policy, cache.acts, start=cache.start, stop=layer, batch=batch)
    others = (acts.sum(0, keepdim=True) - acts) / (len(acts) - 1)
    before = dsq.original[np.arange(len(chosen)), dsq.to_cheese]
    rows = []
    for channel in tqdm(range(acts.shape[1]), desc="ablation", disable=not progress):
        edits = {"zero": [Ablate(layer, [channel])],
                 "mean": lambda r, c=channel: [ReplaceChannels(layer, [c], others[r])]}
        for method in METHODS:
            after = cache.probs(edits[method])[np.arange(len(chosen)), dsq.to_cheese]
            rows.append(pd.DataFrame({"channel": channel, "method": method, "level": dsq.ids,
                                      "change": after - before}))
    per_level = pd.concat(rows, ignore_index=True)
    if discovery is None:
        scores = Channels(layer=layer, placements=settings.placements, seed=seed).run(
            policy, [mazes[i] for i in chosen], batch=batch).table
    else:
        scores = discovered_channels(policy, discovery, layer=layer, mode=mode, seed=seed,
                                     batch=batch)
    params = {**settings.to_dict(), "n_levels": len(mazes), "n_used": len(chosen)}
    return AblationResult(_aggregate(per_level, layer, scores, seed, n_boot), per_level,
                          params)


def _aggregate(per_level: pd.DataFrame, layer: str, scores: pd.DataFrame, seed: int,
               n_boot: int) -> pd.DataFrame:
    """`COLUMNS`, ranked by |estimate| within each method."""
    changes = [(key, part.to_numpy()) for key, part in per_level.groupby(
        ["channel", "method"], sort=False)["change"]]
    rows = [{"layer": layer, "channel": channel, "method": method,
             **estimate_ci(change, seed=seed, n_boot=n_boot)}
            for (channel, method), change in changes]
    table = with_tests(pd.DataFrame(rows),
                       sign_flip_pvalues([change for _, change in changes], seed=seed))
    table["tracking_score"] = table["channel"].map(scores.set_index("channel")["score"])
    table["order"] = table["method"].map(METHODS.index)
    table = table.assign(size=table["estimate"].abs()).sort_values(
        ["order", "size", "channel"], ascending=[True, False, True])
    return table[list(COLUMNS)].reset_index(drop=True)
