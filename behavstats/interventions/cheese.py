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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.env import Observer
from behavstats.geometry import decision_point, world_chebyshev
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
    probs,
    render,
)
from behavstats.interventions.output import write_outputs
from behavstats.interventions.vectors import cheese_vectors, random_like
from behavstats.maze import Maze
from behavstats.maze.edits import remove_cheese
from behavstats.policy import Policy
from behavstats.reference import reference_results
from behavstats.vfield import VectorField

DEFAULT_COEFFS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
DECISION_COLUMNS = ("level", "coeff", "p_cheese_original", "p_cheese_patched",
                    "p_topright_original", "p_topright_patched")
@dataclass
class CheeseVectorResult:
    """What `run_cheese_vector` measured.

    decision: one row per level and coefficient, `DECISION_COLUMNS`: probabilities at
        the dsq of the move towards the cheese / the top-right cell, unedited
        (original) and with `coeff * cheese vector` added (patched).
    controls: the same with the random vector: level, coeff, p_cheese_original,
        p_cheese_random, p_topright_original, p_topright_random.
    absent: one row per level, whole fields at coefficient `field_coeff`: n_cells;
        tv_<a>_<b> = mean over cells of the total-variation distance between the move
        distributions of conditions a and b, pub_<a>_<b> the published statistic
        (`effects.published_change`), for (patched, original), (patched, absent),
        (original, absent), (random, original); and at the dsq p_cheese_original,
        p_cheese_patched, p_cheese_absent (absent: cheese removed, no edit; "towards
        the cheese" = towards where it was).
    transfer: one row per ordered pair of distinct levels: level_a (vector's maze),
        level_b (applied in), cheese_distance (Chebyshev, world cells), near
        (cheese_distance <= near), p_cheese_original and p_cheese_patched at B's dsq.
    levels: one row per level given: level, maze_dim, has_dsq, cheese_x, cheese_y,
        dsq_x, dsq_y, vector_norm (L2 norm of its cheese vector; NaN if unused).
    summary: `summarise_cheese_vector` plus the run's parameters and the published
        figures.
    """

    decision: pd.DataFrame
    controls: pd.DataFrame
    absent: pd.DataFrame
    transfer: pd.DataFrame
    levels: pd.DataFrame
    summary: dict
    examples: list[FieldExample] = field(default_factory=list)


