"""Channel discovery: which channels of a layer track where the cheese is.

Each maze gets its cheese put on `placements` random free cells (seeded per level; the
mouse stays at the start), and for every channel c and sample s the map A[s, c] (H x W)
is reduced to its arg-max cell and to the centroid of its positive mass
(max(A, 0)); both are compared with the cheese's activation cell
(`maze_to_activation_cell`, the package's single conversion):

- argmax_corr: mean over the row and column coordinates of the Pearson correlation,
  across samples, between the arg-max and the cheese cell;
- mass_corr: the same for the positive-mass centroid (samples with no positive mass
  left out);
- argmax_hit: share of samples whose arg-max lies within `radius` cells (Chebyshev)
  of the cheese cell; chance is about (2 radius + 1)^2 / (H W);
- cheese_mean / other_mean: mean activation at the cheese cell / at the other cells;
- cheese_max: largest activation at the cheese cell over all samples (the scale of
  the retargeting clamp); act_max: largest activation anywhere.

score = (argmax_corr + mass_corr) / 2, a constant channel (NaN correlation) scoring 0;
channels are ranked by score. A channel that tracks the cheese scores near 1. The
published cheese channels (55 and ten others) belong to a different network: run this
on each policy.
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

from behavstats.engine import BATCH, activations
from behavstats.env import Observer, render
from behavstats.experiments import DISCOVERY_LEVELS, Channels
from behavstats.interventions.forward import ChannelError, NoUsableLevelsError, as_mazes
from behavstats.levelspec import format_levels, parse_levels
from behavstats.maze import Maze
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.edits import move_cheese, move_mouse
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, quantity_row
from behavstats.seeding import Purpose, stream

TRACK_THRESHOLD = 0.5
TABLE_COLUMNS = ("channel", "rank", "score", "argmax_corr", "mass_corr", "argmax_hit",
                 "cheese_mean", "other_mean", "cheese_max", "act_max")
N_EXAMPLE_MAPS = 3


@dataclass(frozen=True, eq=False)
class ChannelResult(Result):
    """What `Channels.run` (`run_channels`) measured.

    table: one row per channel, `TABLE_COLUMNS` (see the module docstring), best first.
    samples: one row per maze sample: level, cheese_x, cheese_y (maze frame), row, col
        (the cheese's activation cell).
    params: the settings (`Channels`) and n_samples, n_channels, map_cells (H x W
        of a map), track_threshold.
    example_maps: figure material, (samples, channels, H, W) maps of the first samples
        for `example_channels`; not saved.
    """

    table: pd.DataFrame
    samples: pd.DataFrame
    params: dict
    example_maps: np.ndarray | None = figure_only(None)
    topic = "channels"
    settings_type = Channels

    @property
    def tracked(self) -> list[int]:
        """Channels whose score reaches the threshold, best first."""
        return tracked_channels(self.table, self.params["track_threshold"])

    @property
    def example_channels(self) -> list[int]:
        """The best channels (up to 4), those of `example_maps`."""
        return top_channels(self.table, min(4, self.params["n_channels"]))

    def _rows(self) -> list[dict]:
        """The chance hit rate, how many channels are tracked, and the score and hit
        rate of the ten best channels."""
        p = self.params
        chance = min(1.0, (2 * p["radius"] + 1) ** 2 / p["map_cells"])
        rows = [quantity_row("chance_hit", f"radius {p['radius']}", chance),
                quantity_row("tracked_channels", f"score >= {p['track_threshold']:g}",
                             len(self.tracked), n=p["n_channels"])]
        for r in self.table.head(10).itertuples():
            rows += [quantity_row("channel_score", f"channel {r.channel}", r.score,
                                  n=p["n_samples"]),
                     quantity_row("argmax_hit", f"channel {r.channel}", r.argmax_hit,
                                  n=p["n_samples"])]
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Channel scores, and the best channels' maps with the cheese cell marked."""
        from behavstats.plots import interventions as plots

        figures = {"channel_scores": lambda: plots.plot_channel_scores(self.table)}
        if self.example_maps is not None:
            cells = self.samples[["row", "col"]].to_numpy()[: len(self.example_maps)]
            figures["channel_maps"] = lambda: plots.plot_channel_maps(
                self.example_maps, cells, self.example_channels)
        return figures


def cheese_placements(mazes: Sequence[Maze], placements: int, seed: int = 0) -> list[Maze]:
    """Each maze with its cheese on `placements` distinct random free cells other than
    the start (fewer in tiny mazes) and the mouse at the start; cells drawn from the
    level's PLACEMENTS stream."""
    out = []
    for i, maze in enumerate(mazes):
        maze = move_mouse(maze, maze.start)
        cells = [c for c in maze.free_cells() if c != maze.start]
        rng = stream(seed, Purpose.PLACEMENTS, level_id(maze, i))
        for k in rng.choice(len(cells), size=min(placements, len(cells)), replace=False):
            out.append(move_cheese(maze, cells[int(k)]))
    return out


def _corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of x (N, C) with y (N,), NaN rows dropped per
    column; NaN where a column is constant."""
    out = np.full(x.shape[1], np.nan)
    for c in range(x.shape[1]):
        ok = ~np.isnan(x[:, c])
        if ok.sum() < 3:
            continue
        a, b = x[ok, c] - x[ok, c].mean(), y[ok] - y[ok].mean()
        scale = np.sqrt((a * a).mean() * (b * b).mean())
        if scale > 1e-9:
            out[c] = float(np.clip((a * b).mean() / scale, -1.0, 1.0))
    return out


@dataclass
class _Reductions:
    """Per-sample, per-channel reductions of the maps (N, C each)."""

    argmax: np.ndarray
    centroid: np.ndarray
    at_cheese: np.ndarray
    total: np.ndarray
    peak: np.ndarray

    @classmethod
    def of(cls, maps: torch.Tensor, cells: np.ndarray) -> _Reductions:
        n, c, h, w = maps.shape
        flat = maps.reshape(n, c, h * w)
        arg = flat.argmax(dim=2)
        argmax = torch.stack([arg // w, arg % w], dim=-1).numpy()
        positive = flat.clamp(min=0)
        mass = positive.sum(dim=2)
        rows = torch.arange(h).repeat_interleave(w).float()
        cols = torch.arange(w).repeat(h).float()
        centroid = torch.stack([(positive * rows).sum(2), (positive * cols).sum(2)], dim=-1)
        centroid = (centroid / mass[..., None]).numpy()
        centroid[mass.numpy() == 0] = np.nan
        at = maps[torch.arange(n), :, torch.as_tensor(cells[:, 0]), torch.as_tensor(cells[:, 1])]
        return cls(argmax, centroid, at.numpy(), flat.sum(dim=2).numpy(),
                   flat.amax(dim=2).numpy())

    @classmethod
    def concat(cls, parts: list[_Reductions]) -> _Reductions:
        return cls(*(np.concatenate([getattr(p, k) for p in parts])
                     for k in ("argmax", "centroid", "at_cheese", "total", "peak")))


def channel_scores(maps: np.ndarray | torch.Tensor, cheese_cells: np.ndarray,
                   radius: int = 1) -> pd.DataFrame:
    """Rank the channels of activation maps (N, C, H, W) by how well they track the
    cheese cells (N, 2) (row, col): `TABLE_COLUMNS`, best first."""
    maps = torch.as_tensor(maps).float()
    cells = np.asarray(cheese_cells, dtype=int)
    return _score(_Reductions.of(maps, cells), cells, maps.shape[2] * maps.shape[3], radius)


def _score(red: _Reductions, cells: np.ndarray, n_cells: int, radius: int) -> pd.DataFrame:
    argmax_corr = (_corr(red.argmax[..., 0].astype(float), cells[:, 0])
                   + _corr(red.argmax[..., 1].astype(float), cells[:, 1])) / 2
    mass_corr = (_corr(red.centroid[..., 0], cells[:, 0])
                 + _corr(red.centroid[..., 1], cells[:, 1])) / 2
    hit = (np.abs(red.argmax - cells[:, None, :]).max(axis=2) <= radius).mean(axis=0)
    table = pd.DataFrame({
        "channel": np.arange(red.argmax.shape[1]),
        "score": (np.nan_to_num(argmax_corr) + np.nan_to_num(mass_corr)) / 2,
        "argmax_corr": argmax_corr, "mass_corr": mass_corr, "argmax_hit": hit,
        "cheese_mean": red.at_cheese.mean(axis=0),
        "other_mean": ((red.total - red.at_cheese) / (n_cells - 1)).mean(axis=0),
        "cheese_max": red.at_cheese.max(axis=0), "act_max": red.peak.max(axis=0)})
    table = table.sort_values(["score", "channel"], ascending=[False, True],
                              ignore_index=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table[list(TABLE_COLUMNS)]


def top_channels(table: pd.DataFrame, k: int) -> list[int]:
    """The k best-ranked channels."""
    return [int(c) for c in table.sort_values("rank")["channel"].head(k)]


def tracked_channels(table: pd.DataFrame, threshold: float = TRACK_THRESHOLD) -> list[int]:
    """Channels whose score reaches `threshold`, best first."""
    return [int(c) for c in table.sort_values("rank").query("score >= @threshold")["channel"]]


def published_share(n_channels: int) -> int:
    """As many channels as the published 11 cheese channels are of 128, at this width
    (at least 1): 11 at scale 4, 3 at scale 1."""
    return max(1, round(11 * n_channels / 128))


Discovery = ChannelResult | Sequence[int] | Sequence[Maze]
"""A finished channel discovery, or the levels (seeds or mazes) to run one on."""
DEFAULT_DISCOVERY_LEVELS = parse_levels(DISCOVERY_LEVELS)
"""The default discovery's level seeds (the setting is `discovery_levels`)."""


def discovery_levels_setting(discovery: Discovery | None, settings: dict[str, Any]
                             ) -> Discovery | None:
    """What an experiment's `run` gets as its `discovery` input: None when `discovery`
    is level seeds, which then become the `discovery_levels` setting (a level spec) in
    `settings`; a finished discovery or mazes are inputs, returned as they are."""
    if discovery is None or isinstance(discovery, ChannelResult) or (
            discovery and isinstance(next(iter(discovery)), Maze)):
        return discovery
    settings["discovery_levels"] = format_levels(discovery)
    return None


def discovered_channels(policy: Policy, discovery: Discovery, *, layer: str, mode: str,
                        seed: int, batch: int = BATCH) -> pd.DataFrame:
    """The channel table (`ChannelResult.table`) of `discovery`: of the finished result
    given (ChannelError if it ranks another layer's channels), or of a discovery run
    now on the levels given."""
    if isinstance(discovery, ChannelResult):
        if discovery.params["layer"] != layer:
            raise ChannelError(f"the channel discovery given ranks the channels of "
                               f"{discovery.params['layer']}, not of {layer}")
        return discovery.table
    return Channels(layer=layer, mode=mode, seed=seed).run(policy, discovery,
                                                           batch=batch).table


def run_channels(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, progress: bool = False,
                 batch: int = BATCH, **settings: Any) -> ChannelResult:
    """`Channels(**settings).run(policy, levels, out_dir)`: rank the channels of a
    layer by how well they track the cheese over the levels (seeds or mazes)."""
    return Channels(**settings).run(policy, levels, out_dir, progress=progress, batch=batch)


def compute(settings: Channels, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            progress: bool = False, batch: int = BATCH) -> ChannelResult:
    """The channel discovery (`Channels.run`): each level with `placements` random
    cheese cells."""
    layer, placements = settings.layer, settings.placements
    samples = cheese_placements(as_mazes(levels, settings.mode), placements, settings.seed)
    if not samples:
        raise NoUsableLevelsError("no maze to place the cheese in: pass some levels")
    observer = Observer(batch=batch)
    parts, sample_rows, maps_head = [], [], None
    chunk = 4 * batch
    for start in tqdm(range(0, len(samples), chunk), desc="channels", disable=not progress):
        part = samples[start : start + chunk]
        maps = activations(policy, render([(m, m.mouse) for m in part], observer), layer,
                           batch=batch)
        size = maps.shape[-1]
        cells = np.array([maze_to_activation_cell(*m.cheese, m.maze_dim, m.world_dim, size)
                          for m in part])
        parts.append((_Reductions.of(maps, cells), cells))
        if maps_head is None:
            maps_head = maps[:N_EXAMPLE_MAPS]
        sample_rows += [{"level": m.level, "cheese_x": m.cheese[0], "cheese_y": m.cheese[1],
                         "row": int(r), "col": int(c)} for m, (r, c) in zip(part, cells,
                                                                             strict=True)]
    cells = np.concatenate([c for _, c in parts])
    table = _score(_Reductions.concat([r for r, _ in parts]), cells,
                   maps_head.shape[2] * maps_head.shape[3], settings.radius)
    n_channels = maps_head.shape[1]
    params = {**settings.to_dict(), "n_samples": len(samples), "n_channels": n_channels,
              "map_cells": maps_head.shape[2] * maps_head.shape[3],
              "track_threshold": TRACK_THRESHOLD}
    shown = top_channels(table, min(4, n_channels))
    return ChannelResult(table, pd.DataFrame(sample_rows), params,
                         maps_head[:, shown].numpy())
