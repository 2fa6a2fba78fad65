"""Retargeting: clamp one activation cell of cheese-tracking channels and see whether
the agent goes there.

For a maze with the cheese removed and each target square t (every free cell but the
start), the chosen channels of `layer` get the activation cell that t maps to
(`maze_to_activation_cell`, the package's single conversion) set to a value (and,
with `fill`, every other cell of those channels set to `fill`) in every forward pass.
Each target is computed on its own: targets sharing an activation cell still have
their own paths and rollouts (never cached by cell). Success for t:

- p_path: probability of following the shortest path start -> t, the geometric mean
  of the per-step probabilities of the move along it (`walk.path_probability`);
- reach: share of `n_rollouts` sampled episodes that step on t within
  ceil(step_budget x shortest-path steps) steps (`walk.walk`).

Both are also measured without the clamp (p_path_base, reach_base), since near
targets are often reached anyway. Default clamp value per channel: `value_scale`
times the channel's largest activation at the cheese cell across the discovery mazes
(its largest activation anywhere if that is not positive): the published 5.6 on
channel 55 (about 0.6 at the cheese) belongs to their network, so the scale is
relative. Success is reported against dist_to_tr_path, the shortest-path steps from t
to the path start -> top-right cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import stats
from tqdm.auto import tqdm

from behavstats.env import Observer
from behavstats.forward import BATCH
from behavstats.geometry import distances, shortest_path, steps_to_path
from behavstats.hooks import VECTOR_LAYER, SetCell
from behavstats.interventions.channels import (
    Discovery,
    discovered_channels,
    published_share,
    top_channels,
    tracked_channels,
)
from behavstats.interventions.effects import N_BOOT, mean_ci
from behavstats.interventions.forward import NoUsableLevelsError, as_mazes, check_channels
from behavstats.interventions.vectors import start_activations
from behavstats.interventions.walk import ObservationTable, path_probability, walk
from behavstats.maze import Maze
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.edits import move_mouse, remove_cheese
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, interval_row, quantity_row
from behavstats.seeding import Purpose, stream

DISTANCE_BINS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 20), (21, 10**6))
DEFAULT_DISCOVERY_LEVELS = range(1000, 1100)


@dataclass(frozen=True, eq=False)
class RetargetResult(Result):
    """What `run_retarget` measured.

    targets: one row per level, channel set and target square: level, maze_dim,
        x, y (maze frame), act_row, act_col, steps (shortest path from the start),
        dist_to_tr_path, region (top/bottom-left/right half of the maze, the centre row
        and column counted bottom / left), p_path_base, reach_base, channel_set,
        p_path, reach.
    by_distance: one row per channel set and distance bin (`DISTANCE_BINS`):
        channel_set, distance_bin, n_targets, n_levels and for p_path, reach and their
        lifts over the baseline: mean, ci_low, ci_high (mean over levels of the
        per-level mean, bootstrapped over levels).
    clamps: one row per channel set and channel: channel_set, channel, value (the clamp
        value).
    channels: the discovery table (`channels.channel_scores`), empty if not run.
    params: layer, fill, value_scale (None when one value was given), n_rollouts,
        step_budget, seed, n_boot, n_levels.
    heatmap_mazes: figure material, the first levels' mazes (cheese removed); not saved.
    """

    targets: pd.DataFrame
    by_distance: pd.DataFrame
    clamps: pd.DataFrame
    channels: pd.DataFrame
    params: dict
    heatmap_mazes: tuple[Maze, ...] = figure_only()
    topic = "retarget"

    @property
    def channel_sets(self) -> dict[str, list[int]]:
        """Channel set name -> its channels, in the order run."""
        groups = self.clamps.groupby("channel_set", sort=False)["channel"]
        return {name: [int(c) for c in channels] for name, channels in groups}

    def _rows(self) -> list[dict]:
        """Per channel set: mean p_path, reach and their lifts over the unclamped baseline
        (level means, bootstrapped over levels), the Spearman correlation of p_path with
        dist_to_tr_path, and means by region; paired differences between channel sets;
        the unclamped baseline."""
        targets, seed, n_boot = self.targets, self.params["seed"], self.params["n_boot"]
        if targets.empty:
            return []
        rows = []
        for name, t in targets.groupby("channel_set"):
            condition = f"clamp {name}"
            rows += [interval_row(metric, condition, _level_mean_ci(t, column, seed, n_boot))
                     for metric, column in _metrics(t)]
            rho = stats.spearmanr(t["dist_to_tr_path"], t["p_path"]).statistic
            rows.append(quantity_row("spearman_p_path_vs_distance", condition, rho,
                                     n=len(t)))
            rows += [quantity_row(metric, f"{condition}, {region}", r[metric].mean(),
                                  n=len(r))
                     for region, r in t.groupby("region") for metric in ("p_path", "reach")]
        wide = targets.pivot_table(index="level", columns="channel_set", values="p_path",
                                   aggfunc="mean")
        names = list(wide.columns)
        rows += [interval_row("p_path_difference", f"clamp {a} - clamp {b}", mean_ci(
                     (wide[a] - wide[b]).to_numpy(), seed=seed, n_boot=n_boot))
                 for k, a in enumerate(names) for b in names[k + 1 :]]
        base = targets.drop_duplicates(["level", "x", "y"])
        rows += [interval_row(metric, "no clamp",
                              _level_mean_ci(base, base[f"{metric}_base"], seed, n_boot))
                 for metric in ("p_path", "reach")]
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Heat maps of p_path and reach over target squares (levels x channel sets) and
        success against distance from the path to the top-right cell."""
        from behavstats.plots import interventions as plots

        if self.targets.empty:
            return {}
        figures = {f"heatmap_{metric}": (lambda m=metric: plots.plot_retarget_heatmaps(
                       self.targets, self.heatmap_mazes, list(self.channel_sets), m))
                   for metric in ("p_path", "reach")}
        figures["success_by_distance"] = lambda: plots.plot_success_by_distance(
            self.by_distance)
        return figures


