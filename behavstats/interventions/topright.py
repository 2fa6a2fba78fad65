"""The top-right-vector experiment: coefficient sweep, whole-field change, transfer
across mazes, and composition with the cheese vector.

For each maze with a decision square (dsq) whose top-right corridor is not empty
(`vectors.corridor_is_empty`: 25 x 25 hard-mode mazes fill the world, get no corridor
and are skipped and flagged), its top-right vector is added as
`activation + coeff * vector` to every forward pass in that maze. Measured: the
probability of the move towards the maze's top-right cell (and towards the cheese) at
the dsq, and over the whole vector field the mean total-variation change and the
mean probability of the move that starts each cell's shortest path to the top-right
cell ("toward_tr"). Transfer: maze A's vector applied in maze B. Composition: none /
cheese vector only / top-right vector only / both, at the dsq; additive effects give
an interaction (both - cheese - top_right + none) of zero.
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

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.experiments import TopRightVector
from behavstats.geometry import first_moves
from behavstats.interventions.effects import (
    change_rows,
    mean_ci,
    published_change,
    transfer_change,
    tv_distance,
)
from behavstats.interventions.forward import (
    FieldExample,
    added,
    field_groups,
)
from behavstats.interventions.vector_levels import DECISION_COLUMNS, VectorLevels
from behavstats.interventions.vectors import (
    cheese_vectors,
    corridor_is_empty,
    top_right_vectors,
)
from behavstats.maze import Cell, Maze
from behavstats.policy import Policy
from behavstats.quantities import edited
from behavstats.results import Result, figure_only
from behavstats.vfield import FIELD_GROUP, VectorField

DEFAULT_COEFFS = TopRightVector.default("coeffs")
CONDITIONS = ("none", "cheese", "top_right", "both")


@dataclass(frozen=True, eq=False)
class TopRightResult(Result):
    """What `TopRightVector.run` (`run_top_right_vector`) measured.

    decision: one row per level and coefficient, `DECISION_COLUMNS` (patched: with
        coeff x the level's top-right vector), at the dsq.
    fields: one row per level and coefficient: level, coeff, n_cells, tv (mean per-cell
        total-variation distance patched vs original), pub (`published_change`),
        toward_tr_original, toward_tr_patched (mean over cells of P(move towards the
        top-right cell), the top-right cell itself left out).
    transfer: one row per ordered pair of distinct levels: level_a (vector's maze),
        level_b (applied in), p_cheese_original, p_cheese_patched, p_topright_original,
        p_topright_patched (coefficient `top_right_coeff`, at B's dsq), maze_dim_a,
        maze_dim_b.
    composition: one row per level and condition (`CONDITIONS`): level, condition,
        p_cheese, p_topright at the dsq (cheese vector at `cheese_coeff`, top-right
        vector at `top_right_coeff`).
    levels: one row per level given (`VectorLevels.levels_table`) plus corridor_empty.
    params: the settings (`TopRightVector`) and n_levels, n_used, n_corridor_empty.
    examples: figure material (`FieldExample`s), not saved.
    """

    decision: pd.DataFrame
    fields: pd.DataFrame
    transfer: pd.DataFrame
    composition: pd.DataFrame
    levels: pd.DataFrame
    params: dict
    examples: tuple[FieldExample, ...] = figure_only()
    topic = "top_right_vector"
    settings_type = TopRightVector

    def _rows(self) -> list[dict]:
        """Per coefficient: change rows of P(top-right) and P(cheese) at the dsq, mean
        field TV and mean change of toward_tr with intervals; transfer (per target level
        mean change, bootstrapped over target levels) overall and by whether the source
        maze is at least as large; composition means per condition and the interaction
        (both - cheese - top_right + none) per level with intervals."""
        common = {"seed": self.params["seed"], "n_boot": self.params["n_boot"]}
        rows = []
        for coeff, dec in self.decision.groupby("coeff", sort=True):
            f, condition = self.fields[self.fields["coeff"] == coeff], edited(
                "top-right vector", coeff)
            for target in ("p_topright", "p_cheese"):
                rows += change_rows(target, condition, dec[f"{target}_original"],
                                    dec[f"{target}_patched"], **common)
            rows += [mean_ci(f["tv"], **common).row("field_tv", condition),
                     mean_ci(f["toward_tr_patched"] - f["toward_tr_original"], **common
                             ).row("field_toward_tr_change", condition)]
        larger = self.transfer["maze_dim_a"] >= self.transfer["maze_dim_b"]
        for name, pairs in (("transfer", self.transfer),
                            ("transfer from at least as large", self.transfer[larger]),
                            ("transfer from smaller", self.transfer[~larger])):
            rows.append(transfer_change(pairs, "p_topright_original", "p_topright_patched",
                                        **common).row("p_topright_change",
                                                      edited(name, self.params["top_right_coeff"])))
        for condition, comp in self.composition.groupby("condition"):
            rows += [mean_ci(comp[p], **common).row(p, f"composition: {condition}")
                     for p in ("p_cheese", "p_topright")]
        wide = self.composition.pivot(index="level", columns="condition")
        both = (f"cheese vector x {self.params['cheese_coeff']:g} + "
                f"top-right vector x {self.params['top_right_coeff']:g}")
        for p in ("p_cheese", "p_topright"):
            w = wide[p]
            rows.append(mean_ci(w["both"] - w["cheese"] - w["top_right"] + w["none"],
                                **common).row(f"{p}_interaction", both))
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """P(top-right) histograms, change by coefficient, composition, and one
        vector-field triptych per example level."""
        from behavstats.plots import interventions as plots

        figures = {"p_topright_histograms": lambda: plots.plot_probability_histograms(
                       self.decision, "p_topright"),
                   "change_by_coeff": lambda: plots.plot_top_right_sweep(
                       self.summary(), self.params["coeffs"]),
                   "composition": lambda: plots.plot_composition(self.composition)}
        coeff = self.params["top_right_coeff"]
        for example in self.examples:
            figures[f"field_level{example.level}"] = (
                lambda e=example: plots.plot_field_triptych(
                    e.fields["original"], e.fields["patched"], e.observations["maze"],
                    title=f"level {e.level}, top-right vector x {coeff}"))
        return figures


def run_top_right_vector(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                         out_dir: str | Path | None = None, *, progress: bool = False,
                         batch: int = BATCH, **settings: Any) -> TopRightResult:
    """`TopRightVector(**settings).run(policy, levels, out_dir)`: the experiment on the
    levels (seeds or mazes) with a decision square and a non-empty corridor. Raises
    NoUsableLevelsError when no level is usable."""
    return TopRightVector(**settings).run(policy, levels, out_dir, progress=progress,
                                          batch=batch)


def compute(settings: TopRightVector, policy: Policy,
            levels: Sequence[int] | Sequence[Maze], *, progress: bool = False,
            batch: int = BATCH) -> TopRightResult:
    """The top-right-vector experiment (`TopRightVector.run`)."""
    layer, top_right_coeff = settings.layer, settings.top_right_coeff
    lv = VectorLevels.of(policy, levels, mode=settings.mode, layer=layer, batch=batch,
                         usable=lambda maze: not corridor_is_empty(maze),
                         refusal="no level has both a decision square and room for a "
                                 "top-right corridor (maze smaller than the world)")
    dsq, coeffs = lv.dsq, np.asarray(settings.coeffs, dtype=float)
    n, used, ids = len(lv.chosen), dsq.mazes, dsq.ids
    steps = tqdm(total=3 + -(-n // FIELD_GROUP), desc="top-right vector",
                 disable=not progress)
    vectors = top_right_vectors(policy, used, layer, lv.observer)
    decision = lv.sweep(vectors, coeffs)[list(DECISION_COLUMNS)]
    steps.update()

    transfer, a, b = lv.transfer(vectors, top_right_coeff, settings.transfer_levels)
    dims = np.array([mz.maze_dim for mz in used])
    transfer = transfer.assign(maze_dim_a=dims[a], maze_dim_b=dims[b])

    cheese = cheese_vectors(policy, used, layer, lv.observer)
    four = np.tile(np.arange(n), len(CONDITIONS))
    condition = np.repeat(np.array(CONDITIONS), n)
    c_cheese = np.where(np.isin(condition, ("cheese", "both")), settings.cheese_coeff, 0.0)
    c_tr = np.where(np.isin(condition, ("top_right", "both")), top_right_coeff, 0.0)
    composed = dsq.cache.probs(added(layer, (cheese, four, c_cheese), (vectors, four, c_tr)),
                               index=four)
    r4 = np.arange(len(four))
    composition = pd.DataFrame({"level": np.array(ids)[four], "condition": condition,
                                "p_cheese": composed[r4, dsq.to_cheese[four]],
                                "p_topright": composed[r4, dsq.to_top_right[four]]})
    steps.update()

    fields, examples = _fields(policy, used, ids, vectors, coeffs, layer, top_right_coeff,
                               settings.n_examples, lv.observer, batch, steps)
    empty = [corridor_is_empty(m) for m in lv.mazes]
    params = {**settings.to_dict(), "n_levels": len(lv.mazes), "n_used": n,
              "n_corridor_empty": int(sum(empty))}
    result = TopRightResult(decision, fields, transfer, composition,
                            lv.levels_table(vectors, corridor_empty=empty), params,
                            tuple(examples))
    steps.update()
    steps.close()
    return result


def _towards_top_right(maze: Maze, cells: list[Cell]) -> np.ndarray:
    """The move from each cell towards the top-right cell (-1 at that cell itself and
    at cells that cannot reach it)."""
    moves = first_moves(maze, maze.top_right)
    return np.array([moves.get(cell, -1) for cell in cells], dtype=int)


def _fields(policy: Policy, used: list[Maze], ids: list[int], vectors: torch.Tensor,
            coeffs: np.ndarray, layer: str, example_coeff: float, n_examples: int,
            observer: Observer, batch: int, bar: tqdm) -> tuple[pd.DataFrame, list[FieldExample]]:
    """Whole fields of every level at every coefficient (and the example coefficient)."""
    rows, examples = [], []
    all_coeffs = list(dict.fromkeys([*coeffs.tolist(), example_coeff]))
    for group, field_rows, cache in field_groups(policy, used, layer, observer, batch=batch):
        toward = np.concatenate([_towards_top_right(used[i], cells)
                                 for i, cells in zip(group, field_rows.cells, strict=True)])
        original = field_rows.split(cache.probs())
        moves = field_rows.split(toward)
        owner = group[field_rows.owner]
        for coeff in all_coeffs:
            patched = field_rows.split(cache.probs(added(
                layer, (vectors, owner, np.full(len(owner), coeff)))))
            for j, i in enumerate(group):
                if coeff in coeffs:
                    ok = moves[j] >= 0
                    cells = np.flatnonzero(ok)
                    rows.append({
                        "level": ids[i], "coeff": coeff, "n_cells": len(moves[j]),
                        "tv": float(tv_distance(patched[j], original[j]).mean()),
                        "pub": published_change(patched[j], original[j]),
                        "toward_tr_original": float(original[j][cells, moves[j][ok]].mean()),
                        "toward_tr_patched": float(patched[j][cells, moves[j][ok]].mean())})
                if coeff == example_coeff and i < n_examples:
                    maze, cells = used[i], field_rows.cells[j]
                    examples.append(FieldExample(
                        ids[i], {"original": VectorField(maze, cells, original[j]),
                                 "patched": VectorField(maze, cells, patched[j])},
                        {"maze": render([(maze, maze.start)], observer)[0]}))
        bar.update()
    return pd.DataFrame(rows), examples
