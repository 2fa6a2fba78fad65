"""Spatial (convolutional) probes: where on a layer's map is the cheese, and the path
to it?

Observations: each level's first observation (the maze as given, the mouse where the
episode starts). Rows: one per observation and activation cell of a convolutional
layer's (C, H, W) map that some free cell of the maze maps to (`maze_to_activation_cell`,
the package's one conversion; at 16 x 16 and 8 x 8 several maze cells share one
activation cell), so walls and the margin are not rows. Features: the C channel values
at that cell. One probe per layer and target is fitted on the rows of the training
levels (the same level split as the flattened probes), shared by every position: a
1 x 1 convolution followed by a sigmoid. Targets (`SPATIAL_TARGETS`): cheese_cell (the
cheese's maze cell maps to this activation cell) and path_cell (some cell strictly
between the mouse and the cheese on the shortest path maps to it; the activation cells
of the mouse, the cheese and the control's stand-in are not rows of this target, as a
sprite would give them away).

Scores, per held-out maze: argmax_hit, whether the cell the probe rates highest among
the maze's rows is a positive one (chance: the maze's share of positive rows, 1 / its
activation cells for cheese_cell); auc, how the probe ranks the maze's cells (1: every
positive cell above every negative one; 0.5: chance; mazes without both kinds of row
are left out). The probes table gives each target's headline (`HEADLINE`): the arg-max
hit rate for cheese_cell (one cell to find), the mean AUC for path_cell (a set of
cells); both per-maze scores are in the per-maze table. Per cell, pooled over the
held-out rows: log_loss, beside the log-loss of predicting the training rows' share of
positives everywhere. A per-cell accuracy would be dominated by the negative cells and
is not given.

Control task: the flattened probes relabel each maze at random; here the random
relabelling keeps the targets' form: a random free cell of the maze (other than the
mouse's, as procgen draws the cheese; `Purpose.SPATIAL_CONTROL`) stands in for the
cheese, and its labels are the cell itself and the shortest path from the mouse to it.
The observation still shows the real cheese, so a probe that reads it does no better
than chance on the control task; one that memorised mazes could not either, as no test
maze is seen in training. The same probe is also fitted on the same rows of a randomly
initialised network. p_value: one-sided sign-flip test over the held-out levels of the
headline score minus the control task's; the family (Benjamini-Hochberg) is every
layer x target of the run's spatial probes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from scipy.stats import rankdata
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from behavstats.engine import BATCH
from behavstats.experiments import SPATIAL_TARGETS
from behavstats.geometry import shortest_path
from behavstats.interventions.effects import N_BOOT, mean_ci
from behavstats.maze import Cell, Maze
from behavstats.maze.coords import maze_to_activation_cell, maze_to_pixel_center
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.seeding import Purpose, stream
from behavstats.stats.multiplicity import sign_flip_p
from behavstats.sweeps.probe_common import layer_outputs, map_sizes, positive_probability

KIND = "spatial"
FAMILY = "spatial layer x target"
"""The spatial probes' family of tests, as its summary row names it."""
MAZE_COLUMNS = ("layer", "target", "level", "maze_dim", "n_cells", "chance", "hit",
                "control_hit", "random_network_hit", "auc", "control_auc",
                "random_network_auc")
"""The per-maze table (`ProbeResult.spatial`): one row per layer, target and held-out
maze (n_cells: its activation cells, the rows the arg-max is taken over)."""
HEADLINE = {"cheese_cell": ("argmax_hit", "hit"), "path_cell": ("auc", "auc")}
"""Each target's score in the probes table (`score`, and its per-maze column): whether
the arg-max finds the cheese's one cell; how well the probe ranks the path's cells."""
N_EXAMPLES = 3
"""Held-out mazes whose probability maps are kept for the figure: the first ones at
least `EXAMPLE_SIZE` cells wide (else the largest)."""
EXAMPLE_SIZE = 13


@dataclass(frozen=True)
class CellRows:
    """The rows of one map size: obs (observation index) and cell (flat index row * size
    + col) of each row, and per target which rows it uses, their labels and their
    control task's labels."""

    size: int
    obs: np.ndarray
    cell: np.ndarray
    used: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    control: dict[str, np.ndarray]


