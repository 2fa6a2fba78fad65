"""The explorer's computations, on the library's one forward engine, with caches.

Per edited maze the observations of its field cells, its unpatched field and a
`LayerCache` at the intervention layer are kept, so a new coefficient, clamp or
ablation reruns only the network after that layer. Vectors and channel rankings are
kept too. Every public method holds one worker lock: procgen envs and the policy's
hooks are not shared between threads, and the 2 cores serve one request at a time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from behavstats.engine import LayerCache, activations, forward
from behavstats.env import Observer, frames, render
from behavstats.experiments import CORRUPTIONS, PATCH_METRICS, Patching
from behavstats.explore import responses as r
from behavstats.explore.state import (
    ActivationRequest,
    EpisodeRequest,
    Interventions,
    MapRequest,
    Refused,
    View,
    check_inside,
    edited_maze,
)
from behavstats.geometry import DecisionPoint, decision_point, decision_square, shortest_path
from behavstats.hooks import Ablate, AddVector, SetCell
from behavstats.incremental import Frames
from behavstats.interventions.channels import run_channels
from behavstats.interventions.vectors import cheese_vectors, corridor_is_empty, top_right_vectors
from behavstats.maps.attribution import BASELINES, integrated_gradients
from behavstats.maps.patching import decision_values, metric_floor, unit_restorations
from behavstats.maps.twins import twin
from behavstats.maps.value import value_head, values
from behavstats.maze import Maze, maze_to_activation_cell
from behavstats.maze.coords import pixel_maze_axes
from behavstats.maze.edits import move_mouse
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import Policy, preprocess
from behavstats.rollout import RolloutConfig, run_episodes
from behavstats.seeding import Purpose, stream
from behavstats.vfield import VectorField, decision_probs, field_cells
from behavstats.vocabulary import DECISION_TARGETS, MODES, VECTOR_LAYER

CHANNEL_LEVELS = range(16)
"""Levels (4 cheese placements each) on which a layer's channels are ranked."""
IG_STEPS = 32
"""Integration steps of the explorer's integrated gradients (fixed: no doubling; the
response reports the completeness gap instead)."""
TWIN_SEED = 0
"""Seed of the patching twins (`Purpose.EXPLORE_TWINS`, keyed by level)."""


