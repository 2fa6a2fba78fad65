"""Value maps: the policy's value estimate at every free cell of a maze.

The sibling of `behavstats.vfield`: the same cells (every free cell but the cheese's,
`vfield.field_cells`), the mouse put on each, observations rendered through procgen
and forwarded in shared batches by the engine up to the 256 features both heads read
(`policy.HIDDEN_LAYER`), then through the value head `fc_value`: the number
`Policy.forward` returns as its value, cell by cell.

The experiment (`ValueMaps`): on each level, the value map with the cheese present,
absent (removed; the same cells, so the cheese's own cell stays out) and present under
`coeff` x the maze's cheese vector at `layer` (`interventions.vectors.cheese_vectors`,
the cheese-vector experiment's edit), then the mean value by steps to the cheese (to
where it was, in the absent condition) and to the top-right cell: per level the mean
over its cells at each distance, then the bootstrap over levels.

A policy trained only by behaviour cloning (the shipped agents) never trained its value
head: its value is the randomly initialised head read off the policy's features, and
the maps say what those features carry, not what the agent expects to earn. The
result records which (`params["value_head"]`, `value_head`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from behavstats.engine import BATCH, LayerCache, forward
from behavstats.env import Observer, frames, observe
from behavstats.experiments import ValueMaps
from behavstats.geometry import distances
from behavstats.interventions.effects import estimate_ci, mean_ci
from behavstats.interventions.forward import added, as_mazes
from behavstats.interventions.vectors import cheese_vectors
from behavstats.maze import Cell, Maze
from behavstats.maze.edits import remove_cheese
from behavstats.maze.model import level_id
from behavstats.policy import HIDDEN_LAYER, Policy
from behavstats.results import Result, figure_only
from behavstats.stats.multiplicity import bh_qvalues, family_row, sign_flip_pvalues
from behavstats.vfield import MazeInterventions, VectorField, field_observations, vector_fields
from behavstats.vocabulary import VALUE_CONDITIONS, edited

PRESENT, ABSENT, CHEESE_VECTOR = VALUE_CONDITIONS
TARGETS = {"cheese": "steps to the cheese", "top_right": "steps to the top-right cell"}
"""The distances the value is read against: column steps_<key> of the cells table."""
FAMILY = "value map"
"""The value maps' family of tests, as its summary row names it."""
EXAMPLE_DIM = 9
"""Example levels are the first with mazes at least this wide (then smaller ones)."""
MIN_LEVELS = 10
"""Distances with fewer levels than this are left out of the by-steps figure."""


