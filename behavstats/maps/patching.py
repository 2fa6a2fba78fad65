"""Activation patching maps: which channels and which cells of a layer carry what the
agent decides at the decision square.

For each level with a decision square (dsq), the clean run is the maze with the mouse
on its dsq. Each corruption (`CORRUPTIONS`) makes a twin of it with one maze edit
(`behavstats.maze.edits`), chosen so that the clean maze's dsq, and the moves there
towards the cheese and towards the top-right cell, stay what is measured:

- cheese_moved: the cheese on a random free cell (seeded, `Purpose.PATCH_TWINS`) whose
  path from the dsq does not start with the clean move towards the cheese (so that
  move no longer leads to it), nor the dsq itself;
- cheese_removed: no cheese;
- mouse_moved: the same maze with the mouse on the start cell instead of the dsq
  (levels whose dsq is the start have no twin). The two observations differ only in
  where the mouse is; both runs are read with the clean dsq's moves, so the corrupted
  run's P(cheese) is the probability of the same action taken from the start, and
  patching asks which activations carry "the mouse is at the fork";
- wall_toggled: one wall cell of the maze opened, at random among those not next to
  either path from the start (to the cheese, to the top-right cell) whose opening
  leaves both paths and the dsq as they were (none found: no twin).

Both runs are read at the clean dsq's moves: p_cheese = P(move towards the cheese) and
logit_diff = log P(towards the cheese) - log P(towards the top-right cell) (the move
groups' logit difference). A patch replaces, at `layer`, one unit of the run's
activation with the other run's: a channel at every position, or a cell of the map
with all its channels (`behavstats.hooks.Patch`); the network continues from the layer
(`engine.LayerCache`), all units x levels in a few batched passes. Directions:

- denoising: the clean unit into the corrupted run; restoration
  (patched - corrupted) / (clean - corrupted), the share of the clean behaviour the
  unit brings back (sufficiency);
- noising: the corrupted unit into the clean run; reported as
  (clean - patched) / (clean - corrupted), the share of the corruption's effect the unit
  alone carries (necessity).

Either way 1 means the unit carries the whole difference, 0 none, and patching every
unit restores exactly 1. A level whose clean and corrupted values differ by less than
the metric's floor (`Patching.floor`, `logit_floor`) has no restoration for that
metric (the ratio would be noise); the levels left out are counted.

Aggregation: per channel, and per cell offset from the clean cheese's activation cell
(x to the right, y up, in activation cells; within `window`), the mean restoration over
levels with a bootstrap interval (levels resampled, `effects.row_means_ci`) and a
one-sided sign-flip p-value that the mean is above 0 (`stats.multiplicity`);
Benjamini-Hochberg q over the family: every channel x direction x metric x corruption
(`FAMILY`), and separately every cell offset x ... (`CELL_FAMILY`). The cell mass near
the cheese: per level, the share of the cell map's positive restoration within `near`
activation cells of a cheese (the clean one, and for cheese_moved the moved one too),
against the share of cells that are that near. The channel x layer sweep repeats the
channel patch (denoising, `sweep_corruption`, `sweep_metric`) at every residual add
(its own family, `LAYER_FAMILY`). Cells map to maze squares for the figures with the
package's conversion (`maze_to_activation_cell`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.engine import BATCH, LayerCache
from behavstats.env import Observer, render
from behavstats.experiments import CORRUPTIONS, DIRECTIONS, PATCH_METRICS, UNITS, Patching
from behavstats.geometry import DecisionPoint
from behavstats.hooks import Patch
from behavstats.interventions.effects import mean_ci, row_means_ci
from behavstats.interventions.forward import ChannelError, decision_levels
from behavstats.maps.twins import PatchingError, Twin, twin
from behavstats.maze import Maze
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.results import Result, figure_only, quantity_row
from behavstats.seeding import Purpose, stream
from behavstats.stats.multiplicity import family_row, sign_flip_pvalues, with_tests

FAMILY = "corruption x direction x metric x channel"
"""The channel patches' family of tests, as its summary row names it."""
CELL_FAMILY = "corruption x direction x metric x cell offset"
"""The cell patches' family of tests."""
LAYER_FAMILY = "layer x channel"
"""The channel x layer sweep's family of tests."""
MASS_FAMILY = "corruption x direction x metric (cell mass near the cheese)"
"""The tests that the cell map's mass near the cheese exceeds the near cells' share."""
COLUMNS = ("layer", "corruption", "unit", "channel", "x", "y", "direction", "metric",
           "estimate", "ci_low", "ci_high", "n", "p_value", "q_value", "tracking_score",
           "ablation_effect")
