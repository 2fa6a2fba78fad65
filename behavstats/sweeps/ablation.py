"""Channel ablation sweep: every channel of a layer zero- and mean-ablated on its own,
beside channel discovery's tracking score (`interventions.channels`), so causal and
correlational evidence sit in one table.

For each level with a decision square (dsq), the mouse on its dsq: the change of
P(move towards the cheese) when one channel is set to zero (`zero`) or to its mean
(`mean`). The mean is leave-one-maze-out: the mean of that channel's activations at
the dsq observations of the other levels of the run, so a maze's own cheese never
enters its replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.env import Observer
from behavstats.forward import BATCH, forward, stage_index
from behavstats.hooks import VECTOR_LAYER, Ablate, ReplaceChannels
from behavstats.interventions.channels import run_channels
from behavstats.interventions.forward import (
    ChannelError,
    DecisionSquares,
    NoUsableLevelsError,
    as_mazes,
)
from behavstats.interventions.geometry import decision_point
from behavstats.maze import Maze
from behavstats.policy import Policy
from behavstats.sweeps.result import TableResult, mean_interval, summary_frame

METHODS = ("zero", "mean")
COLUMNS = ("layer", "channel", "method", "estimate", "ci_low", "ci_high", "n",
           "tracking_score")


@dataclass(frozen=True)
class AblationResult(TableResult):
    """ablation: one row per channel and method (`COLUMNS`): the mean change of
    P(towards cheese) at the dsq with its bootstrap interval over the n levels, and
    the channel's tracking score; rows by method, largest |estimate| first.
    levels: one row per channel, method and level: the change (`change`)."""

    ablation: pd.DataFrame
    levels: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return summary_frame(self.ablation, lambda r: "p_cheese change",
                             lambda r: f"{r['method']}-ablate channel {r['channel']} at "
                                       f"{r['layer']}")


def run_ablation(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, layer: str = VECTOR_LAYER,
                 placements: int = 4, mode: str = "hard", seed: int = 0,
                 progress: bool = False, batch: int = BATCH) -> AblationResult:
    """Ablate each channel of `layer` on the levels (seeds or mazes) with a decision
    square (at least two, for the leave-one-out mean); the tracking score comes from
    channel discovery on the same levels with `placements` cheese cells each. With
    `out_dir`, also save the result."""
    if stage_index(policy, layer) >= policy.stage_names.index("embedder.flatten"):
        raise ChannelError(f"{layer} has no channel maps: ablate a layer of the IMPALA blocks, "
                           "e.g. embedder.block2.res1.resadd")
    mazes = as_mazes(levels, mode)
    points = [decision_point(m) for m in mazes]
    chosen = [i for i, p in enumerate(points) if p is not None]
    if len(chosen) < 2:
        raise NoUsableLevelsError("mean-ablation needs at least two levels with a decision "
                                  "square: pass more levels")
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
    scores = run_channels(policy, [mazes[i] for i in chosen], layer=layer,
                          placements=placements, seed=seed, batch=batch).table
    result = AblationResult(_aggregate(per_level, layer, scores, seed), per_level)
    if out_dir is not None:
        result.save(out_dir)
    return result


def _aggregate(per_level: pd.DataFrame, layer: str, scores: pd.DataFrame, seed: int
               ) -> pd.DataFrame:
    """`COLUMNS`, ranked by |estimate| within each method."""
    rows = [{"layer": layer, "channel": channel, "method": method,
             **mean_interval(part["change"].to_numpy(), seed, k)}
            for k, ((channel, method), part) in enumerate(
                per_level.groupby(["channel", "method"], sort=False))]
    table = pd.DataFrame(rows)
    table["tracking_score"] = table["channel"].map(scores.set_index("channel")["score"])
    table["order"] = table["method"].map(METHODS.index)
    table = table.assign(size=table["estimate"].abs()).sort_values(
        ["order", "size", "channel"], ascending=[True, False, True])
    return table[list(COLUMNS)].reset_index(drop=True)