def run_cheese_vector(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                      out_dir: str | Path | None = None, *,
                      coeffs: Sequence[float] = DEFAULT_COEFFS, layer: str = VECTOR_LAYER,
                      field_coeff: float = -1.0, transfer_coeff: float = -1.0, near: int = 2,
                      transfer_levels: int | None = 100, n_examples: int = 3,
                      mode: str = "hard", seed: int = 0, n_boot: int = N_BOOT,
                      progress: bool = False, batch: int = BATCH) -> CheeseVectorResult:
    """Run the cheese-vector experiment on the levels (seeds or mazes) that have a
    decision square; with `out_dir`, also write it (`write_cheese_vector`).

    transfer_levels: transfer is measured between the first this many usable levels
    (all ordered pairs; None = all). Raises NoUsableLevelsError without any dsq.
    """
    mazes = as_mazes(levels, mode)
    points = [decision_point(m) for m in mazes]
    chosen = [i for i, p in enumerate(points) if p is not None]
    if not chosen:
        raise NoUsableLevelsError("none of the levels has a decision square; pass more levels "
                                  "(about 60% of hard-mode levels have one)")
    n, coeffs = len(chosen), np.asarray(coeffs, dtype=float)
    observer = Observer(batch=batch)
    steps = tqdm(total=3 + -(-n // FIELD_GROUP), desc="cheese vector", disable=not progress)

    dsq = DecisionSquares.of(policy, mazes, points, chosen, layer, observer, batch=batch)
    vectors = cheese_vectors(policy, dsq.mazes, layer, observer)
    randoms = torch.stack([random_like(v, [seed, level]) for v, level in zip(vectors, dsq.ids,
                                                                                strict=True)])
    owner, cf, patched = dsq.sweep(vectors, coeffs)
    _, _, random = dsq.sweep(randoms, coeffs)
    steps.update()
    original, to_cheese, to_tr = dsq.original, dsq.to_cheese, dsq.to_top_right
    rows = np.arange(len(owner))

    def pick(p: np.ndarray, moves: np.ndarray) -> np.ndarray:
        return p[rows, moves[owner]]

    base = {"level": np.array(dsq.ids)[owner], "coeff": cf,
            "p_cheese_original": original[owner, to_cheese[owner]],
            "p_topright_original": original[owner, to_tr[owner]]}
    decision = pd.DataFrame({**base, "p_cheese_patched": pick(patched, to_cheese),
                             "p_topright_patched": pick(patched, to_tr)})[list(DECISION_COLUMNS)]
    controls = pd.DataFrame({**base, "p_cheese_random": pick(random, to_cheese),
                             "p_topright_random": pick(random, to_tr)})

    transfer = _transfer(dsq, vectors, transfer_coeff, near, transfer_levels)
    steps.update()
    absent, examples = _absent(policy, dsq, vectors, randoms, field_coeff, n_examples,
                               observer, batch, steps)
    norms = dict(zip(chosen, vectors.flatten(1).norm(dim=1).tolist(), strict=True))
    level_rows = []
    for i, (maze, point) in enumerate(zip(mazes, points, strict=True)):
        level_rows.append({"level": level_id(maze, i), "maze_dim": maze.maze_dim,
                           "has_dsq": point is not None,
                           "cheese_x": maze.cheese[0] if maze.cheese else np.nan,
                           "cheese_y": maze.cheese[1] if maze.cheese else np.nan,
                           "dsq_x": point.cell[0] if point else np.nan,
                           "dsq_y": point.cell[1] if point else np.nan,
                           "vector_norm": norms.get(i, np.nan)})
    summary = {"layer": layer, "coeffs": coeffs.tolist(), "field_coeff": field_coeff,
               "transfer_coeff": transfer_coeff, "near": near, "seed": seed,
               "n_levels": len(mazes), "n_used": n,
               **summarise_cheese_vector(decision, controls, absent, transfer, seed=seed,
                                         n_boot=n_boot),
               "published": reference_results()["cheese_vector"]}
    result = CheeseVectorResult(decision, controls, absent, transfer,
                                pd.DataFrame(level_rows), summary, examples)
    if out_dir is not None:
        write_cheese_vector(result, out_dir)
    steps.update()
    steps.close()
    return result


def _transfer(dsq: DecisionSquares, vectors: torch.Tensor, coeff: float, near: int,
              transfer_levels: int | None) -> pd.DataFrame:
    """Vector of level a applied at level b's dsq, for every ordered pair a != b."""
    a, b, patched = dsq.transfer(vectors, coeff, transfer_levels)
    used, ids, to_cheese = dsq.mazes, np.array(dsq.ids, dtype=int), dsq.to_cheese
    distance = np.array([world_chebyshev(used[i], used[i].cheese, used[j], used[j].cheese)
                         for i, j in zip(a, b, strict=True)], dtype=int)
    return pd.DataFrame({"level_a": ids[a], "level_b": ids[b],
                         "cheese_distance": distance, "near": distance <= near,
                         "p_cheese_original": dsq.original[b, to_cheese[b]],
                         "p_cheese_patched": patched[np.arange(len(b)), to_cheese[b]]})


def _absent(policy: Policy, dsq: DecisionSquares, vectors: torch.Tensor, randoms: torch.Tensor,
            coeff: float, n_examples: int, observer: Observer, batch: int, bar: tqdm
            ) -> tuple[pd.DataFrame, list[FieldExample]]:
    """Whole fields: original, patched, random-vector and cheese-absent, per level."""
    rows, examples = [], []
    used, ids, pts, layer = dsq.mazes, dsq.ids, dsq.points, dsq.cache.layer
    for group, field_rows, cache in field_groups(policy, used, layer, observer, batch=batch):
        pairs = field_rows.pairs([used[i] for i in group])
        absent = render([(remove_cheese(m), c) for m, c in pairs], observer)
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
            for a, b in (("patched", "original"), ("patched", "absent"),
                         ("original", "absent"), ("random", "original")):
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


def summarise_cheese_vector(decision: pd.DataFrame, controls: pd.DataFrame,
                            absent: pd.DataFrame, transfer: pd.DataFrame, *, seed: int = 0,
                            n_boot: int = N_BOOT) -> dict:
    """The summary: per coefficient, `effects.change_summary` of P(cheese) and of
    P(top-right) for the cheese vector and of P(cheese) for the random vector; the
    cheese-absent comparison (mean TV distances with intervals, and the share of the
    cheese's own effect on the field that the edit removes); transfer near / far
    (per target level, the mean change over its source levels, then the bootstrap
    over target levels, since pairs sharing a level are not independent)."""
    by_coeff = []
    for coeff, rows in decision.groupby("coeff", sort=True):
        random = controls[controls["coeff"] == coeff]
        by_coeff.append({
            "coeff": float(coeff),
            "p_cheese": change_summary(rows["p_cheese_original"], rows["p_cheese_patched"],
                                       seed=seed, n_boot=n_boot),
            "p_topright": change_summary(rows["p_topright_original"],
                                         rows["p_topright_patched"], seed=seed, n_boot=n_boot),
            "p_cheese_random": change_summary(random["p_cheese_original"],
                                              random["p_cheese_random"], seed=seed,
                                              n_boot=n_boot)})
    tv = {c: mean_ci(absent[c], seed=seed, n_boot=n_boot)
          for c in absent.columns if c.startswith(("tv_", "pub_"))}
    removed = 1 - absent["tv_patched_absent"] / absent["tv_original_absent"]
    absent_summary = {
        **tv,
        "share_of_cheese_effect_removed": mean_ci(removed.replace([np.inf, -np.inf], np.nan),
                                                  seed=seed, n_boot=n_boot),
        "p_cheese_patched_minus_absent": mean_ci(absent["p_cheese_patched"]
                                                 - absent["p_cheese_absent"], seed=seed,
                                                 n_boot=n_boot)}
    transfer_summary = {
        "near" if name else "far": transfer_change(rows, "p_cheese_original",
                                                   "p_cheese_patched", seed=seed, n_boot=n_boot)
        for name, rows in transfer.groupby("near")}
    return {"by_coeff": by_coeff, "absent": absent_summary, "transfer": transfer_summary}


def summary_table(result: CheeseVectorResult) -> pd.DataFrame:
    """One row per coefficient and vector (cheese / random): the P(cheese) change
    summary, flat for a CSV."""
    rows = []
    for entry in result.summary["by_coeff"]:
        for vector, key in (("cheese", "p_cheese"), ("random", "p_cheese_random")):
            rows.append({"coeff": entry["coeff"], "vector": vector, **entry[key]})
    return pd.DataFrame(rows)


def write_cheese_vector(result: CheeseVectorResult, out_dir: str | Path) -> list[Path]:
    """decision_probs.csv, controls.csv, absent.csv, transfer.csv, levels.csv,
    summary.csv, summary.json and the figures: P(cheese) histograms before / after,
    mean change by coefficient, transfer by cheese distance, and one vector-field
    panel per example level (original, patched, difference, cheese absent)."""
    from behavstats.plots import interventions as plots

    figures = {"p_cheese_histograms": lambda: plots.plot_probability_histograms(
                   result.decision, "p_cheese"),
               "change_by_coeff": lambda: plots.plot_change_by_coeff(result.summary),
               "transfer": lambda: plots.plot_transfer(result.transfer)}
    for example in result.examples:
        figures[f"field_level{example.level}"] = (
            lambda e=example: plots.plot_cheese_fields(e.fields, e.observations,
                                                       title=f"level {e.level}"))
    tables = {"decision_probs": result.decision, "controls": result.controls,
              "absent": result.absent, "transfer": result.transfer, "levels": result.levels,
              "summary": summary_table(result)}
    return write_outputs(out_dir, tables, result.summary, figures)
