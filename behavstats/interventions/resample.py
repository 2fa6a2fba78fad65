"""Resampling channels from other mazes (causal-scrubbing style).

Hypothesis under test: the cheese channels carry only where the cheese is. For each
target maze, a source maze is drawn from a pool of other levels (seeded) and its
cheese put either on the same world cell as the target's ("same": where it appears
in the observation, mazes of different sizes being centred differently) or on a
random free cell more than `near` world cells (Chebyshev) away ("different"). The
source is forwarded once with the mouse at its start; then at every cell of the
target's vector field the chosen channels of `layer` are replaced by the source's.
If the hypothesis holds, "same" barely changes behaviour and "different" does.
Channel sets: the cheese channels, the same number of random other channels (drawn
per level), and the single best cheese channel against one random other channel.

Effect per level, side by side:
- tv: mean over the field's cells of the total-variation distance
  0.5 * sum |p - q| over the five moves between original and resampled;
- published: the published statistic, Frobenius norm of the (n, 2) matrix of arrow
  (net probability vector) differences divided by the number of positions n and by 2
  (`effects.published_change`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.engine import BATCH
from behavstats.env import Observer
from behavstats.experiments import Resample
from behavstats.geometry import world_chebyshev
from behavstats.hooks import ReplaceChannels
from behavstats.interventions.channels import (  # DEFAULT_DISCOVERY_LEVELS: its old home
    DEFAULT_DISCOVERY_LEVELS,  # noqa: F401
    Discovery,
    discovered_channels,
    discovery_levels_setting,
    published_share,
    top_channels,
)
from behavstats.interventions.effects import mean_ci, published_change, tv_distance
from behavstats.interventions.forward import (
    NoUsableLevelsError,
    as_mazes,
    check_channels,
    field_groups,
)
from behavstats.interventions.vectors import start_activations
from behavstats.levelspec import format_levels, parse_levels
from behavstats.maze import Maze
from behavstats.maze.coords import world_to_maze
from behavstats.maze.edits import move_cheese, move_mouse
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.quantities import resampled
from behavstats.results import Result
from behavstats.seeding import Purpose, stream
from behavstats.vfield import FIELD_GROUP

LOCATIONS = ("same", "different")
DEFAULT_SOURCE_LEVELS = parse_levels(Resample.default("source_levels"))
"""The default pool's level seeds (the setting is `source_levels`)."""


class _Job(NamedTuple):
    """One resampling: channels of a channel set replaced in target `targets[target]`
    by those of `source` (cheese at the `location` asked)."""

    target: int
    channel_set: str
    location: str
    channels: list[int]
    source: Maze


