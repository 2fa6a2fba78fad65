"""Retargeting at the protocol of Mini et al. (2023): can a clamp of cheese-tracking
channels send the agent to a chosen square, compared with moving the real cheese?

For each level (cheese removed, mouse at the start) and each target square t (every
reachable free cell but the start; with `max_targets`, that many drawn at random,
`Purpose.RETARGET_TARGETS`), five conditions (`conditions`):

- "no edit": the policy on the maze without cheese;
- "cheese": the real cheese moved to t;
- one per channel set (`default_channel_sets`: the top channel, the tracked set, all
  channels scoring at least `min_score`): the chosen channels of `layer` get the
  activation cell that t maps to (`maze_to_activation_cell`) set to a value (with
  `fill`, every other cell of those channels set to `fill`) in every forward pass.

Success p_path: the geometric mean of the probabilities of the moves along the
shortest path start -> t, each seen with the facing following the path gives
(`walk.path_steps`). Only those observations are computed: per maze every (cell,
facing) some path steps on is rendered once and cached at `layer`
(`walk.ObservationTable`), the unedited condition computes each of them once, each
clamp condition is one batched pass over all targets' path steps with per-row clamps,
and the cheese condition renders each target's path with the cheese on t (against a
picture of that maze without the mouse, for incremental passes). No field, no
rollout. Default clamp value per channel: `value_scale` times the channel's largest
activation at the cheese cell across the discovery mazes (its largest activation
anywhere if that is not positive): the published values belong to their network.

Success is reported by dist_to_tr_path (shortest-path steps from t to the path start
-> top-right cell) and by maze size, with the ratio of each condition's success to
the unedited one (ratio of level means).
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

from behavstats.engine import BATCH, probs
from behavstats.env import Observer, frames, render
from behavstats.experiments import Retarget
from behavstats.geometry import distances, shortest_path, steps_to_path
from behavstats.hooks import SetCell
from behavstats.incremental import worthwhile
from behavstats.interventions.channels import (  # DEFAULT_DISCOVERY_LEVELS: its old home
    DEFAULT_DISCOVERY_LEVELS,  # noqa: F401
    Discovery,
    discovered_channels,
    discovery_levels_setting,
    top_channels,
    tracked_channels,
)
from behavstats.interventions.effects import N_BOOT, mean_ci, ratio_ci
from behavstats.interventions.forward import NoUsableLevelsError, as_mazes, check_channels
from behavstats.interventions.vectors import start_activations
from behavstats.interventions.walk import (
    ObservationTable,
    geometric_means,
    path_probability,
    path_steps,
)
from behavstats.levelspec import parse_levels
from behavstats.maze import Cell, Maze
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.edits import move_cheese, move_mouse, remove_cheese
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, quantity_row
from behavstats.seeding import Purpose, stream

NO_EDIT, CHEESE = "no edit", "cheese"
DISTANCE_BINS = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 20), (21, 10**6))
SIZE_BINS = ((3, 9), (10, 15), (16, 20), (21, 25))
"""Maze sizes (maze_dim, inclusive ranges) of the by-size table."""
MAX_TARGETS = Retarget.default("max_targets")
"""Target squares per maze by default (the study's 100 levels in its time budget)."""
MIN_SCORE = Retarget.default("min_score")
"""Tracking score of the widest channel set by default."""
CHUNK = 4096
"""Rendered observations of the cheese condition held at a time."""


@dataclass(frozen=True, eq=False)
class RetargetResult(Result):
    """What `Retarget.run` (`run_retarget`) measured.

    targets: one row per level, target square and condition: level, maze_dim, x, y
        (maze frame), act_row, act_col, steps (shortest path from the start),
        dist_to_tr_path, region (top/bottom-left/right half of the maze, the centre row
        and column counted bottom / left), condition, p_path.
    by_distance: one row per condition and distance bin (`DISTANCE_BINS`): condition,
        distance_bin, n_targets, n_levels, p_path, p_path_ci_low, p_path_ci_high
        (mean over levels of the level's mean, bootstrapped over levels; p_path_mean up
        to version 0.2, read as p_path), ratio,
        ratio_ci_low, ratio_ci_high (ratio of those level means to the unedited ones).
    by_size: the same by maze size (`SIZE_BINS`): size_bin instead of distance_bin.
    clamps: one row per channel set and channel: channel_set, channel, value.
    channels: the discovery table (`channels.channel_scores`), empty if not run.
    params: the settings (`Retarget`) and n_levels, conditions.
    heatmap_mazes: figure material, the first levels' mazes (cheese removed); not saved.
    """

    targets: pd.DataFrame
    by_distance: pd.DataFrame
    by_size: pd.DataFrame
    clamps: pd.DataFrame
    channels: pd.DataFrame
    params: dict
    heatmap_mazes: tuple[Maze, ...] = figure_only()
    renamed_columns = {"by_distance": {"p_path_mean": "p_path"},
                       "by_size": {"p_path_mean": "p_path"}}
    topic = "retarget"
    settings_type = Retarget

    @property
    def channel_sets(self) -> dict[str, list[int]]:
        """Channel set name -> its channels, in the order run."""
        groups = self.clamps.groupby("channel_set", sort=False)["channel"]
        return {name: [int(c) for c in channels] for name, channels in groups}

    def _rows(self) -> list[dict]:
        """Per condition: mean p_path (level means, bootstrapped over levels), its ratio
        to the unedited p_path, overall and by distance bin, the Spearman correlation
        of p_path with dist_to_tr_path and means by region; the paired difference of
        the cheese condition and each clamp."""
        targets, seed, n_boot = self.targets, self.params["seed"], self.params["n_boot"]
        if targets.empty:
            return []
        wide = targets.pivot_table(index="level", columns="condition", values="p_path",
                                   aggfunc="mean")
        rows = []
        for name in self.params["conditions"]:
            t = targets[targets["condition"] == name]
            rows.append(mean_ci(wide[name].to_numpy(), seed=seed, n_boot=n_boot
                                ).row("p_path", name))
            if name != NO_EDIT:
                rows.append(ratio_ci(wide[name].to_numpy(), wide[NO_EDIT].to_numpy(),
                                     seed=seed, n_boot=n_boot).row("p_path_ratio", name))
            rho = stats.spearmanr(t["dist_to_tr_path"], t["p_path"]).statistic
            rows.append(quantity_row("spearman_p_path_vs_distance", name, rho, n=len(t)))
            rows += [quantity_row("p_path", f"{name}, {region}", r["p_path"].mean(), n=len(r))
                     for region, r in t.groupby("region")]
        for r in self.by_distance[self.by_distance["condition"] != NO_EDIT].itertuples():
            rows.append(quantity_row("p_path_ratio", f"{r.condition}, distance {r.distance_bin}",
                                     r.ratio, r.ratio_ci_low, r.ratio_ci_high, r.n_levels))
        rows += [mean_ci((wide[CHEESE] - wide[name]).to_numpy(), seed=seed, n_boot=n_boot
                         ).row("p_path_difference", f"{CHEESE} - {name}")
                 for name in self.channel_sets]
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Heat maps of p_path over target squares (levels x conditions) and success
        against distance from the path to the top-right cell."""
        from behavstats.plots import interventions as plots

        if self.targets.empty:
            return {}
        return {"heatmap_p_path": lambda: plots.plot_retarget_heatmaps(
                    self.targets, self.heatmap_mazes, self.params["conditions"], "p_path"),
                "success_by_distance": lambda: plots.plot_success_by_distance(
                    self.by_distance)}


def default_channel_sets(table: pd.DataFrame, min_score: float = MIN_SCORE
                         ) -> dict[str, list[int]]:
    """"top1" (the best channel), "tracked" (`tracked_channels`) and "score >= <min_score>"
    (every channel scoring at least that), each only when not empty."""
    sets = {"top1": top_channels(table, 1), "tracked": tracked_channels(table),
            f"score >= {min_score:g}": tracked_channels(table, min_score)}
    return {name: channels for name, channels in sets.items() if channels}


def conditions(channel_sets: dict[str, Sequence[int]]) -> list[str]:
    """The conditions of a run: no edit, the real cheese, then each channel set."""
    return [NO_EDIT, CHEESE, *channel_sets]


def clamp_values(table: pd.DataFrame, value_scale: float) -> dict[int, float]:
    """value_scale x cheese_max per channel (x act_max where cheese_max <= 0)."""
    scale = np.where(table["cheese_max"] > 0, table["cheese_max"], table["act_max"])
    return {int(c): float(value_scale * s) for c, s in zip(table["channel"], scale,
                                                           strict=True)}


def region_of(cell: tuple[int, int], maze_dim: int) -> str:
    half = maze_dim / 2
    return f"{'top' if cell[1] >= half else 'bottom'}-{'right' if cell[0] >= half else 'left'}"


def run_retarget(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, discovery: Discovery | None = None,
                 progress: bool = False, batch: int = BATCH, **settings: Any
                 ) -> RetargetResult:
    """`Retarget(**settings).run(policy, levels, out_dir, discovery=...)`: retarget the
    agent to the target squares of each level (seeds or mazes; the cheese is removed).
    discovery: a finished channel discovery, or the levels (seeds or mazes) to run one
    on (default: the `discovery_levels` setting)."""
    discovery = discovery_levels_setting(discovery, settings)
    return Retarget(**settings).run(policy, levels, out_dir, discovery=discovery,
                                    progress=progress, batch=batch)


def compute(settings: Retarget, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            discovery: Discovery | None = None, progress: bool = False, batch: int = BATCH
            ) -> RetargetResult:
    """Retargeting (`Retarget.run`) under every condition. Without channel sets or a
    clamp value in the settings, a channel discovery (`discovery`, else one on the
    `discovery_levels` setting) chooses them."""
    channel_sets, layer, value, seed = (settings.channel_sets, settings.layer,
                                        settings.value, settings.seed)
    n_boot = settings.n_boot
    if discovery is None:
        discovery = parse_levels(settings.discovery_levels)
    table = pd.DataFrame()
    if channel_sets is None or value is None:
        table = discovered_channels(policy, discovery, layer=layer, mode=settings.mode,
                                    seed=seed, batch=batch)
    mazes = [remove_cheese(move_mouse(m, m.start)) for m in as_mazes(levels, settings.mode)]
    if not mazes:
        raise NoUsableLevelsError("no levels given")
    observer = Observer(batch=batch)
    probe = start_activations(policy, mazes[:1], layer, observer)
    sets = {k: check_channels(v, probe.shape[1], layer) for k, v in
            (default_channel_sets(table, settings.min_score) if channel_sets is None
             else channel_sets).items()}
    chosen = sorted({c for v in sets.values() for c in v})
    scaled = {c: float(value) for c in chosen} if value is not None else \
        clamp_values(table, settings.value_scale)
    values = {c: scaled[c] for c in chosen}
    rows = []
    for i, maze in enumerate(tqdm(mazes, desc="retarget", disable=not progress)):
        level = level_id(maze, i)
        targets = _targets(maze, settings.max_targets,
                           stream(seed, Purpose.RETARGET_TARGETS, level))
        rows += _retarget_maze(policy, maze, level, targets, sets, values, layer,
                               probe.shape[-1], settings.fill, observer, batch)
    targets = pd.DataFrame(rows)
    clamps = pd.DataFrame([{"channel_set": name, "channel": c, "value": values[c]}
                           for name, channels in sets.items() for c in channels],
                          columns=["channel_set", "channel", "value"])
    params = {**settings.to_dict(), "n_levels": len(mazes), "conditions": conditions(sets)}
    result = RetargetResult(targets, success_by(targets, "dist_to_tr_path", DISTANCE_BINS,
                                                "distance_bin", seed=seed, n_boot=n_boot),
                            success_by(targets, "maze_dim", SIZE_BINS, "size_bin", seed=seed,
                                       n_boot=n_boot),
                            clamps, table, params, tuple(mazes[:settings.n_heatmaps]))
    return result


def _targets(maze: Maze, max_targets: int | None, rng: np.random.Generator) -> list[Cell]:
    """The maze's reachable free cells but the start, in cell order; at most
    `max_targets` of them, drawn from `rng`."""
    reach = distances(maze, maze.start)
    cells = [c for c in maze.free_cells() if c != maze.start and c in reach]
    if max_targets is None or len(cells) <= max_targets:
        return cells
    return [cells[k] for k in sorted(rng.choice(len(cells), max_targets, replace=False))]


def _retarget_maze(policy: Policy, maze: Maze, level: int, targets: list[Cell],
                   sets: dict[str, list[int]], values: dict[int, float], layer: str,
                   size: int, fill: float | None, observer: Observer, batch: int
                   ) -> list[dict]:
    """The target rows of one maze, every condition (`conditions`)."""
    if not targets:
        return []
    paths = [shortest_path(maze, maze.start, t) for t in targets]
    steps, facings, _, _ = path_steps(maze, paths, maze.reflected)
    table = ObservationTable(maze, observer, states=zip(steps, facings, strict=True),
                             policy=policy, layer=layer, batch=batch)
    to_tr = steps_to_path(maze, shortest_path(maze, maze.start, maze.top_right))
    cells = np.array([maze_to_activation_cell(x, y, maze.maze_dim, maze.world_dim, size)
                      for x, y in targets])
    act_rows, act_cols = torch.as_tensor(cells[:, 0]), torch.as_tensor(cells[:, 1])
    success = {NO_EDIT: path_probability(policy, table, paths, batch=batch),
               CHEESE: cheese_success(policy, maze, paths, observer, batch=batch)}
    for name, channels in sets.items():
        vals = torch.tensor([values[c] for c in channels], dtype=torch.float32)

        def clamp(idx: np.ndarray, channels=channels, vals=vals) -> list[SetCell]:
            idx = torch.as_tensor(idx)
            return [SetCell(layer, channels, act_rows[idx], act_cols[idx], vals, fill)]

        success[name] = path_probability(policy, table, paths, clamp, batch=batch)
    common = [{"level": level, "maze_dim": maze.maze_dim, "x": t[0], "y": t[1],
               "act_row": int(r), "act_col": int(c), "steps": len(p) - 1,
               "dist_to_tr_path": int(to_tr[t]), "region": region_of(t, maze.maze_dim)}
              for t, (r, c), p in zip(targets, cells, paths, strict=True)]
    return [{**row, "condition": name, "p_path": float(p)}
            for name, ps in success.items() for row, p in zip(common, ps, strict=True)]


def cheese_success(policy: Policy, maze: Maze, paths: Sequence[Sequence[Cell]],
                   observer: Observer | None = None, *, batch: int = BATCH) -> np.ndarray:
    """p_path of each path (start ... target) of the unedited policy in the maze with
    the cheese moved to the path's target: each step's observation rendered with the
    cheese there, `CHUNK` observations at a time."""
    out, group = [], []
    for k, path in enumerate(paths):
        group.append(path)
        if sum(len(p) for p in group) >= CHUNK or k == len(paths) - 1:
            cells, facings, moves, owner = path_steps(maze, group, maze.reflected)
            mazes = [move_cheese(maze, p[-1]) for p in group]
            pairs = [(mazes[o], c) for o, c in zip(owner, cells, strict=True)]
            views = (frames if worthwhile(policy) else render)(pairs, observer, facings)
            out.append(geometric_means(probs(policy, views, batch=batch), moves, owner,
                                       len(group)))
            group = []
    return np.concatenate(out) if out else np.empty(0)


def _label(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return str(low) if low == high else f"{low}-{high}" if high < 10**6 else f"{low}+"


def success_by(targets: pd.DataFrame, column: str, bins: Sequence[tuple[int, int]], name: str,
               *, seed: int = 0, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Success by condition and bin of `column` (see `RetargetResult.by_distance`)."""
    if targets.empty:
        return pd.DataFrame()
    labels = [_label(b) for b in bins]
    binned = targets.assign(**{name: pd.Categorical(targets[column].map(
        lambda v: next(_label(b) for b in bins if b[0] <= v <= b[1])), labels, ordered=True)})
    out = []
    for label, in_bin in binned.groupby(name, observed=True):
        wide = in_bin.pivot_table(index="level", columns="condition", values="p_path",
                                  aggfunc="mean")
        for condition in dict.fromkeys(in_bin["condition"]):
            rows = in_bin[in_bin["condition"] == condition]
            mean = mean_ci(wide[condition].to_numpy(), seed=seed, n_boot=n_boot)
            ratio = ratio_ci(wide[condition].to_numpy(), wide[NO_EDIT].to_numpy(), seed=seed,
                             n_boot=n_boot)
            out.append({"condition": condition, name: label, "n_targets": len(rows),
                        "n_levels": mean.n, "p_path": mean.estimate,
                        "p_path_ci_low": mean.ci_low, "p_path_ci_high": mean.ci_high,
                        "ratio": ratio.estimate, "ratio_ci_low": ratio.ci_low,
                        "ratio_ci_high": ratio.ci_high})
    table = pd.DataFrame(out)
    order = {c: k for k, c in enumerate(dict.fromkeys(targets["condition"]))}
    return table.sort_values([name, "condition"], key=lambda s: s.map(
        order if s.name == "condition" else {b: k for k, b in enumerate(labels)}),
        kind="stable", ignore_index=True)