class _LRU(OrderedDict):
    """A small least-recently-used cache: `get(key, make)`."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get(self, key, make: Callable):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass
class _MazeEntry:
    """What does not change between updates of one maze: its field cells, their
    observations, the unpatched field and one LayerCache (of the last layer edited)."""

    maze: Maze
    obs: Frames
    original: VectorField
    layer_cache: LayerCache
    means: dict[str, torch.Tensor] = field(default_factory=dict)


def spatial_layers(policy: Policy) -> dict[str, tuple[int, int]]:
    """{layer: (channels, side)} of the stage outputs with a spatial map, by their
    published names (`...res1.resadd` for a residual block)."""
    names = [name for name in policy.stage_names if policy.has_channel_maps(name)]
    image = np.zeros((1, 64, 64, 3), dtype=np.uint8)
    layers = {}
    for stage in names:
        name = f"{stage}.resadd" if stage.split(".")[-1].startswith("res") else stage
        shape = activations(policy, image, name).shape
        layers[name] = (shape[1], shape[2])
    return layers


class Engine:
    """The explorer's model of one fixed policy."""

    def __init__(self, policy: Policy, name: str = "default", *, maze_cache: int = 3):
        self.policy, self.name = policy, name
        self.lock = threading.RLock()
        self.observer = Observer()
        self.generators = {mode: LevelGenerator(mode, batch=1) for mode in MODES}
        self.layers = spatial_layers(policy)
        self._levels = _LRU(64)
        self._entries = _LRU(maze_cache)
        self._vectors = _LRU(16)
        self._rankings = _LRU(len(self.layers) * 2)
        self.maze(View())  # loads procgen's assets now, not in the first request

    # -- mazes and interventions -------------------------------------------------

    def level(self, level: int, mode: str) -> Maze:
        return self._levels.get((level, mode),
                                lambda: next(self.generators[mode].mazes([level])))

    def maze(self, view: View) -> Maze:
        with self.lock:
            return edited_maze(self.level(view.level, view.mode), view.edits)

    def check_layer(self, layer: str) -> tuple[int, int]:
        if layer not in self.layers:
            raise Refused(f"unknown layer {layer!r}: choose one of {', '.join(self.layers)}")
        return self.layers[layer]

    def _check_channels(self, layer: str, channels: list[int]) -> None:
        count = self.check_layer(layer)[0]
        bad = [c for c in channels if c >= count]
        if bad:
            raise Refused(f"{layer} has channels 0-{count - 1}, not {bad[:5]}")

    def _entry(self, maze: Maze, layer: str = VECTOR_LAYER) -> _MazeEntry:
        """The maze's cached entry; a new one computes its unpatched field from a
        LayerCache at `layer`, so the next patched field only needs the rest."""
        def make() -> _MazeEntry:
            cells = field_cells(maze)
            obs = frames([(maze, c) for c in cells], self.observer)
            cache = LayerCache(self.policy, obs, layer)
            return _MazeEntry(maze, obs, VectorField(maze, cells, cache.probs()), cache)

        return self._entries.get(maze, make)

    def _layer_cache(self, entry: _MazeEntry, layer: str) -> LayerCache:
        if entry.layer_cache.layer != layer:
            entry.layer_cache = LayerCache(self.policy, entry.obs, layer)
        return entry.layer_cache

    def _vector(self, kind: str, maze: Maze, layer: str) -> torch.Tensor:
        make = cheese_vectors if kind == "cheese" else top_right_vectors
        return self._vectors.get((kind, maze, layer), lambda: make(
            self.policy, [maze], layer, self.observer)[0])

    def interventions(self, spec: Interventions, maze: Maze, entry: _MazeEntry | None,
                      notes: list[str]) -> list:
        """The hooks of `spec` on `maze` (Refused for layers, channels or cells that do
        not exist, or a cheese vector of a maze without cheese)."""
        layer = spec.layer
        channels, side = self.check_layer(layer)
        edits: list = []
        vector = spec.cheese_vector
        if vector.coeff:
            source = maze if vector.level is None else self.level(vector.level, maze.mode)
            source = _at_start(source)
            if source.cheese is None:
                raise Refused("this maze has no cheese to take a cheese vector from: put the "
                              "cheese back or take the vector from another level")
            edits.append(AddVector(layer, self._vector("cheese", source, layer), vector.coeff))
        if spec.top_right:
            if corridor_is_empty(maze):
                notes.append("the top-right vector of this maze is zero: the maze fills "
                             "the world, so no corridor can be carved")
            edits.append(AddVector(layer, self._vector("top_right", _at_start(maze), layer),
                                   spec.top_right))
        if spec.clamp is not None:
            self._check_channels(layer, [spec.clamp.channel])
            x, y = check_inside(maze, spec.clamp.cell, "clamp")
            row, col = maze_to_activation_cell(x, y, maze.maze_dim, maze.world_dim, side)
            edits.append(SetCell(layer, [spec.clamp.channel], row, col, spec.clamp.value))
        if spec.ablate is not None:
            self._check_channels(layer, spec.ablate.channels)
            mean = None
            if spec.ablate.mean:
                entry = entry or self._entry(_at_start(maze), layer)
                mean = entry.means.get(layer)
                if mean is None:
                    mean = entry.means[layer] = self._layer_cache(entry, layer).acts.mean(0)
            edits.append(Ablate(layer, sorted(set(spec.ablate.channels)), mean))
        return edits

    # -- the three computations ---------------------------------------------------

    def field(self, view: View) -> r.FieldResponse:
        with self.lock:
            began = time.perf_counter()
            maze = self.maze(view)
            self.check_layer(view.interventions.layer)
            entry = self._entry(_at_start(maze), view.interventions.layer)
            notes: list[str] = []
            edits = self.interventions(view.interventions, maze, entry, notes)
            patched = None
            if edits:
                cache = self._layer_cache(entry, view.interventions.layer)
                patched = VectorField(maze, entry.original.cells, cache.probs(edits))
            return r.FieldResponse(
                view=view, maze=maze_info(maze), cells=entry.original.cells,
                original=_rounded(entry.original.probs),
                patched=None if patched is None else _rounded(patched.probs),
                decision_original=_decision(entry.original),
                decision_patched=None if patched is None else _decision(patched),
                notes=notes, compute_ms=1000 * (time.perf_counter() - began))

    def activation(self, request: ActivationRequest) -> r.ActivationResponse:
        with self.lock:
            maze = self.maze(request.view)
            side = self.check_layer(request.layer)[1]
            self._check_channels(request.layer, [request.channel])
            edits = self.interventions(request.view.interventions, maze, None, [])
            obs = render([(maze, maze.mouse)], self.observer)
            maps = [forward(self.policy, obs, e, stop=request.layer)[0, request.channel]
                    for e in ([], edits)[: 1 + bool(edits)]]
            ranking = self._rankings.get((request.layer, maze.mode), lambda: run_channels(
                self.policy, [self.level(i, maze.mode) for i in CHANNEL_LEVELS],
                layer=request.layer, mode=maze.mode).table.head(12))

            def cell(c):
                return None if c is None else maze_to_activation_cell(
                    *c, maze.maze_dim, maze.world_dim, side)

            return r.ActivationResponse(
                layer=request.layer, channel=request.channel, original=_rounded(maps[0]),
                patched=_rounded(maps[1]) if edits else None, mouse_cell=cell(maze.mouse),
                cheese_cell=cell(maze.cheese),
                ranked=[r.RankedChannel(channel=int(c), score=round(float(s), 3))
                        for c, s in zip(ranking.channel, ranking.score, strict=True)])

    def episode(self, request: EpisodeRequest) -> r.EpisodeResponse:
        with self.lock:
            maze = self.maze(request.view)
            edits = self.interventions(request.view.interventions, maze, None, [])
            config = RolloutConfig(seed=request.seed, mode=maze.mode,
                                   max_steps=request.max_steps, record_path=True)

            def run() -> r.Episode:
                row = run_episodes(self.policy, [maze], config).iloc[0]
                return r.Episode(path=[tuple(c) for c in row.path], steps=int(row.steps),
                                 reached_cheese=bool(row.reached_cheese))

            original = run()
            if not edits:
                return r.EpisodeResponse(original=original, patched=None)
            with self.policy.hooks(*edits):
                return r.EpisodeResponse(original=original, patched=run())

    # -- heat maps of the current maze (`behavstats.maps`) ---------------------------

    def value_map(self, request: MapRequest) -> r.ValueMapResponse:
        """The value estimate with the mouse on every field cell (`maps.value.values` on
        the maze entry's cached activations: the cells of `maps.value.value_map`)."""
        with self.lock:
            began = time.perf_counter()
            maze = self.maze(request.view)
            entry = self._entry(_at_start(maze))
            cache = entry.layer_cache
            found = values(self.policy, cache.acts, start=cache.start)
            grid = _grid(maze, {c: float(v) for c, v in zip(entry.original.cells, found,
                                                               strict=True)})
            head = value_head(self.policy)
            notes = [] if head != "untrained" else [
                "this policy was trained by behaviour cloning: its value head is untrained, "
                "so the map shows what its features carry, not expected return"]
            notes += _unpatched(request)
            return r.ValueMapResponse(
                kind="value", grid=grid, low=float(found.min()), high=float(found.max()),
                signed=False, caption="value estimate with the mouse on each cell",
                notes=notes, cells=entry.original.cells, values=_rounded(found),
                value_head=head, compute_ms=1000 * (time.perf_counter() - began))

    def attribution_map(self, request: MapRequest) -> r.AttributionMapResponse:
        """Integrated gradients of the decision-square target against a baseline, the
        pixel map summed over colour and over the pixels of each maze cell."""
        _known("target", request.target, DECISION_TARGETS)
        _known("baseline", request.baseline, tuple(BASELINES))
        with self.lock:
            began = time.perf_counter()
            maze = self.maze(request.view)
            point = _point(maze, "integrated gradients")
            x = preprocess(render([(maze, point.cell)], self.observer))
            base = preprocess(render([(BASELINES[request.baseline](maze), point.cell)],
                                     self.observer))
            found = integrated_gradients(self.policy, x, base, request.target,
                                         [point.to_cheese], [point.to_top_right],
                                         n_steps=IG_STEPS, max_n_steps=IG_STEPS)
            pixels = found.attributions[0].sum(0).double().numpy()
            sums = _pixel_sums(maze, pixels)
            top = float(np.abs(sums).max())
            difference, gap = float(found.output_difference[0]), float(found.gap[0])
            notes = [f"completeness gap {gap:+.3g} of an output difference "
                     f"{difference:+.3g} at {IG_STEPS} steps"]
            if request.baseline == "cheese_removed":
                notes.append("the baseline differs from the maze only at the cheese, so the "
                             "pixel attributions lie on the cheese's cell by construction")
            notes += _unpatched(request)
            return r.AttributionMapResponse(
                kind="attribution", grid=_rounded(sums), low=-top, high=top, signed=True,
                caption=f"integrated gradients of {request.target} at the decision square "
                        f"against the {request.baseline.replace('_', ' ')} baseline, "
                        "summed over each cell's pixels",
                notes=notes, target=request.target, baseline=request.baseline,
                decision_square=point.cell, pixels=_rounded(pixels),
                output=float(found.output[0]), output_difference=difference,
                completeness_gap=gap, steps=int(found.steps[0]),
                compute_ms=1000 * (time.perf_counter() - began))

    def patching_map(self, request: MapRequest) -> r.PatchingMapResponse:
        """Denoising cell patching at `layer`: each activation cell of the clean run
        patched into the corruption's twin, restoration mapped to the maze cells."""
        _known("target", request.target, PATCH_METRICS)
        _known("corruption", request.corruption, CORRUPTIONS)
        side = self.check_layer(request.layer)[1]
        with self.lock:
            began = time.perf_counter()
            maze = self.maze(request.view)
            point = _point(maze, "patching")
            rng = stream(TWIN_SEED, Purpose.EXPLORE_TWINS, maze.level,
                         CORRUPTIONS.index(request.corruption))
            corrupted_twin = twin(maze, point, request.corruption, rng)
            if corrupted_twin is None:
                raise Refused(f"this maze has no {request.corruption} twin (see the patching "
                              "docs): choose another corruption")
            clean = LayerCache(self.policy, render([(maze, point.cell)], self.observer),
                               request.layer)
            corrupted = LayerCache(self.policy, render(
                [(corrupted_twin.maze, corrupted_twin.mouse)], self.observer), request.layer)
            moves = (np.array([point.to_cheese]), np.array([point.to_top_right]))
            found = [decision_values(c.probs(), *moves) for c in (clean, corrupted)]
            ends = [values[request.target][0] for values in found]
            floor = metric_floor(Patching(), request.target)
            if abs(ends[0] - ends[1]) < floor:
                raise Refused(f"the {request.corruption} twin changes {request.target} by "
                              f"only {abs(ends[0] - ends[1]):.3g} (floor {floor}): there is "
                              "nothing to restore; choose another corruption")
            restored = unit_restorations(corrupted, clean.acts, "cell", np.array([0]), moves,
                                         *found, [request.target], "denoising")
            restored = restored[request.target].reshape(side, side)
            grid = np.array([[restored[maze_to_activation_cell(
                x, y, maze.maze_dim, maze.world_dim, side)] for x in range(maze.maze_dim)]
                for y in reversed(range(maze.maze_dim))])
            top = float(np.abs(restored).max())
            return r.PatchingMapResponse(
                kind="patching", grid=_rounded(grid), low=-top, high=top, signed=True,
                caption=f"share of {request.target} restored by patching each cell of "
                        f"{request.layer.replace('embedder.', '')} from the clean maze into "
                        f"the {request.corruption.replace('_', ' ')} twin",
                notes=[f"{request.target}: clean {ends[0]:.3g}, corrupted {ends[1]:.3g}; "
                       f"the corruption edited cell {corrupted_twin.edited}",
                       *_unpatched(request)],
                target=request.target, corruption=request.corruption, layer=request.layer,
                decision_square=point.cell, edited=corrupted_twin.edited,
                clean=float(ends[0]), corrupted=float(ends[1]),
                restoration=_rounded(restored),
                compute_ms=1000 * (time.perf_counter() - began))