@dataclass(frozen=True)
class ExampleMaps:
    """Figure material: a held-out maze's first observation, the cheese's centre in it
    (pixel row, col), the pixels the maze spans (from, to; the same along both axes)
    and, per layer, the cheese probe's probability at each of the maze's activation
    cells (NaN on other cells)."""

    level: int
    observation: np.ndarray
    cheese: tuple[float, float]
    box: tuple[float, float]
    maps: dict[str, np.ndarray]


def decoy_cells(mazes: Sequence[Maze], seed: int) -> list[Cell]:
    """Per maze, the control task's stand-in for the cheese: a random free cell other
    than the mouse's (the level's `Purpose.SPATIAL_CONTROL` stream)."""
    out = []
    for i, maze in enumerate(mazes):
        cells = [c for c in maze.free_cells() if c != maze.mouse]
        rng = stream(seed, Purpose.SPATIAL_CONTROL, level_id(maze, i))
        out.append(cells[int(rng.integers(len(cells)))])
    return out


def _target_cells(maze: Maze, goal: Cell, act: dict[Cell, int]) -> dict[str, set[int]]:
    """The activation cells of each target, with `goal` as the cheese (the path's ends
    are left out: `cell_rows` does not use them)."""
    return {"cheese_cell": {act[goal]},
            "path_cell": {act[c] for c in shortest_path(maze, maze.mouse, goal)[1:-1]}}


def cell_rows(mazes: Sequence[Maze], size: int, decoys: Sequence[Cell]) -> CellRows:
    """The rows of a size x size map for each maze's first observation (module
    docstring), with their labels and control labels. path_cell leaves out the
    activation cells of the mouse, the cheese and the control's stand-in: both tasks
    score the same rows, on which neither label can be read off a sprite."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "cell")}
    per: dict[str, dict[str, list[np.ndarray]]] = {k: {t: [] for t in SPATIAL_TARGETS}
                                                   for k in ("used", "labels", "control")}
    for i, (maze, decoy) in enumerate(zip(mazes, decoys, strict=True)):
        act = {}
        for c in maze.free_cells():
            row, col = maze_to_activation_cell(*c, maze.maze_dim, maze.world_dim, size)
            act[c] = row * size + col
        mine = np.array(sorted(set(act.values())))
        real, fake = _target_cells(maze, maze.cheese, act), _target_cells(maze, decoy, act)
        ends = [act[maze.mouse], act[maze.cheese], act[decoy]]
        parts["obs"].append(np.full(len(mine), i))
        parts["cell"].append(mine)
        for t in SPATIAL_TARGETS:
            per["used"][t].append(~np.isin(mine, ends) if t == "path_cell"
                                  else np.ones(len(mine), bool))
            per["labels"][t].append(np.isin(mine, list(real[t])))
            per["control"][t].append(np.isin(mine, list(fake[t])))
    joined = {k: {t: np.concatenate(v) for t, v in d.items()} for k, d in per.items()}
    return CellRows(size, np.concatenate(parts["obs"]), np.concatenate(parts["cell"]),
                    **joined)


def cell_features(policy: Policy, obs: np.ndarray, layers: Sequence[str],
                  rows: dict[int, CellRows], *, batch: int = BATCH) -> dict[str, np.ndarray]:
    """Per convolutional layer, the channel vector at each of its map size's rows."""
    def at_cells(_layer: str, x: torch.Tensor, first: int) -> np.ndarray:
        n, c, h, w = x.shape
        grid = rows[h]
        mine = (grid.obs >= first) & (grid.obs < first + n)
        flat = x.permute(0, 2, 3, 1).reshape(n, h * w, c)
        return flat[torch.as_tensor(grid.obs[mine] - first),
                    torch.as_tensor(grid.cell[mine])].numpy()

    return layer_outputs(policy, obs, layers, at_cells, batch=batch)