@dataclass(frozen=True)
class ValueMap:
    """The value estimate `values` (N,) at `cells` of `maze` (the vector field's cells)."""

    maze: Maze
    cells: list[Cell]
    values: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Columns x, y, value; one row per cell."""
        return pd.DataFrame({"x": [c[0] for c in self.cells], "y": [c[1] for c in self.cells],
                             "value": self.values})

    def at(self, cell: Cell) -> float:
        """The value with the mouse on one cell."""
        return float(self.values[self.cells.index(tuple(cell))])

    def __sub__(self, other: ValueMap) -> ValueMap:
        """Cell-wise difference (same cells required)."""
        if self.cells != other.cells:
            raise ValueError("value maps cover different cells; compare maps of the same maze")
        return ValueMap(self.maze, self.cells, self.values - other.values)


def values(policy: Policy, inputs, interventions=(), *, start: str | None = None,
           batch: int = BATCH) -> np.ndarray:
    """The value head's output (rows,) for `engine.forward`'s rows (observations,
    `Frames`, or activations at `start`), under the interventions."""
    hidden = forward(policy, inputs, interventions, start=start, stop=HIDDEN_LAYER,
                     batch=batch)
    with torch.inference_mode():
        return policy.fc_value(hidden).squeeze(-1).numpy()


def value_maps(policy: Policy, mazes: Sequence[Maze], interventions: MazeInterventions = (),
               *, observer: Observer | None = None, batch: int = BATCH) -> list[ValueMap]:
    """Value maps of many mazes, in shared batches as `vfield.vector_fields` (a per-maze
    interventions function runs maze by maze)."""
    mazes, per_maze = list(mazes), callable(interventions)
    maps = []
    for group, rows, obs in field_observations(mazes, observer, 1 if per_maze else 4):
        members = [mazes[i] for i in group]
        edits = interventions(members[0]) if per_maze else interventions
        computed = values(policy, obs, edits, batch=batch)
        maps.extend(ValueMap(m, cells, v) for m, cells, v
                    in zip(members, rows.cells, rows.split(computed), strict=True))
    return maps


def value_map(policy: Policy, maze: Maze, interventions: MazeInterventions = (), *,
              observer: Observer | None = None) -> ValueMap:
    """The value map of one maze (`value_maps` of a list of one)."""
    return value_maps(policy, [maze], interventions, observer=observer)[0]


def value_head(policy: Policy) -> str:
    """'trained' when the policy's training record (or a warm start's) includes PPO,
    'untrained' when it records training without it (behaviour cloning never trains
    the value head), 'unknown' without a record (e.g. a published PPO checkpoint)."""
    training = policy.metadata.get("training")
    if not training:
        return "unknown"
    while training:
        if "ppo" in str(training.get("method", "")) or "ppo" in training:
            return "trained"
        training = training.get("warm_start")
    return "untrained"


@dataclass
class ValueExample:
    """Figure material of one level: its value maps by condition, its vector field (cheese
    present) and its observation with the mouse at the start."""

    level: int
    maps: dict[str, ValueMap]
    field: VectorField
    observation: np.ndarray


@dataclass(frozen=True, eq=False)
class ValueMapsResult(Result):
    """What `ValueMaps.run` measured.

    cells: one row per level, condition (`VALUE_CONDITIONS`) and cell: level, condition,
        x, y, value, steps_cheese (path steps to the cheese's cell), steps_top_right.
    levels: one row per level: level, maze_dim, n_cells, cheese_x, cheese_y, and per
        condition value_<condition> (mean over the cells) and spearman_<target>_<condition>
        (Spearman correlation over the cells of value with steps_<target>; NaN below 3
        cells or for a constant map).
    by_steps: condition, target (cheese, top_right), steps, estimate (mean over levels of
        each level's mean value at that distance), ci_low, ci_high (bootstrap over levels),
        n (levels).
    params: the settings (`ValueMaps`), n_levels, value_head (`value_head`).
    examples: figure material (`ValueExample`s), not saved.
    """

    cells: pd.DataFrame
    levels: pd.DataFrame
    by_steps: pd.DataFrame
    params: dict
    examples: tuple[ValueExample, ...] = figure_only()
    topic = "value_maps"
    settings_type = ValueMaps

    def condition(self, name: str) -> str:
        """A condition in the summary's words."""
        return edited("cheese vector", self.params["coeff"]) if name == CHEESE_VECTOR else \
            {PRESENT: "cheese present", ABSENT: "cheese removed"}[name]

    def _rows(self) -> list[dict]:
        """The mean value per condition; the change of the mean value when the cheese is
        removed and under the cheese vector; the mean over levels of the Spearman
        correlation of value with steps to the cheese and to the top-right cell per
        condition. The changes and correlations are tested against 0 (sign-flip over
        levels) and are one family."""
        common = {"seed": self.params["seed"], "n_boot": self.params["n_boot"]}
        lv = self.levels
        rows = [mean_ci(lv[f"value_{c}"], **common).row("value", self.condition(c))
                for c in VALUE_CONDITIONS]
        tested = [(c, lv[f"value_{c}"] - lv[f"value_{PRESENT}"], "value_change")
                  for c in (ABSENT, CHEESE_VECTOR)]
        tested += [(c, lv[f"spearman_{t}_{c}"], f"value_spearman_steps_{t}")
                   for t in TARGETS for c in VALUE_CONDITIONS]
        samples = [np.asarray(v, dtype=float) for _, v, _ in tested]
        p = sign_flip_pvalues(samples, seed=self.params["seed"])
        q = bh_qvalues(p)
        for (c, sample, quantity), pi, qi in zip(tested, p, q, strict=True):
            tested_estimate = replace(mean_ci(sample, **common), p_value=pi, q_value=qi)
            rows.append(tested_estimate.row(quantity, self.condition(c)))
        return [*rows, family_row(FAMILY, q)]

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Mean value by steps to the cheese and to the top-right, one line per
        condition; per example level its vector field beside its value maps."""
        from behavstats.plots import maps as plots

        figures = {"value_by_steps": lambda: plots.plot_value_by_steps(
            self.by_steps, {c: self.condition(c) for c in VALUE_CONDITIONS}, MIN_LEVELS)}
        for example in self.examples:
            figures[f"value_level{example.level}"] = (
                lambda e=example: plots.plot_value_example(
                    e, {c: self.condition(c) for c in VALUE_CONDITIONS}))
        return figures


def compute(settings: ValueMaps, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            progress: bool = False, batch: int = BATCH) -> ValueMapsResult:
    """The value-map experiment (`ValueMaps.run`) on the levels (seeds or mazes) that
    have a cheese."""
    s = settings
    mazes = [m for m in as_mazes(levels, s.mode) if m.cheese is not None]
    ids = [level_id(m, i) for i, m in enumerate(mazes)]
    observer = Observer(batch=batch)
    vectors = cheese_vectors(policy, mazes, s.layer, observer)
    tables, level_rows = [], []
    bar = tqdm(total=len(mazes), desc="value maps", disable=not progress)
    for group, rows, obs in field_observations(mazes, observer):
        members = [mazes[i] for i in group]
        cache = LayerCache(policy, obs, s.layer, batch=batch)
        gone = frames([(remove_cheese(m), c) for m, c in rows.pairs(members)], observer)
        edit = added(s.layer, (vectors[torch.as_tensor(group)], rows.owner,
                               np.full(len(rows.owner), s.coeff)))
        found = {PRESENT: values(policy, cache.acts, start=cache.start, batch=batch),
                 ABSENT: values(policy, gone, batch=batch),
                 CHEESE_VECTOR: values(policy, cache.acts, edit, start=cache.start,
                                       batch=batch)}
        split = {c: rows.split(v) for c, v in found.items()}
        for j, i in enumerate(group):
            table = _cells_table(ids[i], mazes[i], rows.cells[j],
                                 {c: v[j] for c, v in split.items()})
            tables.append(table)
            level_rows.append(_level_row(ids[i], mazes[i], table))
        bar.update(len(group))
    bar.close()
    cells = pd.concat(tables, ignore_index=True)
    readable = sorted(range(len(mazes)), key=lambda k: (mazes[k].maze_dim < EXAMPLE_DIM, k))
    examples = _examples(policy, mazes, sorted(readable[: s.n_examples]), ids, vectors, s,
                         observer, batch)
    params = {**s.to_dict(), "n_levels": len(mazes), "value_head": value_head(policy)}
    return ValueMapsResult(cells, pd.DataFrame(level_rows),
                           _by_steps(cells, s.seed, s.n_boot), params, tuple(examples))


def _cells_table(level: int, maze: Maze, cells: list[Cell], found: dict[str, np.ndarray]
                 ) -> pd.DataFrame:
    """One row per condition and cell (`ValueMapsResult.cells`)."""
    steps = {t: distances(maze, maze.cheese if t == "cheese" else maze.top_right)
             for t in TARGETS}
    base = pd.DataFrame({"level": level, "x": [c[0] for c in cells],
                         "y": [c[1] for c in cells],
                         **{f"steps_{t}": [steps[t].get(c, -1) for c in cells]
                            for t in TARGETS}})
    return pd.concat([base.assign(condition=c, value=found[c]) for c in VALUE_CONDITIONS],
                     ignore_index=True)[["level", "condition", "x", "y", "value",
                                         "steps_cheese", "steps_top_right"]]


def _level_row(level: int, maze: Maze, table: pd.DataFrame) -> dict:
    row = {"level": level, "maze_dim": maze.maze_dim,
           "n_cells": int((table["condition"] == PRESENT).sum()),
           "cheese_x": maze.cheese[0], "cheese_y": maze.cheese[1]}
    for c, part in table.groupby("condition", sort=False):
        row[f"value_{c}"] = float(part["value"].mean())
        for t in TARGETS:
            varied = len(part) >= 3 and part["value"].nunique() > 1
            row[f"spearman_{t}_{c}"] = float(spearmanr(part["value"], part[f"steps_{t}"])[0]) \
                if varied else float("nan")
    return row


def _by_steps(cells: pd.DataFrame, seed: int, n_boot: int) -> pd.DataFrame:
    """Per condition, target and distance: the bootstrap over levels of the levels'
    mean values at that distance."""
    rows = []
    for t in TARGETS:
        means = cells.groupby(["condition", f"steps_{t}", "level"])["value"].mean()
        for (condition, steps), per_level in means.groupby(level=[0, 1]):
            rows.append({"condition": condition, "target": t, "steps": int(steps),
                         **estimate_ci(per_level.to_numpy(), seed=seed, n_boot=n_boot)})
    order = {c: k for k, c in enumerate(VALUE_CONDITIONS)}
    table = pd.DataFrame(rows)
    return table.sort_values(["target", "condition", "steps"], key=lambda col: col.map(
        order) if col.name == "condition" else col).reset_index(drop=True)


def _examples(policy: Policy, mazes: list[Maze], chosen: list[int], ids: list[int],
              vectors: torch.Tensor, s: ValueMaps, observer: Observer, batch: int
              ) -> list[ValueExample]:
    """Value maps (the three conditions) and the vector field of the `chosen` levels."""
    from behavstats.hooks import AddVector

    examples = []
    fields = vector_fields(policy, [mazes[i] for i in chosen], observer=observer, batch=batch)
    for i, field in zip(chosen, fields, strict=True):
        maze = mazes[i]
        maps = {PRESENT: value_map(policy, maze, observer=observer),
                ABSENT: _absent_map(policy, maze, field.cells, observer, batch),
                CHEESE_VECTOR: value_map(policy, maze, [AddVector(s.layer, vectors[i],
                                                                  s.coeff)],
                                         observer=observer)}
        examples.append(ValueExample(ids[i], maps, field, observe([maze])[0]))
    return examples


def _absent_map(policy: Policy, maze: Maze, cells: list[Cell], observer: Observer,
                batch: int) -> ValueMap:
    """The value map of the maze without its cheese on the cells of the map with it."""
    gone = remove_cheese(maze)
    return ValueMap(gone, cells, values(policy, frames([(gone, c) for c in cells], observer),
                                        batch=batch))


def write_value_map(policy: Policy, maze: Maze, out: str | Path, *,
                    observer: Observer | None = None) -> Path:
    """The value map of one maze as a table (x, y, value; .parquet or .csv) or a figure
    beside its vector field (.png)."""
    out = Path(out)
    observer = observer or Observer()
    vmap = value_map(policy, maze, observer=observer)
    if out.suffix == ".png":
        from behavstats.plots import save_figure
        from behavstats.plots.maps import plot_value_beside_field

        field = vector_fields(policy, [maze], observer=observer)[0]
        axes = plot_value_beside_field(vmap, field, observe([maze])[0],
                                       title=f"level {maze.level}")
        return save_figure(axes[0].figure, out)
    from behavstats.io import write_csv, write_parquet

    frame = vmap.to_frame()
    return write_csv(frame, out) if out.suffix == ".csv" else write_parquet(frame, out)