def _unpatched(request: MapRequest) -> list[str]:
    """The note that a map ignores the view's interventions (when it has any)."""
    return ["the map is of the unpatched network: the interventions are not applied"] \
        if request.view.interventions.active() else []


def _known(what: str, name: str, known) -> None:
    if name not in known:
        raise Refused(f"unknown {what} {name!r}: choose one of {', '.join(known)}")


def _point(maze: Maze, what: str) -> DecisionPoint:
    point = None if maze.cheese is None else decision_point(maze)
    if point is None:
        raise Refused(f"{what} needs a decision square (where the paths to the cheese and "
                      "to the top-right cell part) and this maze has none"
                      + ("" if maze.cheese is not None else ": it has no cheese"))
    return point


def _grid(maze: Maze, found: dict) -> list[list[float | None]]:
    """Rows top first over the maze proper, None where `found` has no cell."""
    return [[None if (x, y) not in found else round(found[(x, y)], 5)
             for x in range(maze.maze_dim)] for y in reversed(range(maze.maze_dim))]


def _pixel_sums(maze: Maze, pixels: np.ndarray) -> np.ndarray:
    """A (64, 64) pixel map summed over the pixels of each maze cell (pixel centre in
    the cell, `pixel_maze_axes`), rows top first; pixels outside the maze proper are
    left out."""
    n = maze.maze_dim
    xs, ys = map(np.array, pixel_maze_axes(n, maze.world_dim))
    inside = ((ys >= 0) & (ys < n))[:, None] & ((xs >= 0) & (xs < n))[None, :]
    rows, cols = np.broadcast_to(n - 1 - ys[:, None], inside.shape), \
        np.broadcast_to(xs[None, :], inside.shape)
    sums = np.zeros((n, n))
    np.add.at(sums, (rows[inside], cols[inside]), np.asarray(pixels)[inside])
    return sums


def _at_start(maze: Maze) -> Maze:
    """The maze with the mouse at the start: what fields and vectors are cached under
    (neither depends on where the mouse stands)."""
    return maze if maze.mouse == maze.start else move_mouse(maze, maze.start)


def maze_info(maze: Maze) -> r.MazeInfo:
    n = maze.maze_dim
    rows = ["".join("." if maze.is_free((x, y)) else "#" for x in range(n))
            for y in reversed(range(n))]
    return r.MazeInfo(
        maze_dim=n, rows=rows, start=maze.start, mouse=maze.mouse, cheese=maze.cheese,
        top_right=maze.top_right, decision_square=decision_square(maze),
        path_to_cheese=[] if maze.cheese is None else shortest_path(
            maze, maze.start, maze.cheese),
        path_to_top_right=shortest_path(maze, maze.start, maze.top_right))


def _decision(field: VectorField) -> r.DecisionProbs | None:
    found = decision_probs(field)
    return None if found is None else r.DecisionProbs(
        p_cheese=round(found["p_cheese"], 5), p_topright=round(found["p_topright"], 5))


def _rounded(values) -> list:
    return np.round(np.asarray(values, dtype=np.float64), 5).tolist()
