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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.env import Observer
from behavstats.geometry import decision_point, first_moves
from behavstats.hooks import VECTOR_LAYER
from behavstats.interventions.effects import (
    N_BOOT,
    change_summary,
    mean_ci,
    published_change,
    transfer_change,
    tv_distance,
)
from behavstats.interventions.forward import (
    BATCH,
    FIELD_GROUP,
    DecisionSquares,
    FieldExample,
    NoUsableLevelsError,
    added,
    as_mazes,
    field_groups,
    level_id,
    render,
)
from behavstats.interventions.output import write_outputs
from behavstats.interventions.vectors import (
    cheese_vectors,
    corridor_is_empty,
    top_right_vectors,
)
from behavstats.maze import Cell, Maze
from behavstats.policy import Policy
from behavstats.reference import reference_results
from behavstats.vfield import VectorField

DEFAULT_COEFFS = (-1.0, 0.5, 1.0, 2.0, 5.0, 10.0)
CONDITIONS = ("none", "cheese", "top_right", "both")
@dataclass
class TopRightResult:
    """What `run_top_right_vector` measured.

    decision: one row per level and coefficient: level, coeff, p_topright_original,
        p_topright_patched, p_cheese_original, p_cheese_patched (at the dsq).
    fields: one row per level and coefficient: level, coeff, n_cells, tv (mean per-cell
        total-variation distance patched vs original), pub (`published_change`),
        toward_tr_original, toward_tr_patched (mean over cells of P(move towards the
        top-right cell), the top-right cell itself left out).
    transfer: one row per ordered pair of distinct levels: level_a (vector's maze),
        level_b (applied in), maze_dim_a, maze_dim_b, p_topright_original,
        p_topright_patched (coefficient `top_right_coeff`, at B's dsq).
    composition: one row per level and condition (`CONDITIONS`): level, condition,
        p_cheese, p_topright at the dsq (cheese vector at `cheese_coeff`, top-right
        vector at `top_right_coeff`).
    levels: one row per level given: level, maze_dim, has_dsq, corridor_empty, used,
        vector_norm (NaN if unused).
    """

    decision: pd.DataFrame
    fields: pd.DataFrame
    transfer: pd.DataFrame
    composition: pd.DataFrame
    levels: pd.DataFrame
    summary: dict
    examples: list[FieldExample] = field(default_factory=list)