def maze_scores(probability: np.ndarray, labels: np.ndarray, mazes: np.ndarray,
                cells: np.ndarray, size: int, radius: int) -> pd.DataFrame:
    """Per maze (index) of held-out rows: n_cells; hit, whether the top-rated row lies
    within `radius` cells (Chebyshev, on the size x size map) of a positive row; chance,
    the share of the maze's rows that do; auc (NaN without both kinds of row)."""
    order = np.argsort(mazes, kind="stable")
    index, starts = np.unique(mazes[order], return_index=True)
    parts = (np.split(a[order], starts[1:]) for a in (probability, labels.astype(bool), cells))
    out = []
    for p, y, cell in zip(*parts, strict=True):
        positives, n = int(y.sum()), len(y)
        where = np.stack(np.divmod(cell, size), axis=1)
        near = (np.abs(where[:, None, :] - where[None, y, :]).max(axis=2) <= radius).any(axis=1)
        auc = np.nan
        if 0 < positives < n:
            auc = (rankdata(p)[y].sum() - positives * (positives + 1) / 2) / (
                positives * (n - positives))
        out.append((n, near.mean(), float(near[np.argmax(p)]), auc))
    return pd.DataFrame(out, index=index, columns=["n_cells", "chance", "hit", "auc"])


def _fit_and_score(features: np.ndarray, labels: np.ndarray, obs: np.ndarray,
                   cells: np.ndarray, size: int, radius: int, train: np.ndarray,
                   test: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    probability = positive_probability(features, labels, train, test)
    return probability, maze_scores(probability, labels[test], obs[test], cells[test], size,
                                    radius)


def spatial_row(layer: str, target: str, real: np.ndarray, rand: np.ndarray, grid: CellRows,
                test_mazes: np.ndarray, levels: np.ndarray, maze_dims: np.ndarray,
                radius: int, seed: int, n_boot: int
                ) -> tuple[dict, pd.DataFrame, np.ndarray]:
    """The probes-table row of one layer and target (`probes.COLUMNS`), its per-maze
    table (`MAZE_COLUMNS`) and the held-out rows' probabilities. One BLAS thread, so the
    result is the same however many jobs run."""
    used = grid.used[target]
    labels, control, obs = grid.labels[target][used], grid.control[target][used], grid.obs[used]
    where = (grid.cell[used], grid.size, radius)
    real, rand = real[used], rand[used]
    test = np.isin(obs, np.flatnonzero(test_mazes))
    train, test = np.flatnonzero(~test), np.flatnonzero(test)
    with threadpool_limits(1):
        probability, mine = _fit_and_score(real, labels, obs, *where, train, test)
        _, ctrl = _fit_and_score(real, control, obs, *where, train, test)
        _, rnd = _fit_and_score(rand, labels, obs, *where, train, test)
    per = pd.DataFrame({"layer": layer, "target": target, "level": levels[mine.index],
                        "maze_dim": maze_dims[mine.index], "n_cells": mine["n_cells"],
                        "chance": mine["chance"], "hit": mine["hit"],
                        "control_hit": ctrl["hit"], "random_network_hit": rnd["hit"],
                        "auc": mine["auc"], "control_auc": ctrl["auc"],
                        "random_network_auc": rnd["auc"]}).reset_index(drop=True)
    score, column = HEADLINE[target]
    scored = mean_ci(per[column], seed=seed, n_boot=n_boot)
    aucs = mean_ci(per["auc"], seed=seed, n_boot=n_boot)
    baseline = per["chance"].mean() if column == "hit" else 0.5
    control_mean = float(per[f"control_{column}"].mean())
    prior = np.full(len(test), labels[train].mean())
    row = {"kind": KIND, "score": score, "layer": layer, "target": target,
           "accuracy": scored.estimate, "ci_low": scored.ci_low,
           "ci_high": scored.ci_high, "baseline": float(baseline),
           "control_accuracy": control_mean, "selectivity": scored.estimate - control_mean,
           "p_value": sign_flip_p((per[column] - per[f"control_{column}"]).to_numpy(),
                                  seed=seed, greater=True),
           "random_network_accuracy": float(per[f"random_network_{column}"].mean()),
           "n_train": int((~test_mazes).sum()), "n_test": int(per[column].notna().sum()),
           "auc": aucs.estimate, "auc_low": aucs.ci_low, "auc_high": aucs.ci_high,
           "log_loss": log_loss(labels[test], probability, labels=[False, True]),
           "baseline_log_loss": log_loss(labels[test], prior, labels=[False, True])}
    return row, per[list(MAZE_COLUMNS)], probability


def spatial_probes(policy: Policy, rand: Policy, mazes: Sequence[Maze], obs: np.ndarray,
                   layers: Sequence[str], targets: Sequence[str], test_mazes: np.ndarray, *,
                   radius: int, seed: int, n_boot: int = N_BOOT, batch: int = BATCH,
                   n_jobs: int = -1, update: Callable[[], None] = lambda: None
                   ) -> tuple[list[dict], pd.DataFrame, list[ExampleMaps]]:
    """The spatial probes (module docstring) of the convolutional `layers` on the mazes'
    first observations `obs`: probes-table rows, the per-maze table and the example
    maps of the first `N_EXAMPLES` held-out mazes. `update` is called after each row."""
    sizes = {k: v for k, v in map_sizes(policy, obs, layers, batch=batch).items() if v}
    convs = list(sizes)
    decoys = decoy_cells(mazes, seed)
    grids = {size: cell_rows(mazes, size, decoys) for size in set(sizes.values())}
    real = cell_features(policy, obs, convs, grids, batch=batch)
    fake = cell_features(rand, obs, convs, grids, batch=batch)
    levels = np.array([level_id(m, i) for i, m in enumerate(mazes)])
    dims = np.array([m.maze_dim for m in mazes])
    todo = [(layer, target) for layer in convs for target in targets]
    rows, tables, examples = [], [], {}
    for (layer, target), (row, per, probability) in zip(todo, Parallel(
            n_jobs=n_jobs, return_as="generator")(
            delayed(spatial_row)(layer, target, real[layer], fake[layer],
                                 grids[sizes[layer]], test_mazes, levels, dims,
                                 radius, seed, n_boot) for layer, target in todo), strict=True):
        rows.append(row)
        tables.append(per)
        if target == "cheese_cell":
            examples[layer] = _example_maps(grids[sizes[layer]], test_mazes, probability,
                                            example_mazes(mazes, test_mazes))
        update()
    shown = example_mazes(mazes, test_mazes)
    maps = [ExampleMaps(int(levels[i]), obs[i],
                        maze_to_pixel_center(*mazes[i].cheese, mazes[i].maze_dim,
                                             mazes[i].world_dim), _box(mazes[i]),
                        {layer: m[k] for layer, m in examples.items()})
            for k, i in enumerate(shown)] if examples else []
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=list(MAZE_COLUMNS))
    return rows, table, maps


