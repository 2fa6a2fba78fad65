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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.env import Observer
from behavstats.geometry import world_chebyshev
from behavstats.hooks import VECTOR_LAYER
from behavstats.interventions.channels import published_share, run_channels, top_channels
from behavstats.interventions.effects import N_BOOT, mean_ci, published_change, tv_distance
from behavstats.interventions.forward import (
    BATCH,
    FIELD_GROUP,
    NoUsableLevelsError,
    as_mazes,
    check_channels,
    field_groups,
    level_id,
)
from behavstats.interventions.output import write_outputs
from behavstats.interventions.vectors import start_activations
from behavstats.maze import Maze
from behavstats.maze.coords import world_to_maze
from behavstats.maze.edits import move_cheese, move_mouse
from behavstats.policy import Policy
from behavstats.reference import reference_results

LOCATIONS = ("same", "different")
DEFAULT_SOURCE_LEVELS = range(10_000, 11_000)
DEFAULT_DISCOVERY_LEVELS = range(1000, 1100)
@dataclass(frozen=True)
class MaskedReplace:
    """Per-sample channel replacement: activation[r, c] = source[r, c] wherever
    mask[r, c]; source (N, C, H, W), mask (N, C) bool."""

    layer: str
    source: torch.Tensor
    mask: torch.Tensor

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        out = activation.clone()  # keeps the memory layout the next layer expects
        out.copy_(torch.where(self.mask[:, :, None, None], self.source.to(activation.dtype),
                              activation))
        return out


