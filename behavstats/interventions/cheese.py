"""The cheese-vector experiment, with controls, transfer and intervals.

For each maze with a decision square (dsq): its cheese vector (`vectors.cheese_vectors`)
is added as `activation + coeff * vector` to every forward pass in that maze, and the
probability of the move towards the cheese (and towards the top-right cell) at the dsq
is compared with the unedited policy, for a sweep of coefficients. Only the dsq
observation is needed for that, so all levels x coefficients run as one batched pass.

Controls: (1) a random vector with the same per-element magnitude (`random_like`),
(2) "cheese absent": the vector field of the maze without cheese, unedited, against
the field with the vector subtracted (coefficient `field_coeff`): if subtracting made
the agent blind to the cheese, the two would agree. Transfer: the vector of maze A
applied (coefficient `transfer_coeff`) in maze B, split by whether B's cheese lies
within `near` cells of A's (Chebyshev distance between world cells, i.e. where the
two cheeses appear in the observation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.engine import BATCH, probs
from behavstats.env import Observer, frames, render
from behavstats.experiments import CheeseVector
from behavstats.geometry import world_chebyshev
from behavstats.interventions.effects import (
    change_rows,
    mean_ci,
    published_change,
    transfer_change,
    tv_distance,
)
from behavstats.interventions.forward import (
    DecisionSquares,
    FieldExample,
    added,
    field_groups,
)
from behavstats.interventions.vector_levels import DECISION_COLUMNS, VectorLevels
from behavstats.interventions.vectors import cheese_vectors, random_like
from behavstats.maze import Maze
from behavstats.maze.edits import remove_cheese
from behavstats.policy import Policy
from behavstats.quantities import edited
from behavstats.results import Result, figure_only
from behavstats.seeding import Purpose, stream
from behavstats.vfield import FIELD_GROUP, VectorField

DEFAULT_COEFFS = CheeseVector.default("coeffs")
PAIRS = (("patched", "original"), ("patched", "absent"), ("original", "absent"),
         ("random", "original"))
"""The pairs of whole-field conditions compared in `CheeseVectorResult.absent`."""


@dataclass(frozen=True, eq=False)
class CheeseVectorResult(Result):
    """What `CheeseVector.run` (`run_cheese_vector`) measured.

    decision: one row per level and coefficient, `DECISION_COLUMNS`: probabilities at
        the dsq of the move towards the cheese / the top-right cell, unedited
        (original) and with `coeff * cheese vector` added (patched).
    controls: the same with the random vector: level, coeff, p_cheese_original,
        p_cheese_random, p_topright_original, p_topright_random.
    absent: one row per level, whole fields at coefficient `field_coeff`: level,
        n_cells; tv_<a>_<b> = mean over cells of the total-variation distance between
        the move distributions of conditions a and b, pub_<a>_<b> the published
        statistic (`effects.published_change`), for the `PAIRS`; and at the dsq
        p_cheese_original, p_cheese_patched, p_cheese_absent (absent: cheese removed,
        no edit; "towards the cheese" = towards where it was).
    transfer: one row per ordered pair of distinct levels: level_a (vector's maze),
        level_b (applied in), p_cheese_original, p_cheese_patched, p_topright_original,
        p_topright_patched at B's dsq (coefficient `transfer_coeff`), cheese_distance
        (Chebyshev, world cells), near (cheese_distance <= near).
    levels: one row per level given (`VectorLevels.levels_table`).
    params: the settings (`CheeseVector`) and n_levels,
        n_used.
    examples: figure material (`FieldExample`s), not saved.
    """

    decision: pd.DataFrame
    controls: pd.DataFrame
    absent: pd.DataFrame
    transfer: pd.DataFrame
    levels: pd.DataFrame
    params: dict
    examples: tuple[FieldExample, ...] = figure_only()
    topic = "cheese_vector"
    settings_type = CheeseVector

    def _rows(self) -> list[dict]:
        """Per coefficient, `effects.change_rows` of P(cheese) and P(top-right) for the
        cheese vector and of P(cheese) for the random vector; the cheese-absent
        comparison (mean TV distances and published statistics with intervals, and the
        share of the cheese's own effect on the field that the edit removes); transfer
        near / far (per target level, the mean change over its source levels, then the
        bootstrap over target levels, since pairs sharing a level are not independent)."""
        common = {"seed": self.params["seed"], "n_boot": self.params["n_boot"]}
        rows = []
        for coeff, dec in self.decision.groupby("coeff", sort=True):
            random = self.controls[self.controls["coeff"] == coeff]
            for target in ("p_cheese", "p_topright"):
                rows += change_rows(target, edited("cheese vector", coeff),
                                    dec[f"{target}_original"], dec[f"{target}_patched"],
                                    **common)
            rows += change_rows("p_cheese", edited("random vector", coeff),
                                random["p_cheese_original"], random["p_cheese_random"],
                                **common)
        absent, field = self.absent, edited("cheese vector", self.params["field_coeff"])
        for a, b in PAIRS:
            for quantity, prefix in (("field_tv", "tv"), ("field_published_change", "pub")):
                rows.append(mean_ci(absent[f"{prefix}_{a}_{b}"], **common).row(
                    quantity, f"{a} vs {b}, {field}"))
        removed = 1 - absent["tv_patched_absent"] / absent["tv_original_absent"]
        rows.append(mean_ci(removed.replace([np.inf, -np.inf], np.nan), **common).row(
            "share_of_cheese_effect_removed", field))
        rows.append(mean_ci(absent["p_cheese_patched"] - absent["p_cheese_absent"],
                            **common).row("p_cheese_patched_minus_absent", field))
        for near, pairs in self.transfer.groupby("near"):
            condition = edited(f"transfer {'near' if near else 'far'}",
                               self.params["transfer_coeff"])
            rows.append(transfer_change(pairs, "p_cheese_original", "p_cheese_patched",
                                        **common).row("p_cheese_change", condition))
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """P(cheese) histograms before / after, mean change by coefficient, transfer by
        cheese distance, one vector-field panel per example level (original, patched,
        difference, cheese absent)."""
        from behavstats.plots import interventions as plots

        figures = {"p_cheese_histograms": lambda: plots.plot_probability_histograms(
                       self.decision, "p_cheese"),
                   "change_by_coeff": lambda: plots.plot_change_by_coeff(
                       self.summary(), self.params["coeffs"]),
                   "transfer": lambda: plots.plot_transfer(self.transfer)}
        for example in self.examples:
            figures[f"field_level{example.level}"] = (
                lambda e=example: plots.plot_cheese_fields(e.fields, e.observations,
                                                           title=f"level {e.level}"))
        return figures


def run_cheese_vector(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                      out_dir: str | Path | None = None, *, progress: bool = False,
                      batch: int = BATCH, **settings: Any) -> CheeseVectorResult:
    """`CheeseVector(**settings).run(policy, levels, out_dir)`: the experiment on the
    levels (seeds or mazes) that have a decision square. Raises NoUsableLevelsError
    without any."""
    return CheeseVector(**settings).run(policy, levels, out_dir, progress=progress,
                                        batch=batch)


def compute(settings: CheeseVector, policy: Policy, levels: Sequence[int] | Sequence[Maze],
            *, progress: bool = False, batch: int = BATCH) -> CheeseVectorResult:
    """The cheese-vector experiment (`CheeseVector.run`)."""
    s, layer, seed = settings, settings.layer, settings.seed
    lv = VectorLevels.of(policy, levels, mode=s.mode, layer=layer, batch=batch,
                         usable=lambda maze: True,
                         refusal="none of the levels has a decision square; pass more levels "
                                 "(about 60% of hard-mode levels have one)")
    dsq, coeffs = lv.dsq, np.asarray(s.coeffs, dtype=float)
    steps = tqdm(total=3 + -(-len(lv.chosen) // FIELD_GROUP), desc="cheese vector",
                 disable=not progress)
    vectors = cheese_vectors(policy, dsq.mazes, layer, lv.observer)
    randoms = torch.stack([random_like(v, stream(seed, Purpose.RANDOM_VECTOR, level))
                           for v, level in zip(vectors, dsq.ids, strict=True)])
    decision = lv.sweep(vectors, coeffs)[list(DECISION_COLUMNS)]
    controls = lv.sweep(randoms, coeffs, "random")
    steps.update()
    transfer, a, b = lv.transfer(vectors, s.transfer_coeff, s.transfer_levels)
    used = dsq.mazes
    distance = np.array([world_chebyshev(used[i], used[i].cheese, used[j], used[j].cheese)
                         for i, j in zip(a, b, strict=True)], dtype=int)
    transfer = transfer.assign(cheese_distance=distance, near=distance <= s.near)
    steps.update()
    absent, examples = _absent(policy, dsq, vectors, randoms, s.field_coeff, s.n_examples,
                               lv.observer, batch, steps)
    params = {**s.to_dict(), "n_levels": len(lv.mazes), "n_used": len(lv.chosen)}
    result = CheeseVectorResult(decision, controls, absent, transfer,
                                lv.levels_table(vectors), params, tuple(examples))
    steps.update()
    steps.close()
    return result


def _absent(policy: Policy, dsq: DecisionSquares, vectors: torch.Tensor, randoms: torch.Tensor,
            coeff: float, n_examples: int, observer: Observer, batch: int, bar: tqdm
            ) -> tuple[pd.DataFrame, list[FieldExample]]:
    """Whole fields: original, patched, random-vector and cheese-absent, per level."""
    rows, examples = [], []
    used, ids, pts, layer = dsq.mazes, dsq.ids, dsq.points, dsq.cache.layer
    for group, field_rows, cache in field_groups(policy, used, layer, observer, batch=batch):
        pairs = field_rows.pairs([used[i] for i in group])
        absent = frames([(remove_cheese(m), c) for m, c in pairs], observer)
        owner, cf = group[field_rows.owner], np.full(len(pairs), coeff)
        found = {"original": cache.probs(),
                 "absent": probs(policy, absent, batch=batch),
                 "patched": cache.probs(added(layer, (vectors, owner, cf))),
                 "random": cache.probs(added(layer, (randoms, owner, cf)))}
        split = {k: field_rows.split(v) for k, v in found.items()}
        for j, i in enumerate(group):
            p = {k: v[j] for k, v in split.items()}
            at_dsq = field_rows.cells[j].index(pts[i].cell)
            row = {"level": ids[i], "n_cells": len(field_rows.cells[j])}
            for a, b in PAIRS:
                row[f"tv_{a}_{b}"] = float(tv_distance(p[a], p[b]).mean())
                row[f"pub_{a}_{b}"] = published_change(p[a], p[b])
            for k in ("original", "patched", "absent"):
                row[f"p_cheese_{k}"] = float(p[k][at_dsq, pts[i].to_cheese])
            rows.append(row)
            if i < n_examples:
                maze, cells = used[i], field_rows.cells[j]
                fields = {k: VectorField(remove_cheese(maze) if k == "absent" else maze,
                                         cells, v) for k, v in p.items()}
                views = render([(maze, maze.start), (remove_cheese(maze), maze.start)],
                               observer)
                examples.append(FieldExample(ids[i], fields,
                                             {"maze": views[0], "absent": views[1]}))
        bar.update()
    return pd.DataFrame(rows), examples