LEVEL_COLUMNS = ("level", "corruption", "maze_dim", "has_dsq", "twin", "cheese_x",
                 "cheese_y", "dsq_x", "dsq_y", "edit_x", "edit_y", "cheese_row",
                 "cheese_col", "edit_row", "edit_col", *(f"{run}_{metric}" for run in
                                                        ("clean", "corrupted")
                                                        for metric in PATCH_METRICS))
SUMMARY_CHANNELS = 5
"""Channels per corruption, direction and metric in the summary (the largest)."""
_FLOORS = {"p_cheese": "floor", "logit_diff": "logit_floor"}
_TINY = 1e-12


@dataclass(frozen=True)
class PatchExample:
    """Figure material: a level's clean maze, its dsq and its twins by corruption."""

    level: int
    maze: Maze
    point: DecisionPoint
    twins: dict[str, Twin]


def decision_values(probs: np.ndarray, to_cheese: np.ndarray, to_top_right: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """The metrics (`PATCH_METRICS`) of move probabilities (rows, 5) whose row r is read
    at moves to_cheese[r] and to_top_right[r]."""
    rows = np.arange(len(probs))
    cheese, top = probs[rows, to_cheese], probs[rows, to_top_right]
    return {"p_cheese": cheese,
            "logit_diff": np.log(np.maximum(cheese, _TINY)) - np.log(np.maximum(top, _TINY))}


def restoration(patched: np.ndarray, clean: np.ndarray, corrupted: np.ndarray,
                direction: str) -> np.ndarray:
    """Denoising: (patched - corrupted) / (clean - corrupted); noising:
    (clean - patched) / (clean - corrupted). Broadcasts (clean and corrupted per level,
    patched per level and unit)."""
    gap = clean - corrupted
    with np.errstate(divide="ignore", invalid="ignore"):
        return (patched - corrupted) / gap if direction == "denoising" else \
            (clean - patched) / gap


def unit_count(shape: Sequence[int], unit: str) -> int:
    """Units of an activation (C, H, W): channels or cells."""
    return shape[0] if unit == "channel" else shape[1] * shape[2]


AGREE_RTOL, AGREE_ATOL = 1e-5, 1e-6
"""Two runs' activations agree where `torch.isclose` says so with these tolerances:
float32 rounding, which depends on the thread count (it orders the sums), must not
decide which units are tested."""


def changed_units(base: torch.Tensor, source: torch.Tensor, unit: str) -> np.ndarray:
    """Which units differ between two runs' activations (N, C, H, W) by more than
    rounding (`AGREE_RTOL`, `AGREE_ATOL`): (N, units) bool. Patching a unit that does
    not differ changes nothing."""
    differs = ~torch.isclose(base, source, rtol=AGREE_RTOL, atol=AGREE_ATOL)
    flat = differs.flatten(2).any(2) if unit == "channel" else differs.any(1).flatten(1)
    return flat.numpy()


def patch_units(base: LayerCache, source: torch.Tensor, unit: str, rows: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Move probabilities of each of `rows` of `base` (its observations) with each unit
    (`unit_count`) of `source[row]` (the other run's activations at `base.layer`)
    patched in, one unit at a time: (len(rows) * units, 5), row-major, and which units
    differ between the runs (`changed_units`, flattened alike). Only those run: a unit
    that does not differ gets the base's own probabilities."""
    rows = np.asarray(rows, dtype=int)
    c, h, w = source.shape[1:]
    count = unit_count((c, h, w), unit)
    index = torch.as_tensor(rows)
    changed = changed_units(base.acts[index], source[index], unit).ravel()
    owner, which = np.repeat(rows, count), np.tile(np.arange(count), len(rows))
    run = np.flatnonzero(changed)

    def edits(batch_rows: np.ndarray) -> list[Patch]:
        k, units = np.arange(len(batch_rows)), which[run[batch_rows]]
        if unit == "channel":
            mask = torch.zeros((len(k), c, 1, 1), dtype=torch.bool)
            mask[k, units, 0, 0] = True
        else:
            mask = torch.zeros((len(k), h * w), dtype=torch.bool)
            mask[k, units] = True
            mask = mask.reshape(len(k), 1, h, w)
        return [Patch(base.layer, mask, source[torch.as_tensor(owner[run[batch_rows]])])]

    probs = np.repeat(base.probs(index=rows), count, axis=0) if len(rows) else \
        np.empty((0, 5), np.float32)
    if len(run):
        probs[run] = base.probs(edits, index=owner[run])
    return probs, changed


def unit_restorations(base: LayerCache, source: torch.Tensor, unit: str, rows: np.ndarray,
                      moves: tuple[np.ndarray, np.ndarray], clean: dict[str, np.ndarray],
                      corrupted: dict[str, np.ndarray], metrics: Sequence[str],
                      direction: str) -> dict[str, np.ndarray]:
    """Per metric, the `restoration` of patching each unit of `source[row]` into `base`
    (`patch_units`), for each of `rows`: (len(rows), units), exactly 0 for a unit that
    does not differ between the runs (nothing is patched). `moves` are the moves
    towards the cheese and the top-right cell of every row of `base`, `clean` and
    `corrupted` each metric's value in the two runs (`decision_values`), by row."""
    count = unit_count(tuple(source.shape[1:]), unit)
    probs, changed = patch_units(base, source, unit, rows)
    found = decision_values(probs, np.repeat(moves[0][rows], count),
                            np.repeat(moves[1][rows], count))
    changed = changed.reshape(len(rows), count)
    return {m: np.where(changed, restoration(found[m].reshape(len(rows), count),
                                             clean[m][rows, None], corrupted[m][rows, None],
                                             direction), 0.0)
            for m in metrics}


def metric_floor(settings: Patching, metric: str) -> float:
    """The settings' floor of `metric`: a level whose clean and corrupted values differ
    by less gives that metric no restoration."""
    return getattr(settings, _FLOORS[metric])


def condition(corruption: str, direction: str, metric: str, what: str, layer: str) -> str:
    """A summary condition: 'cheese_moved, denoising, p_cheese: channel 15 at <layer>'."""
    return f"{corruption}, {direction}, {metric}: {what} at {layer}"


@dataclass(frozen=True, eq=False)
class PatchingResult(Result):
    """What `run_patching` measured.

    patching: one row per unit, corruption, direction and metric at the layer
        (`COLUMNS`): unit 'channel' (channel set; x, y empty) or 'cell' (x, y the
        offset from the clean cheese's activation cell, x right, y up; channel empty);
        the mean restoration over the levels kept (n) with its bootstrap interval, the
        one-sided sign-flip p-value of mean > 0 and the q-value over its family
        (`FAMILY` for channels, `CELL_FAMILY` for cells); for channels the tracking
        score (channel discovery) and ablation effect (mean-ablation change of
        P(cheese)) where known. Rows by corruption, direction, metric, unit, largest
        estimate first.
    by_layer: the channel x layer sweep in the same columns (unit 'channel'), q over
        `LAYER_FAMILY`.
    levels: one row per level given and corruption (`LEVEL_COLUMNS` and kept_<metric>,
        whether the level's clean-corrupted difference reaches the metric's floor):
        the twin's edited cell (maze frame) and the activation cells (row, col) of the
        clean cheese and of the edit, the clean and corrupted values of each metric.
    per_level: one row per level, layer, corruption, direction and unit: level, layer,
        corruption, direction, unit, channel, row, col (the cell), x, y (its offset from
        the clean cheese's cell) and each metric's restoration (NaN below the floor).
    params: the settings (`Patching`) and n_levels, n_used (levels with a dsq),
        sweep_layers (those swept), shape (C, H, W at the layer).
    examples: figure material (`PatchExample`s), not saved.
    """

    patching: pd.DataFrame
    by_layer: pd.DataFrame
    levels: pd.DataFrame
    per_level: pd.DataFrame
    params: dict
    examples: tuple[PatchExample, ...] = figure_only()
    topic = "patching"
    csv_tables = ("patching", "by_layer")
    settings_type = Patching

    def mass(self) -> pd.DataFrame:
        """Per level, corruption, direction and metric at the layer: `share`, the
        cell map's positive restoration within `near` activation cells of a cheese
        (the clean one; for cheese_moved also the moved one) over all of it, and
        `chance`, the share of the map's cells that near (NaN share: no positive
        restoration, or the level below the metric's floor)."""
        p = self.params
        cells = self.per_level[(self.per_level["unit"] == "cell")
                               & (self.per_level["layer"] == p["layer"])]
        if cells.empty:
            return pd.DataFrame(columns=["corruption", "direction", "metric", "level",
                                         "share", "chance"])
        where = self.levels[self.levels["twin"]].set_index(["level", "corruption"])[
            ["cheese_row", "cheese_col", "edit_row", "edit_col"]]
        cells = cells.join(where, on=["level", "corruption"])
        row, col = cells["row"].astype(float), cells["col"].astype(float)
        near = np.maximum(abs(row - cells["cheese_row"]), abs(col - cells["cheese_col"])
                          ) <= p["near"]
        moved = np.maximum(abs(row - cells["edit_row"]), abs(col - cells["edit_col"])
                           ) <= p["near"]
        near = near | (moved & (cells["corruption"] == "cheese_moved"))
        keys = ["corruption", "direction", "level"]
        out = []
        for metric in p["metrics"]:
            positive = cells[metric].clip(lower=0)
            frame = pd.DataFrame({"near": positive.where(near, 0.0).where(positive.notna()),
                                  "all": positive, "is_near": near.astype(float)})
            sums = frame.groupby([cells[k] for k in keys], sort=False).agg(
                near=("near", lambda v: v.sum(min_count=1)),
                all=("all", lambda v: v.sum(min_count=1)), chance=("is_near", "mean"))
            share = (sums["near"] / sums["all"]).where(sums["all"] > 0)
            out.append(pd.DataFrame({"metric": metric, "share": share,
                                     "chance": sums["chance"]}).reset_index())
        return pd.concat(out, ignore_index=True)[["corruption", "direction", "metric",
                                                  "level", "share", "chance"]]

    def _rows(self) -> list[dict]:
        """Per corruption and metric the levels below the floor and the mean
        clean-corrupted difference; per corruption, direction and metric the
        `SUMMARY_CHANNELS` channels of largest restoration and the cell mass near the
        cheese (with the near cells' share, its chance level); the best channel at each
        swept layer; the families' counts of significant tests."""
        p = self.params
        common = {"seed": p["seed"], "n_boot": p["n_boot"]}
        rows = []
        used = self.levels[self.levels["twin"]]
        for corruption in p["corruptions"]:
            twins = used[used["corruption"] == corruption]
            for metric in p["metrics"]:
                label = f"{corruption}, {metric}"
                rows.append(quantity_row("levels_below_floor", label,
                                         float((~twins[f"kept_{metric}"]).sum()),
                                         n=len(twins)))
                rows.append(mean_ci(twins[f"clean_{metric}"] - twins[f"corrupted_{metric}"],
                                    **common).row("clean_minus_corrupted", label))
        channels = self.patching[self.patching["unit"] == "channel"]
        for (corruption, direction, metric), part in channels.groupby(
                ["corruption", "direction", "metric"], sort=False):
            for r in part.head(SUMMARY_CHANNELS).itertuples():
                rows.append(quantity_row("restoration", condition(
                    corruption, direction, metric, f"channel {r.channel}", r.layer),
                    r.estimate, r.ci_low, r.ci_high, r.n, r.p_value, r.q_value))
        rows += self._mass_rows(common)
        for layer, part in self.by_layer.groupby("layer", sort=False):
            r = part.iloc[0]
            rows.append(quantity_row("restoration", condition(
                r.corruption, r.direction, r.metric, f"best channel ({r.channel})", layer),
                r.estimate, r.ci_low, r.ci_high, r.n, r.p_value, r.q_value))
        for family, table in ((FAMILY, channels),
                              (CELL_FAMILY, self.patching[self.patching["unit"] == "cell"]),
                              (LAYER_FAMILY, self.by_layer)):
            if len(table):
                rows.append(family_row(family, table["q_value"]))
        return rows

    def _mass_rows(self, common: dict) -> list[dict]:
        mass = self.mass()
        groups = list(mass.groupby(["corruption", "direction", "metric"], sort=False))
        if not groups:
            return []
        p_values = sign_flip_pvalues([(g["share"] - g["chance"]).to_numpy() for _, g in groups],
                                     seed=common["seed"], greater=True)
        tests = with_tests(pd.DataFrame({"p": p_values}), p_values)
        rows = []
        for ((corruption, direction, metric), part), test in zip(
                groups, tests.itertuples(), strict=True):
            what = f"{corruption}, {direction}, {metric}"
            share = mean_ci(part["share"].to_numpy(), **common)
            rows.append(replace(share, p_value=test.p_value, q_value=test.q_value).row(
                "cell_mass_near_cheese", what))
            rows.append(quantity_row("cell_share_near_cheese", what,
                                     float(part["chance"].mean()), n=len(part)))
        return [*rows, family_row(MASS_FAMILY, tests["q_value"])]

    def figures(self) -> dict[str, Callable[[], Any]]:
        """The channel ranking beside tracking score and ablation effect (the first
        corruption), the cheese-centred cell map per corruption, the example mazes'
        cell maps, and the channel x layer map."""
        from behavstats.plots import patching as plots

        figures = {}
        channels = self.patching[self.patching["unit"] == "channel"]
        cells = self.patching[self.patching["unit"] == "cell"]
        if len(channels):
            figures["channel_ranking"] = lambda: plots.plot_channel_ranking(
                channels, self.params["corruptions"][0], self.params["metrics"][0])
        if len(cells):
            figures["cheese_centred"] = lambda: plots.plot_cheese_centred(
                cells, self.params["metrics"][0])
        if len(cells) and self.examples:
            figures["cell_maps"] = lambda: plots.plot_cell_maps(
                self.examples, self.per_level, self.params["layer"],
                self.params["metrics"][0])
        if len(self.by_layer):
            figures["channel_by_layer"] = lambda: plots.plot_channel_by_layer(self.by_layer)
        return figures


def run_patching(policy: Policy, levels: Sequence[int] | Sequence[Maze],
                 out_dir: str | Path | None = None, *, progress: bool = False,
                 batch: int = BATCH, channels=None, ablation=None,
                 **settings: Any) -> PatchingResult:
    """`Patching(**settings).run(policy, levels, out_dir)`: the patching maps on the
    levels (seeds or mazes) with a decision square. `channels` (a `ChannelResult` or
    levels to run a discovery on) and `ablation` (an `AblationResult` of the same layer)
    give the channel ranking's tracking scores and ablation effects (default: both run
    on the same levels, `Patching.beside`). NoUsableLevelsError without a level with a
    decision square."""
    return Patching(**settings).run(policy, levels, out_dir, progress=progress, batch=batch,
                                    channels=channels, ablation=ablation)


def _check(s: Patching, policy: Policy) -> list[str]:
    """PatchingError for unknown names or a layer without channel maps; the swept
    layers."""
    layers = ([f"{stage}.resadd" for stage in policy.stage_names
               if stage.endswith((".res1", ".res2"))] if s.sweep_layers is None
              else list(s.sweep_layers))
    names = [("corruption", s.corruptions, CORRUPTIONS), ("direction", s.directions, DIRECTIONS),
             ("metric", s.metrics, PATCH_METRICS), ("unit", s.units, UNITS)]
    if layers:
        names += [("sweep corruption", (s.sweep_corruption,), CORRUPTIONS),
                  ("sweep metric", (s.sweep_metric,), s.metrics)]
    for name, given, known in names:
        bad = [g for g in given if g not in known]
        if bad or not given:
            raise PatchingError(f"unknown {name} {bad or '(none)'}; choose from "
                                f"{', '.join(known)}")
    for layer in [s.layer, *layers]:
        if policy.stage_of(layer) is None or not policy.has_channel_maps(layer):
            raise ChannelError(f"patching needs a layer with channel maps at a stage "
                               f"output, such as embedder.block2.res1.resadd; {layer} is "
                               "not one")
    return layers


@dataclass
class _Runs:
    """One corruption's clean and corrupted observations of its twin levels."""

    clean: np.ndarray
    corrupted: np.ndarray

    def at(self, policy: Policy, layer: str, batch: int) -> tuple[LayerCache, LayerCache]:
        return (LayerCache(policy, self.clean, layer, batch=batch),
                LayerCache(policy, self.corrupted, layer, batch=batch))


def compute(settings: Patching, policy: Policy, levels: Sequence[int] | Sequence[Maze], *,
            progress: bool = False, batch: int = BATCH, channels=None, ablation=None
            ) -> PatchingResult:
    """The patching maps (`Patching.run`)."""
    s = settings
    sweep = _check(s, policy)
    mazes, points, chosen = decision_levels(levels, s.mode)
    used, pts = [mazes[i] for i in chosen], [points[i] for i in chosen]
    ids = np.array([level_id(mazes[i], i) for i in chosen])
    wanted = list(dict.fromkeys([*s.corruptions, *([s.sweep_corruption] if sweep else [])]))
    twins = {k: [twin(m, p, k, stream(s.seed, Purpose.PATCH_TWINS, int(i), CORRUPTIONS.index(k)))
                 for m, p, i in zip(used, pts, ids, strict=True)] for k in wanted}
    observer = Observer(batch=batch)
    clean_obs = render([(m, p.cell) for m, p in zip(used, pts, strict=True)], observer)
    moves = (np.array([p.to_cheese for p in pts]), np.array([p.to_top_right for p in pts]))
    passes = len(s.corruptions) * len(s.directions) * len(s.units) + len(sweep)
    bar = tqdm(total=passes, desc="patching", disable=not progress)
    level_tables, frames, shape, gaps = [], [], None, {}
    for k in wanted:
        rows = np.array([j for j, t in enumerate(twins[k]) if t is not None], dtype=int)
        corrupted_obs = render([(twins[k][j].maze, twins[k][j].mouse) for j in rows], observer)
        runs = _Runs(clean_obs[rows], corrupted_obs)
        clean, corrupted = runs.at(policy, s.layer, batch)
        shape = tuple(clean.acts.shape[1:]) if len(rows) else shape
        found = _Found(k, ids[rows], (moves[0][rows], moves[1][rows]),
                       _cheese_cells(used, twins[k], rows, clean.acts), clean, corrupted, s)
        level_tables.append(_levels(mazes, points, chosen, twins[k], found, k, s))
        metric = s.metrics[0]
        gaps[k] = np.zeros(len(used))  # the first metric's gap where kept, else 0
        gaps[k][rows] = np.abs(found.values["clean"][metric]
                               - found.values["corrupted"][metric]) * found.kept[metric]
        if k in s.corruptions:
            for direction in s.directions:
                for unit in s.units:
                    frames.append(found.patched(s.layer, direction, unit))
                    bar.update()
        if k == s.sweep_corruption:
            done = (k in s.corruptions and "denoising" in s.directions and "channel" in s.units)
            for layer in sweep:
                if not (layer == s.layer and done):
                    frames.append(found.at(policy, runs, layer, batch).patched(
                        layer, "denoising", "channel"))
                bar.update()
    bar.close()
    per_level = pd.concat(frames, ignore_index=True) if frames else _empty_per_level(s)
    scores, effects = _beside(s, policy, used, channels, ablation, batch)
    patching = _patching_table(per_level, s, scores, effects)
    by_layer = _by_layer_table(per_level, s, sweep, scores, effects)
    params = {**s.to_dict(), "n_levels": len(mazes), "n_used": len(chosen),
              "sweep_layers": sweep, "shape": list(shape) if shape else None}
    examples = _examples(used, pts, ids, twins, gaps, s)
    return PatchingResult(patching, by_layer, pd.concat(level_tables, ignore_index=True),
                          per_level, params, examples)


def _cheese_cells(used: list[Maze], twins: list[Twin | None], rows: np.ndarray,
                  acts: torch.Tensor) -> np.ndarray:
    """(rows, 4): activation cells (row, col) of each twin level's clean cheese and of
    its edited cell."""
    size = acts.shape[-1] if acts.ndim == 4 else 1
    out = np.zeros((len(rows), 4), dtype=int)
    for n, j in enumerate(rows):
        maze = used[j]
        for at, cell in ((0, maze.cheese), (2, twins[j].edited)):
            out[n, at:at + 2] = maze_to_activation_cell(*cell, maze.maze_dim, maze.world_dim,
                                                        size)
    return out


class _Found:
    """One corruption at one layer: its twin levels' clean and corrupted caches and
    values, which levels each metric keeps (the floor), and their patched rows."""

    def __init__(self, corruption: str, ids: np.ndarray, moves: tuple[np.ndarray, np.ndarray],
                 cells: np.ndarray, clean: LayerCache, corrupted: LayerCache, s: Patching):
        self.corruption, self.ids, self.moves, self.cells, self.s = corruption, ids, moves, \
            cells, s
        self.clean, self.corrupted = clean, corrupted
        self.values = {run: decision_values(cache.probs(), *moves) if len(ids) else
                       {m: np.empty(0) for m in PATCH_METRICS}
                       for run, cache in (("clean", clean), ("corrupted", corrupted))}
        self.kept = {m: np.abs(self.values["clean"][m] - self.values["corrupted"][m])
                     >= metric_floor(s, m) for m in PATCH_METRICS}
        self.active = np.flatnonzero(np.any([self.kept[m] for m in s.metrics], axis=0)) \
            if len(ids) else np.empty(0, dtype=int)

    def at(self, policy: Policy, runs: _Runs, layer: str, batch: int) -> _Found:
        """The same levels, with caches at another layer (the kept levels stay)."""
        other = object.__new__(_Found)
        vars(other).update(vars(self))
        other.clean, other.corrupted = runs.at(policy, layer, batch)
        return other

    def patched(self, layer: str, direction: str, unit: str) -> pd.DataFrame:
        """Per kept level and unit, each metric's restoration (NaN below its floor)."""
        act = self.active
        base, source = ((self.corrupted, self.clean.acts) if direction == "denoising"
                        else (self.clean, self.corrupted.acts))
        shape = tuple(source.shape[1:])
        count = unit_count(shape, unit)
        columns = unit_restorations(base, source, unit, act, self.moves, self.values["clean"],
                                    self.values["corrupted"], self.s.metrics, direction)
        for m, r in columns.items():
            r[~self.kept[m][act]] = np.nan
            columns[m] = r.ravel()
        units = np.tile(np.arange(count), len(act))
        frame = pd.DataFrame({"level": np.repeat(self.ids[act], count), "layer": layer,
                              "corruption": self.corruption, "direction": direction,
                              "unit": unit})
        if unit == "channel":
            frame["channel"] = pd.array(units, dtype="Int64")
            for name in ("row", "col", "x", "y"):
                frame[name] = pd.array([pd.NA] * len(units), dtype="Int64")
        else:
            width = shape[2]
            row, col = units // width, units % width
            cheese = np.repeat(self.cells[act], count, axis=0)
            frame["channel"] = pd.array([pd.NA] * len(units), dtype="Int64")
            frame["row"], frame["col"] = pd.array(row, dtype="Int64"), pd.array(col, dtype="Int64")
            frame["x"] = pd.array(col - cheese[:, 1], dtype="Int64")
            frame["y"] = pd.array(cheese[:, 0] - row, dtype="Int64")
        return frame.assign(**columns)


def _empty_per_level(s: Patching) -> pd.DataFrame:
    columns = ["level", "layer", "corruption", "direction", "unit", "channel", "row", "col",
               "x", "y", *s.metrics]
    return pd.DataFrame(columns=columns)


def _levels(mazes: list[Maze], points: list, chosen: list[int], twins: list[Twin | None],
            found: _Found, corruption: str, s: Patching) -> pd.DataFrame:
    """`PatchingResult.levels` rows of one corruption."""
    position = {i: n for n, i in enumerate(chosen)}
    twin_row = {j: n for n, j in enumerate(np.flatnonzero([t is not None for t in twins]))}
    out = []
    for i, (maze, point) in enumerate(zip(mazes, points, strict=True)):
        j = position.get(i)
        t = twins[j] if j is not None else None
        n = twin_row.get(j) if t is not None else None
        row = {"level": level_id(maze, i), "corruption": corruption,
               "maze_dim": maze.maze_dim, "has_dsq": point is not None, "twin": t is not None,
               "cheese_x": maze.cheese[0] if maze.cheese else np.nan,
               "cheese_y": maze.cheese[1] if maze.cheese else np.nan,
               "dsq_x": point.cell[0] if point else np.nan,
               "dsq_y": point.cell[1] if point else np.nan,
               "edit_x": t.edited[0] if t else np.nan, "edit_y": t.edited[1] if t else np.nan}
        cells = found.cells[n] if n is not None else [np.nan] * 4
        row.update(zip(("cheese_row", "cheese_col", "edit_row", "edit_col"), cells,
                       strict=True))
        for run in ("clean", "corrupted"):
            for m in PATCH_METRICS:
                row[f"{run}_{m}"] = found.values[run][m][n] if n is not None else np.nan
        for m in PATCH_METRICS:
            row[f"kept_{m}"] = bool(found.kept[m][n]) if n is not None else False
        out.append(row)
    return pd.DataFrame(out)


def _aggregate(per_level: pd.DataFrame, keys: list[str], metrics: Sequence[str], seed: int,
               n_boot: int) -> pd.DataFrame:
    """Per group of `keys` and metric: the mean over levels with its bootstrap interval
    (`row_means_ci`) and the one-sided sign-flip p-value of mean > 0."""
    if per_level.empty:
        return pd.DataFrame(columns=[*keys, "metric", "estimate", "ci_low", "ci_high", "n",
                                     "p_value"])
    parts = []
    for metric in metrics:
        wide = per_level.set_index([*keys, "level"])[metric].astype(float).unstack("level")
        values = wide.to_numpy(float)
        stats = row_means_ci(values, seed=seed, n_boot=n_boot)
        stats["p_value"] = sign_flip_pvalues(list(values), seed=seed, greater=True)
        parts.append(pd.concat([wide.index.to_frame(index=False), stats], axis=1)
                     .assign(metric=metric))
    return pd.concat(parts, ignore_index=True)


def _finish(table: pd.DataFrame, unit: str, s: Patching, scores: pd.Series | None,
            effects: pd.Series | None) -> pd.DataFrame:
    """`COLUMNS` with the family's q-values and the channels' tracking score and
    ablation effect (at the settings' layer)."""
    table = with_tests(table, table["p_value"].to_numpy(float)).assign(unit=unit)
    for name in ("channel", "x", "y"):
        if name not in table:
            table[name] = pd.array([pd.NA] * len(table), dtype="Int64")
        table[name] = table[name].astype("Int64")
    at_layer = (table["layer"] == s.layer) & (table["unit"] == "channel")
    for name, series in (("tracking_score", scores), ("ablation_effect", effects)):
        values = table["channel"].map(series).astype(float) if series is not None else np.nan
        table[name] = np.where(at_layer, values, np.nan)
    order = {k: i for i, k in enumerate(CORRUPTIONS)}
    table = table.assign(_k=table["corruption"].map(order),
                         _d=table["direction"].map(DIRECTIONS.index),
                         _m=table["metric"].map(PATCH_METRICS.index),
                         _layer=table["layer"].map({v: i for i, v in enumerate(
                             dict.fromkeys(table["layer"]))}))
    table = table.sort_values(["_layer", "_k", "_d", "_m", "estimate"],
                              ascending=[True, True, True, True, False], na_position="last")
    return table[list(COLUMNS)].reset_index(drop=True)


def _patching_table(per_level: pd.DataFrame, s: Patching, scores, effects) -> pd.DataFrame:
    main = per_level[(per_level["layer"] == s.layer)
                     & per_level["corruption"].isin(s.corruptions)
                     & per_level["direction"].isin(s.directions)]
    tables = []
    common = dict(metrics=s.metrics, seed=s.seed, n_boot=s.n_boot)
    channels = main[main["unit"] == "channel"]
    if len(channels):
        tables.append(_finish(_aggregate(channels, ["layer", "corruption", "direction",
                                                    "channel"], **common),
                              "channel", s, scores, effects))
    cells = main[(main["unit"] == "cell") & (main["x"].abs() <= s.window)
                 & (main["y"].abs() <= s.window)]
    if len(cells):
        tables.append(_finish(_aggregate(cells, ["layer", "corruption", "direction", "x",
                                                 "y"], **common), "cell", s, None, None))
    return (pd.concat(tables, ignore_index=True) if tables
            else pd.DataFrame(columns=list(COLUMNS)))


def _by_layer_table(per_level: pd.DataFrame, s: Patching, sweep: list[str], scores,
                    effects) -> pd.DataFrame:
    rows = per_level[per_level["layer"].isin(sweep) & (per_level["unit"] == "channel")
                     & (per_level["corruption"] == s.sweep_corruption)
                     & (per_level["direction"] == "denoising")]
    if rows.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    table = _aggregate(rows, ["layer", "corruption", "direction", "channel"],
                       (s.sweep_metric,), s.seed, s.n_boot)
    table = _finish(table, "channel", s, scores, effects)
    order = {layer: i for i, layer in enumerate(sweep)}
    return table.sort_values(["layer", "estimate"], key=lambda c: c.map(order)
                             if c.name == "layer" else -c).reset_index(drop=True)


def _beside(s: Patching, policy: Policy, used: list[Maze], channels, ablation, batch: int
            ) -> tuple[pd.Series | None, pd.Series | None]:
    """The channels' tracking scores and mean-ablation effects at the layer, by channel
    (None when neither given nor `beside`)."""
    from behavstats.interventions.channels import ChannelResult, discovered_channels, run_channels
    from behavstats.sweeps.ablation import run_ablation

    discovery = None
    if isinstance(channels, ChannelResult) or channels is not None:
        table = discovered_channels(policy, channels, layer=s.layer, mode=s.mode, seed=s.seed,
                                    batch=batch)
        discovery = channels if isinstance(channels, ChannelResult) else None
    elif s.beside:
        discovery = run_channels(policy, used, layer=s.layer, seed=s.seed, batch=batch)
        table = discovery.table
    else:
        table = None
    scores = table.set_index("channel")["score"] if table is not None else None
    if ablation is not None:
        if ablation.params["layer"] != s.layer:
            raise ChannelError(f"the ablation given ablates the channels of "
                               f"{ablation.params['layer']}, not of {s.layer}")
        effects_table = ablation.ablation
    elif s.beside and len(used) >= 2:
        effects_table = run_ablation(policy, used, layer=s.layer, mode=s.mode, seed=s.seed,
                                     n_boot=s.n_boot, batch=batch,
                                     discovery=discovery if discovery is not None else used
                                     ).ablation
    else:
        effects_table = None
    effects = (effects_table[effects_table["method"] == "mean"].set_index("channel")["estimate"]
               if effects_table is not None else None)
    return scores, effects


EXAMPLE_SIZES = (9, 17)
"""Maze sizes the example mazes are drawn from when enough levels have them: large
enough to show where things are, small enough for their squares to be seen."""


def _examples(used: list[Maze], pts: list[DecisionPoint], ids: np.ndarray,
              twins: dict[str, list[Twin | None]], gaps: dict[str, np.ndarray], s: Patching
              ) -> tuple[PatchExample, ...]:
    """`n_examples` levels, in the order given: of those sized within `EXAMPLE_SIZES`
    (others when too few), the ones whose twins reach the first metric's floor for most
    corruptions, then whose first corruption changes the first metric most (`gaps`:
    each level's clean-corrupted difference, 0 where not kept)."""
    kept = np.sum([gaps[k] > 0 for k in s.corruptions], axis=0)
    sized = np.array([EXAMPLE_SIZES[0] <= m.maze_dim <= EXAMPLE_SIZES[1] for m in used])
    order = sorted(range(len(used)), key=lambda j: (not (sized[j] and kept[j] > 0),
                                                    -kept[j], -gaps[s.corruptions[0]][j]))
    picked = sorted(order[:s.n_examples])
    return tuple(PatchExample(int(ids[j]), used[j], pts[j],
                              {k: twins[k][j] for k in s.corruptions if twins[k][j] is not None})
                 for j in picked)