@dataclass
class ResampleResult:
    """What `run_resample` measured.

    effects: one row per level, channel set and location: level, channel_set
        (cheese, random, cheese_single, random_single), location (same / different),
        channels (space-separated), source_level, source_cheese_x, source_cheese_y
        (maze frame of the source), n_cells, tv, published.
    channel_sets: cheese and cheese_single channels; channels: discovery table (empty
        if channels were given).
    """

    effects: pd.DataFrame
    channel_sets: dict[str, list[int]]
    channels: pd.DataFrame
    summary: dict


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
                 out_dir: str | Path | None = None, *, channels: Sequence[int] | None = None,
                 layer: str = VECTOR_LAYER,
                 source_levels: Sequence[int] | Sequence[Maze] = DEFAULT_SOURCE_LEVELS,
                 discovery_levels: Sequence[int] | Sequence[Maze] = DEFAULT_DISCOVERY_LEVELS,
                 near: int = 2, mode: str = "hard", seed: int = 0, n_boot: int = N_BOOT,
                 progress: bool = False, batch: int = BATCH) -> ResampleResult:
    """Resample the cheese channels (default: the `published_share` best channels of a
    discovery on `discovery_levels`, best first) and random other channels in each
    level (seeds or mazes), sources drawn from `source_levels`; with `out_dir`, also
    write the result."""
    table = pd.DataFrame()
    if channels is None:
        table = run_channels(policy, discovery_levels, layer=layer, mode=mode, seed=seed,
                             batch=batch).table
        channels = top_channels(table, published_share(len(table)))
    targets = [m for m in as_mazes(levels, mode) if m.cheese is not None]
    if not targets:
        raise NoUsableLevelsError("no level has a cheese to resample around")
    pool = as_mazes(source_levels, mode)
    observer = Observer(batch=batch)
    probe = start_activations(policy, targets[:1], layer, observer)
    n_channels = probe.shape[1]
    channels = check_channels(channels, n_channels, layer)
    others = np.setdiff1d(np.arange(n_channels), channels)
    sets = {"cheese": channels, "cheese_single": channels[:1]}

    jobs = []  # (target index, set name, location, channel list, source maze)
    for i, target in enumerate(targets):
        rng = np.random.default_rng([seed, level_id(target, i)])
        chosen = {"cheese": channels,
                  "random": sorted(rng.choice(others, size=min(len(channels), len(others)),
                                              replace=False).tolist()),
                  "cheese_single": channels[:1],
                  "random_single": [int(rng.choice(others))] if len(others) else []}
        if len(channels) == 1:
            chosen = {k: chosen[k] for k in ("cheese", "random")}
        for location in LOCATIONS:
            source = find_source(target, pool, location, rng, near)
            if source is None:
                continue
            jobs += [(i, name, location, chs, source) for name, chs in chosen.items() if chs]
    if not jobs:
        raise NoUsableLevelsError("no source maze fits any level: give more source levels")
    unique = list(dict.fromkeys(job[4] for job in jobs))
    source_acts = start_activations(policy, unique, layer, observer)
    source_index = {m: k for k, m in enumerate(unique)}

    rows = []
    groups = field_groups(policy, targets, layer, observer, batch=batch)
    for group, field_rows, cache in tqdm(groups, total=-(-len(targets) // FIELD_GROUP),
                                         desc="resample", disable=not progress):
        group = group.tolist()
        original = field_rows.split(cache.probs())
        mine = [job for job in jobs if job[0] in group]
        # One pass over every job of the group: job j covers rows of its target maze.
        local = {i: k for k, i in enumerate(group)}
        counts = [len(field_rows.cells[local[job[0]]]) for job in mine]
        offsets = np.concatenate([[0], np.cumsum([len(c) for c in field_rows.cells])])
        index = np.concatenate([np.arange(offsets[local[job[0]]], offsets[local[job[0]] + 1])
                                for job in mine])
        job_of_row = np.repeat(np.arange(len(mine)), counts)
        masks = torch.zeros(len(mine), n_channels, dtype=torch.bool)
        for j, job in enumerate(mine):
            masks[j, job[3]] = True
        sources = torch.as_tensor([source_index[job[4]] for job in mine])

        def edits(r: np.ndarray, masks=masks, sources=sources, job_of_row=job_of_row
                  ) -> list[MaskedReplace]:
            j = torch.as_tensor(job_of_row[r])
            return [MaskedReplace(layer, source_acts[sources[j]], masks[j])]

        resampled = cache.probs(edits, index=index)
        parts = np.split(resampled, np.cumsum(counts)[:-1])
        for job, p in zip(mine, parts, strict=True):
            i, name, location, chs, source = job
            q = original[local[i]]
            rows.append({"level": level_id(targets[i], i),
                         "channel_set": name, "location": location,
                         "channels": " ".join(map(str, chs)), "source_level": source.level,
                         "source_cheese_x": source.cheese[0],
                         "source_cheese_y": source.cheese[1], "n_cells": len(q),
                         "tv": float(tv_distance(p, q).mean()),
                         "published": published_change(p, q)})
    effects = pd.DataFrame(rows)
    summary = {"layer": layer, "channels": channels, "near": near, "seed": seed,
               "n_levels": len(targets), **summarise_resample(effects, seed=seed,
                                                              n_boot=n_boot),
               "published": reference_results()["resampling"]}
    result = ResampleResult(effects, sets, table, summary)
    if out_dir is not None:
        write_resample(result, out_dir)
    return result


def summarise_resample(effects: pd.DataFrame, *, seed: int = 0, n_boot: int = N_BOOT) -> dict:
    """Mean tv and published effect with bootstrap intervals for every channel set and
    location; paired per-level differences cheese - random (per location, also for
    the single channels) and different - same (per set)."""
    cells = {}
    for (name, location), rows in effects.groupby(["channel_set", "location"]):
        cells[f"{name}/{location}"] = {m: mean_ci(rows[m], seed=seed, n_boot=n_boot)
                                       for m in ("tv", "published")}
    wide = effects.pivot_table(index="level", columns=["channel_set", "location"],
                               values="tv")
    paired = {}
    for a, b in (("cheese", "random"), ("cheese_single", "random_single")):
        for location in LOCATIONS:
            if (a, location) in wide and (b, location) in wide:
                paired[f"{a} - {b} / {location}"] = mean_ci(
                    (wide[(a, location)] - wide[(b, location)]).to_numpy(), seed=seed,
                    n_boot=n_boot)
    for name in effects["channel_set"].unique():
        if (name, "same") in wide and (name, "different") in wide:
            paired[f"{name} / different - same"] = mean_ci(
                (wide[(name, "different")] - wide[(name, "same")]).to_numpy(), seed=seed,
                n_boot=n_boot)
    return {"effects": cells, "paired_tv": paired}


def summary_table(result: ResampleResult) -> pd.DataFrame:
    """One row per channel set and location: n and mean / interval of both statistics
    (tv and published, as fractions; the published table is in percent)."""
    rows = []
    for key, metrics in result.summary["effects"].items():
        name, location = key.split("/")
        row = {"channel_set": name, "location": location, "n": metrics["tv"]["n"]}
        for m, s in metrics.items():
            row.update({f"{m}_mean": s["mean"], f"{m}_ci_low": s["ci_low"],
                        f"{m}_ci_high": s["ci_high"]})
        rows.append(row)
    return pd.DataFrame(rows)


def write_resample(result: ResampleResult, out_dir: str | Path) -> list[Path]:
    """effects.csv, summary.csv, channels.csv (if discovered), summary.json and the
    figure resample.png (both statistics by channel set and location, with
    intervals)."""
    from behavstats.plots import interventions as plots

    table = summary_table(result)
    tables = {"effects": result.effects, "summary": table}
    if not result.channels.empty:
        tables["channels"] = result.channels
    figures = {"resample": lambda: plots.plot_resample(table)}
    return write_outputs(out_dir, tables, result.summary, figures)