def example_mazes(mazes: Sequence[Maze], test_mazes: np.ndarray) -> list[int]:
    """The held-out mazes of the figure (`N_EXAMPLES`), in order."""
    held = list(np.flatnonzero(test_mazes))
    wide = [i for i in held if mazes[i].maze_dim >= EXAMPLE_SIZE]
    rest = sorted(set(held) - set(wide), key=lambda i: -mazes[i].maze_dim)
    return (wide + rest)[:N_EXAMPLES]


def _box(maze: Maze) -> tuple[float, float]:
    """The pixels the maze spans, with half a cell around it."""
    cell = 64 / maze.world_dim
    margin = (maze.world_dim - maze.maze_dim) / 2
    return (margin - 0.5) * cell, (margin + maze.maze_dim + 0.5) * cell


def _example_maps(grid: CellRows, test_mazes: np.ndarray, probability: np.ndarray,
                  shown: list[int]) -> list[np.ndarray]:
    """The probabilities of the `shown` held-out mazes as (size, size) maps."""
    test = np.isin(grid.obs, np.flatnonzero(test_mazes))  # cheese_cell uses every row
    obs, cells = grid.obs[test], grid.cell[test]
    out = []
    for i in shown:
        image = np.full(grid.size * grid.size, np.nan)
        image[cells[obs == i]] = probability[obs == i]
        out.append(image.reshape(grid.size, grid.size))
    return out