def default_channel_sets(table: pd.DataFrame) -> dict[str, list[int]]:
    """top1, top{k} (k = `published_share` of the layer's width) and, when it differs
    from those and is not empty, "tracked" (`tracked_channels`)."""
    k = published_share(len(table))
    sets = {"top1": top_channels(table, 1)}
    if k > 1:
        sets[f"top{k}"] = top_channels(table, k)
    tracked = tracked_channels(table)
    if tracked and tracked not in sets.values():
        sets["tracked"] = tracked
    return sets


def clamp_values(table: pd.DataFrame, value_scale: float) -> dict[int, float]:
    """value_scale x cheese_max per channel (x act_max where cheese_max <= 0)."""
    scale = np.where(table["cheese_max"] > 0, table["cheese_max"], table["act_max"])
    return {int(c): float(value_scale * s) for c, s in zip(table["channel"], scale,
                                                           strict=True)}


def region_of(cell: tuple[int, int], maze_dim: int) -> str:
    half = maze_dim / 2
    return f"{'top' if cell[1] >= half else 'bottom'}-{'right' if cell[0] >= half else 'left'}"


def run_retarget(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *,
                 channel_sets: dict[str, Sequence[int]] | None = None,
                 layer: str = VECTOR_LAYER, value: float | None = None,
                 value_scale: float = 5.0, fill: float | None = None, n_rollouts: int = 4,
                 step_budget: float = 2.0,
                 discovery: Discovery = DEFAULT_DISCOVERY_LEVELS,
                 mode: str = "hard", seed: int = 0, n_boot: int = N_BOOT, n_heatmaps: int = 3,
                 progress: bool = False, batch: int = BATCH) -> RetargetResult:
    """Retarget the agent to every target square of each level (seeds or mazes; the
    cheese is removed), for each channel set; with `out_dir`, also write the result.

    channel_sets: name -> channels (default `default_channel_sets` of a channel
    channel `discovery`: a finished one or its levels). value: one clamp value for every channel
    (default: per channel, see the module docstring; needs the discovery run).
    """
    table = pd.DataFrame()
    if channel_sets is None or value is None:
        table = discovered_channels(policy, discovery, layer=layer, mode=mode, seed=seed,
                                    batch=batch)
    mazes = [remove_cheese(move_mouse(m, m.start)) for m in as_mazes(levels, mode)]
    if not mazes:
        raise NoUsableLevelsError("no levels given")
    observer = Observer(batch=batch)
    probe = start_activations(policy, mazes[:1], layer, observer)
    sets = {k: check_channels(v, probe.shape[1], layer) for k, v in
            (default_channel_sets(table) if channel_sets is None else channel_sets).items()}
    chosen = sorted({c for v in sets.values() for c in v})
    if value is not None:
        values = {c: float(value) for c in chosen}
    else:
        scaled = clamp_values(table, value_scale)
        values = {c: scaled[c] for c in chosen}
    rows = []
    for i, maze in enumerate(tqdm(mazes, desc="retarget", disable=not progress)):
        rows += _retarget_maze(policy, maze, level_id(maze, i),
                               sets, values, layer, probe.shape[-1], fill, n_rollouts,
                               step_budget, seed, observer, batch)
    targets = pd.DataFrame(rows)
    clamps = pd.DataFrame([{"channel_set": name, "channel": c, "value": values[c]}
                           for name, channels in sets.items() for c in channels],
                          columns=["channel_set", "channel", "value"])
    params = {"layer": layer, "fill": fill,
              "value_scale": None if value is not None else value_scale,
              "n_rollouts": n_rollouts, "step_budget": step_budget, "seed": seed,
              "n_boot": n_boot, "n_levels": len(mazes)}
    result = RetargetResult(targets, retarget_by_distance(targets, seed=seed, n_boot=n_boot),
                            clamps, table, params, tuple(mazes[:n_heatmaps]))
    if out_dir is not None:
        result.write(out_dir)
    return result