def run_top_right_vector(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                         out_dir: str | Path | None = None, *,
                         coeffs: Sequence[float] = DEFAULT_COEFFS, layer: str = VECTOR_LAYER,
                         top_right_coeff: float = 1.0, cheese_coeff: float = -1.0,
                         transfer_levels: int | None = 30, n_examples: int = 3,
                         mode: str = "hard", seed: int = 0, n_boot: int = N_BOOT,
                         progress: bool = False, batch: int = BATCH) -> TopRightResult:
    """Run the top-right-vector experiment on the levels (seeds or mazes) with a
    decision square and a non-empty corridor; with `out_dir`, also write it.

    top_right_coeff: coefficient of the transfer and composition runs (and of the
    example figures); transfer_levels: transfer among the first this many usable
    levels (None = all). Raises NoUsableLevelsError when no level is usable.
    """
    mazes = as_mazes(levels, mode)
    points = [decision_point(m) for m in mazes]
    empty = [corridor_is_empty(m) for m in mazes]
    chosen = [i for i, p in enumerate(points) if p is not None and not empty[i]]
    if not chosen:
        raise NoUsableLevelsError("no level has both a decision square and room for a "
                                  "top-right corridor (maze smaller than the world)")
    n, coeffs = len(chosen), np.asarray(coeffs, dtype=float)
    observer = Observer(batch=batch)
    steps = tqdm(total=3 + -(-n // FIELD_GROUP), desc="top-right vector",
                 disable=not progress)

    dsq = DecisionSquares.of(policy, mazes, points, chosen, layer, observer, batch=batch)
    used, ids = dsq.mazes, dsq.ids
    vectors = top_right_vectors(policy, used, layer, observer)
    original, to_cheese, to_tr = dsq.original, dsq.to_cheese, dsq.to_top_right
    owner, cf, patched = dsq.sweep(vectors, coeffs)
    rows = np.arange(len(owner))
    decision = pd.DataFrame({
        "level": np.array(ids)[owner], "coeff": cf,
        "p_topright_original": original[owner, to_tr[owner]],
        "p_topright_patched": patched[rows, to_tr[owner]],
        "p_cheese_original": original[owner, to_cheese[owner]],
        "p_cheese_patched": patched[rows, to_cheese[owner]]})
    steps.update()

    a, b, moved = dsq.transfer(vectors, top_right_coeff, transfer_levels)
    dims = np.array([mz.maze_dim for mz in used])
    transfer = pd.DataFrame({"level_a": np.array(ids)[a], "level_b": np.array(ids)[b],
                             "maze_dim_a": dims[a], "maze_dim_b": dims[b],
                             "p_topright_original": original[b, to_tr[b]],
                             "p_topright_patched": moved[np.arange(len(b)), to_tr[b]]})

    cheese = cheese_vectors(policy, used, layer, observer)
    four = np.tile(np.arange(n), len(CONDITIONS))
    condition = np.repeat(np.array(CONDITIONS), n)
    c_cheese = np.where(np.isin(condition, ("cheese", "both")), cheese_coeff, 0.0)
    c_tr = np.where(np.isin(condition, ("top_right", "both")), top_right_coeff, 0.0)
    composed = dsq.cache.probs(added(layer, (cheese, four, c_cheese), (vectors, four, c_tr)),
                               index=four)
    r4 = np.arange(len(four))
    composition = pd.DataFrame({"level": np.array(ids)[four], "condition": condition,
                                "p_cheese": composed[r4, to_cheese[four]],
                                "p_topright": composed[r4, to_tr[four]]})
    steps.update()

    fields, examples = _fields(policy, used, ids, vectors, coeffs, layer, top_right_coeff,
                               n_examples, observer, batch, steps)
    norms = dict(zip(chosen, vectors.flatten(1).norm(dim=1).tolist(), strict=True))
    level_table = pd.DataFrame([{"level": level_id(mz, i), "maze_dim": mz.maze_dim,
                                 "has_dsq": points[i] is not None,
                                 "corridor_empty": empty[i], "used": i in norms,
                                 "vector_norm": norms.get(i, np.nan)}
                                for i, mz in enumerate(mazes)])
    summary = {"layer": layer, "coeffs": coeffs.tolist(), "top_right_coeff": top_right_coeff,
               "cheese_coeff": cheese_coeff, "seed": seed, "n_levels": len(mazes),
               "n_used": n, "n_corridor_empty": int(sum(empty)),
               **summarise_top_right(decision, fields, transfer, composition, seed=seed,
                                     n_boot=n_boot),
               "published": reference_results()["top_right_vector"]}
    result = TopRightResult(decision, fields, transfer, composition, level_table, summary,
                            examples)
    if out_dir is not None:
        write_top_right(result, out_dir)
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


def summarise_top_right(decision: pd.DataFrame, fields: pd.DataFrame, transfer: pd.DataFrame,
                        composition: pd.DataFrame, *, seed: int = 0, n_boot: int = N_BOOT
                        ) -> dict:
    """Per coefficient: change summaries of P(top-right) and P(cheese) at the dsq, mean
    field TV and mean change of toward_tr with intervals; transfer (per target level
    mean change, bootstrapped over target levels) overall and by whether the source
    maze is at least as large; composition means per condition and the interaction
    (both - cheese - top_right + none) per level with intervals."""
    by_coeff = []
    for coeff, rows in decision.groupby("coeff", sort=True):
        f = fields[fields["coeff"] == coeff]
        by_coeff.append({
            "coeff": float(coeff),
            "p_topright": change_summary(rows["p_topright_original"],
                                         rows["p_topright_patched"], seed=seed, n_boot=n_boot),
            "p_cheese": change_summary(rows["p_cheese_original"], rows["p_cheese_patched"],
                                       seed=seed, n_boot=n_boot),
            "field_tv": mean_ci(f["tv"], seed=seed, n_boot=n_boot),
            "field_toward_tr_change": mean_ci(f["toward_tr_patched"] - f["toward_tr_original"],
                                              seed=seed, n_boot=n_boot)})

    def transfer_summary(rows: pd.DataFrame) -> dict:
        return transfer_change(rows, "p_topright_original", "p_topright_patched", seed=seed,
                               n_boot=n_boot)

    larger = transfer["maze_dim_a"] >= transfer["maze_dim_b"]
    wide = composition.pivot(index="level", columns="condition")
    interaction = {}
    for p in ("p_cheese", "p_topright"):
        w = wide[p]
        interaction[p] = mean_ci(w["both"] - w["cheese"] - w["top_right"] + w["none"],
                                 seed=seed, n_boot=n_boot)
    return {"by_coeff": by_coeff,
            "transfer": {"all": transfer_summary(transfer),
                         "source_at_least_as_large": transfer_summary(transfer[larger]),
                         "source_smaller": transfer_summary(transfer[~larger])},
            "composition": {c: {p: mean_ci(rows[p], seed=seed, n_boot=n_boot)
                                for p in ("p_cheese", "p_topright")}
                            for c, rows in composition.groupby("condition")},
            "interaction": interaction}


def summary_table(result: TopRightResult) -> pd.DataFrame:
    """One row per coefficient: P(top-right) change summary and field metrics."""
    rows = []
    for e in result.summary["by_coeff"]:
        rows.append({"coeff": e["coeff"], **{f"p_topright_{k}": v for k, v in
                                             e["p_topright"].items()},
                     "field_tv": e["field_tv"]["mean"],
                     "field_toward_tr_change": e["field_toward_tr_change"]["mean"],
                     "field_toward_tr_ci_low": e["field_toward_tr_change"]["ci_low"],
                     "field_toward_tr_ci_high": e["field_toward_tr_change"]["ci_high"]})
    return pd.DataFrame(rows)


def write_top_right(result: TopRightResult, out_dir: str | Path) -> list[Path]:
    """decision_probs.csv, fields.csv, transfer.csv, composition.csv, levels.csv,
    summary.csv, summary.json and the figures: P(top-right) histograms, change by
    coefficient, composition, and one vector-field triptych per example level."""
    from behavstats.plots import interventions as plots

    figures = {"p_topright_histograms": lambda: plots.plot_probability_histograms(
                   result.decision, "p_topright"),
               "change_by_coeff": lambda: plots.plot_top_right_sweep(result.summary),
               "composition": lambda: plots.plot_composition(result.composition)}
    for example in result.examples:
        figures[f"field_level{example.level}"] = (
            lambda e=example: plots.plot_field_triptych(
                e.fields["original"], e.fields["patched"], e.observations["maze"],
                title=f"level {e.level}, top-right vector x {result.summary['top_right_coeff']}"))
    tables = {"decision_probs": result.decision, "fields": result.fields,
              "transfer": result.transfer, "composition": result.composition,
              "levels": result.levels, "summary": summary_table(result)}
    return write_outputs(out_dir, tables, result.summary, figures)