@dataclass(frozen=True, eq=False)
class ResampleResult(Result):
    """What `Resample.run` (`run_resample`) measured.

    effects: one row per level, channel set and location: level, channel_set
        (cheese, random, cheese_single, random_single), location (same / different),
        channels (space-separated), source_level, source_cheese_x, source_cheese_y
        (maze frame of the source), n_cells, tv, published.
    channels: the discovery table (empty if channels were given).
    params: the settings (`Resample`) with channels the cheese channels used (best
        first), and n_levels.
    """

    effects: pd.DataFrame
    channels: pd.DataFrame
    params: dict
    topic = "resample"
    settings_type = Resample

    @property
    def channel_sets(self) -> dict[str, list[int]]:
        """The cheese channels and the best of them alone."""
        return {"cheese": self.params["channels"], "cheese_single": self.params["channels"][:1]}

    def _rows(self) -> list[dict]:
        """Mean tv and published effect with bootstrap intervals for every channel set and
        location; paired per-level differences of tv, cheese - random (per location, also
        for the single channels) and different - same (per set)."""
        effects = self.effects
        common = {"seed": self.params["seed"], "n_boot": self.params["n_boot"]}
        rows = [mean_ci(r[column], **common).row(quantity, resampled(name, location))
                for (name, location), r in effects.groupby(["channel_set", "location"])
                for quantity, column in (("tv", "tv"), ("published_change", "published"))]
        wide = effects.pivot_table(index="level", columns=["channel_set", "location"],
                                   values="tv")

        def paired(condition: str, a: tuple[str, str], b: tuple[str, str]) -> list[dict]:
            if a not in wide or b not in wide:
                return []
            return [mean_ci((wide[a] - wide[b]).to_numpy(), **common).row("tv_difference",
                                                                          condition)]

        for a, b in (("cheese", "random"), ("cheese_single", "random_single")):
            for location in LOCATIONS:
                rows += paired(resampled(f"{a} - {b}", location), (a, location), (b, location))
        for name in effects["channel_set"].unique():
            rows += paired(f"{name}, different - same location", (name, "different"),
                           (name, "same"))
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Both statistics by channel set and location, with intervals."""
        from behavstats.plots import interventions as plots

        names = sorted(self.effects["channel_set"].unique())
        return {"resample": lambda: plots.plot_resample(self.summary(), names)}


def find_source(target: Maze, pool: Sequence[Maze], location: str, rng: np.random.Generator,
                near: int = 2) -> Maze | None:
    """A maze of the pool (not the target's level), mouse at its start, with the cheese
    on the target cheese's world cell ("same") or on a random free cell more than
    `near` world cells from it ("different"); None if no pool maze fits."""
    wx, wy = target.world_cell(target.cheese)
    for k in rng.permutation(len(pool)):
        candidate = move_mouse(pool[k], pool[k].start)
        if candidate.level is not None and candidate.level == target.level:
            continue
        if location == "same":
            cell = world_to_maze(wx, wy, candidate.maze_dim, candidate.world_dim)
            if candidate.is_free(cell) and cell != candidate.start:
                return move_cheese(candidate, cell)
        else:
            cells = [c for c in candidate.free_cells() if c != candidate.start
                     and world_chebyshev(candidate, c, target, target.cheese) > near]
            if cells:
                return move_cheese(candidate, cells[int(rng.integers(len(cells)))])
    return None


def run_resample(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, discovery: Discovery | None = None,
                 source_levels: Sequence[int] | Sequence[Maze] | None = None,
                 progress: bool = False, batch: int = BATCH, **settings: Any
                 ) -> ResampleResult:
    """`Resample(**settings).run(policy, levels, out_dir, ...)`: resample the cheese
    channels and random other channels in each level (seeds or mazes). discovery: a
    finished channel discovery or the levels to run one on; source_levels: the pool of
    source levels or mazes (defaults: the settings' `discovery_levels`,
    `source_levels`)."""
    discovery = discovery_levels_setting(discovery, settings)
    sources = None
    if source_levels is not None and isinstance(next(iter(source_levels), None), Maze):
        sources = list(source_levels)
    elif source_levels is not None:
        settings["source_levels"] = format_levels(source_levels)
    return Resample(**settings).run(policy, levels, out_dir, discovery=discovery,
                                    sources=sources, progress=progress, batch=batch)


def compute(settings: Resample, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            discovery: Discovery | None = None, sources: Sequence[Maze] | None = None,
            progress: bool = False, batch: int = BATCH) -> ResampleResult:
    """Resampling (`Resample.run`): the cheese channels (the settings', else the
    `published_share` best of the channel discovery `discovery`, else of one on the
    `discovery_levels` setting) and random other channels, sources drawn from `sources`
    (default: the `source_levels` setting)."""
    channels, layer, mode, seed = (settings.channels, settings.layer, settings.mode,
                                   settings.seed)
    if discovery is None:
        discovery = parse_levels(settings.discovery_levels)
    table = pd.DataFrame()
    if channels is None:
        table = discovered_channels(policy, discovery, layer=layer, mode=mode, seed=seed,
                                    batch=batch)
        channels = top_channels(table, published_share(len(table)))
    targets = [m for m in as_mazes(levels, mode) if m.cheese is not None]
    if not targets:
        raise NoUsableLevelsError("no level has a cheese to resample around")
    pool = sources if sources is not None else as_mazes(
        parse_levels(settings.source_levels), mode)
    observer = Observer(batch=batch)
    probe = start_activations(policy, targets[:1], layer, observer)
    n_channels = probe.shape[1]
    channels = check_channels(channels, n_channels, layer)
    others = np.setdiff1d(np.arange(n_channels), channels)

    jobs: list[_Job] = []
    for i, target in enumerate(targets):
        level = level_id(target, i)
        rng = stream(seed, Purpose.RANDOM_CHANNELS, level)
        chosen = {"cheese": channels,
                  "random": sorted(rng.choice(others, size=min(len(channels), len(others)),
                                              replace=False).tolist()),
                  "cheese_single": channels[:1],
                  "random_single": [int(rng.choice(others))] if len(others) else []}
        if len(channels) == 1:
            chosen = {k: chosen[k] for k in ("cheese", "random")}
        for k, location in enumerate(LOCATIONS):
            source = find_source(target, pool, location,
                                 stream(seed, Purpose.SOURCES, level, k), settings.near)
            if source is None:
                continue
            jobs += [_Job(i, name, location, chs, source) for name, chs in chosen.items() if chs]
    if not jobs:
        raise NoUsableLevelsError("no source maze fits any level: give more source levels")
    unique = list(dict.fromkeys(job.source for job in jobs))
    source_acts = start_activations(policy, unique, layer, observer)
    source_index = {m: k for k, m in enumerate(unique)}

    rows = []
    groups = field_groups(policy, targets, layer, observer, batch=batch)
    for group, field_rows, cache in tqdm(groups, total=-(-len(targets) // FIELD_GROUP),
                                         desc="resample", disable=not progress):
        group = group.tolist()
        original = field_rows.split(cache.probs())
        mine = [job for job in jobs if job.target in group]
        # One pass over every job of the group: job j covers rows of its target maze.
        local = {i: k for k, i in enumerate(group)}
        counts = [len(field_rows.cells[local[job.target]]) for job in mine]
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in field_rows.cells])])
        index = np.concatenate([np.arange(offsets[local[job.target]],
                                          offsets[local[job.target] + 1]) for job in mine])
        job_of_row = np.repeat(np.arange(len(mine)), counts)
        masks = torch.zeros(len(mine), n_channels, dtype=torch.bool)
        for j, job in enumerate(mine):
            masks[j, job.channels] = True
        sources = torch.as_tensor([source_index[job.source] for job in mine])

        def edits(r: np.ndarray, masks=masks, sources=sources, job_of_row=job_of_row
                  ) -> list[ReplaceChannels]:
            j = torch.as_tensor(job_of_row[r])
            return [ReplaceChannels(layer, masks[j], source_acts[sources[j]])]

        resampled = cache.probs(edits, index=index)
        parts = np.split(resampled, np.cumsum(counts)[:-1])
        for job, p in zip(mine, parts, strict=True):
            i, source = job.target, job.source
            q = original[local[i]]
            rows.append({"level": level_id(targets[i], i),
                         "channel_set": job.channel_set, "location": job.location,
                         "channels": " ".join(map(str, job.channels)),
                         "source_level": source.level,
                         "source_cheese_x": source.cheese[0],
                         "source_cheese_y": source.cheese[1], "n_cells": len(q),
                         "tv": float(tv_distance(p, q).mean()),
                         "published": published_change(p, q)})
    params = {**settings.to_dict(), "channels": channels, "n_levels": len(targets)}
    return ResampleResult(pd.DataFrame(rows), table, params)