def _retarget_maze(policy: Policy, maze: Maze, level: int, sets: dict[str, list[int]],
                   values: dict[int, float], layer: str, size: int, fill: float | None,
                   n_rollouts: int, step_budget: float, seed: int, observer: Observer,
                   batch: int) -> list[dict]:
    table = ObservationTable(maze, observer, policy=policy, layer=layer, batch=batch)
    reach = distances(maze, maze.start)
    targets = [c for c in table.cells if c != maze.start and c in reach]
    if not targets:
        return []
    to_tr = steps_to_path(maze, shortest_path(maze, maze.start, maze.top_right))
    cells = np.array([maze_to_activation_cell(x, y, maze.maze_dim, maze.world_dim, size)
                      for x, y in targets])
    act_rows, act_cols = torch.as_tensor(cells[:, 0]), torch.as_tensor(cells[:, 1])
    target_paths = [shortest_path(maze, maze.start, t) for t in targets]
    steps = np.array([len(p) - 1 for p in target_paths])
    limits = np.ceil(step_budget * steps).astype(int)

    base_paths = walk(policy, table, [None] * n_rollouts, [int(limits.max())] * n_rollouts,
                      [stream(seed, Purpose.BASELINE_WALKS, level, r) for r in range(n_rollouts)],
                      batch=batch)
    first = [{c: k for k, c in reversed(list(enumerate(p)))} for p in base_paths]
    reach_base = np.array([np.mean([f.get(t, 10**9) <= lim for f in first])
                           for t, lim in zip(targets, limits, strict=True)])
    p_base = path_probability(policy, table, target_paths, batch=batch)

    episode_target = np.repeat(np.arange(len(targets)), n_rollouts)
    goals = [targets[t] for t in episode_target]
    keys = [(level, *targets[t], r % n_rollouts) for r, t in enumerate(episode_target)]
    common = [{"level": level, "maze_dim": maze.maze_dim, "x": t[0], "y": t[1],
               "act_row": int(r), "act_col": int(c), "steps": int(s),
               "dist_to_tr_path": int(to_tr[t]), "region": region_of(t, maze.maze_dim),
               "p_path_base": float(pb), "reach_base": float(rb)}
              for t, (r, c), s, pb, rb in zip(targets, cells, steps, p_base, reach_base,
                                              strict=True)]
    rows = []
    for name, channels in sets.items():
        vals = torch.tensor([values[c] for c in channels], dtype=torch.float32)

        def clamp(idx: np.ndarray, channels=channels, vals=vals) -> list[SetCell]:
            idx = torch.as_tensor(idx)
            return [SetCell(layer, channels, act_rows[idx], act_cols[idx], vals, fill)]

        p_path = path_probability(policy, table, target_paths, clamp, batch=batch)
        rngs = [stream(seed, Purpose.RETARGETED_WALKS, *key) for key in keys]
        episodes = walk(policy, table, goals, limits[episode_target].tolist(), rngs,
                        lambda e, clamp=clamp: clamp(episode_target[e]), batch=batch)
        hits = np.array([p[-1] == g for p, g in zip(episodes, goals, strict=True)])
        reach = hits.reshape(len(targets), n_rollouts).mean(axis=1)
        rows += [{**row, "channel_set": name, "p_path": float(p), "reach": float(r)}
                 for row, p, r in zip(common, p_path, reach, strict=True)]
    return rows


def _bin(distance: int) -> str:
    low, high = next(b for b in DISTANCE_BINS if b[0] <= distance <= b[1])
    return str(low) if low == high else f"{low}-{high}" if high < 10**6 else f"{low}+"


def _level_mean_ci(rows: pd.DataFrame, column: pd.Series, seed: int, n_boot: int) -> dict:
    per_level = column.groupby(rows["level"]).mean().to_numpy()
    return mean_ci(per_level, seed=seed, n_boot=n_boot)


def _metrics(rows: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """p_path, reach and their lifts over the unclamped baseline, per target row."""
    return [("p_path", rows["p_path"]), ("reach", rows["reach"]),
            ("p_path_lift", rows["p_path"] - rows["p_path_base"]),
            ("reach_lift", rows["reach"] - rows["reach_base"])]


def retarget_by_distance(targets: pd.DataFrame, *, seed: int = 0, n_boot: int = N_BOOT
                         ) -> pd.DataFrame:
    """Success by channel set and distance bin (see `RetargetResult.by_distance`)."""
    if targets.empty:
        return pd.DataFrame()
    order = {_bin(low): k for k, (low, _) in enumerate(DISTANCE_BINS)}
    binned = targets.assign(distance_bin=targets["dist_to_tr_path"].map(_bin))
    out = []
    for (name, label), rows in binned.groupby(["channel_set", "distance_bin"]):
        row = {"channel_set": name, "distance_bin": label, "n_targets": len(rows),
               "n_levels": rows["level"].nunique()}
        for metric, column in _metrics(rows):
            stats_ = _level_mean_ci(rows, column, seed, n_boot)
            row.update({f"{metric}_mean": stats_["mean"], f"{metric}_ci_low": stats_["ci_low"],
                        f"{metric}_ci_high": stats_["ci_high"]})
        out.append(row)
    table = pd.DataFrame(out)
    return table.sort_values(["channel_set", "distance_bin"], key=lambda s: s.map(
        order) if s.name == "distance_bin" else s, ignore_index=True)
