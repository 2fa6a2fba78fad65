"""Batched forward passes over many (maze, mouse cell) observations, each row with its
own activation edits.

Every experiment in this package asks one question many times: what are the move
probabilities with the mouse on this cell of this maze when this row's activations
are edited so? Observations are rendered once by procgen (through `MouseStates`) and
forwarded in shared batches; a `RowInterventions` callable gives each batch the
interventions of its rows (e.g. `AddVector` with a (rows, C, H, W) vector), so a sweep
over levels x coefficients is one batched pass rather than one vector field per
level and coefficient. When many edited passes share observations and every edit is
at one layer, `LayerCache` computes the part of the network before that layer once
(about two thirds of the work at the vector layer) and continues each pass from there.
The vector experiments share two sets of rows: one observation per level at its decision
square (`DecisionSquares`) and whole vector fields, a few mazes at a time (`field_groups`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from behavstats.env import Observer
from behavstats.geometry import DecisionPoint
from behavstats.hooks import AddVector, run_with_cache
from behavstats.maze import Cell, Maze, MouseStates
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import MOVE_NAMES, Policy, inference, move_probs, preprocess
from behavstats.vfield import VectorField, field_cells

BATCH = 64
FIELD_GROUP = 4
"""Mazes whose vector fields are rendered and forwarded together (bounds the memory of
their cached activations: up to 4 x 625 cells x 32,768 floats at scale 4)."""
RowInterventions = Callable[[np.ndarray], Sequence]
"""Given the row numbers of one forward batch, the interventions for exactly those rows
(per-sample tensors are indexed by these rows)."""


class NoUsableLevelsError(ValueError):
    """None of the given levels can be used by an experiment (e.g. none has a decision
    square): pass more or other levels."""


class ChannelError(ValueError):
    """Channel indices that are not channels of the layer."""


def check_channels(channels: Sequence[int], n_channels: int, layer: str) -> list[int]:
    """The channels as ints, or ChannelError if empty or outside 0 .. n_channels - 1."""
    channels = [int(c) for c in channels]
    bad = [c for c in channels if not 0 <= c < n_channels]
    if bad or not channels:
        raise ChannelError(f"channels {bad or '(none)'} are not channels of {layer}, which has "
                           f"{n_channels} (0 to {n_channels - 1})")
    return channels


def as_mazes(levels: Sequence[int] | Sequence[Maze], mode: str = "hard") -> list[Maze]:
    """Mazes as given, or the mazes of level seeds (generated in `mode`)."""
    levels = list(levels)
    if all(isinstance(level, Maze) for level in levels):
        return levels
    return list(LevelGenerator(mode).mazes([int(level) for level in levels]))


def level_id(maze: Maze, position: int) -> int:
    """The maze's level seed, or its `position` among the levels given when it has none
    (a hand-built maze)."""
    return int(maze.level) if maze.level is not None else position


def render(pairs: Sequence[tuple[Maze, Cell]], observer: Observer | None = None,
           reflected: Sequence[bool | None] | None = None) -> np.ndarray:
    """Observations (N, 64, 64, 3) uint8 of each maze with the mouse on the paired cell;
    `reflected` sets the mouse sprite's facing per pair (None: the level's)."""
    observer = observer or Observer()
    states: dict[Maze, MouseStates] = {}
    buffers = []
    for i, (maze, cell) in enumerate(pairs):
        if maze not in states:
            states[maze] = MouseStates(maze)
        buffers.append(states[maze].at(cell, None if reflected is None else reflected[i]))
    if not buffers:
        return np.empty((0, 64, 64, 3), dtype=np.uint8)
    return observer.observe_states(buffers, [maze.mode for maze, _ in pairs])


def activations(policy: Policy, obs: np.ndarray, layer: str, *, batch: int = BATCH
                ) -> torch.Tensor:
    """Output of `layer` (N, C, H, W), float32, for uint8 observations."""
    if stage_of(layer) is not None:
        return LayerCache(policy, obs, layer, batch=batch).acts.float()
    parts = []
    with inference(policy):
        for start in range(0, len(obs), batch):
            _, cache = run_with_cache(policy, preprocess(obs[start : start + batch]), [layer])
            parts.append(cache[layer].float().contiguous())
    return torch.cat(parts)


_STAGES = tuple(f"embedder.block{b}.{part}" for b in (1, 2, 3)
                for part in ("conv", "maxpool", "res1", "res2"))
_TAIL = ("embedder.relu3", "embedder.flatten", "embedder.fc", "embedder.relufc", "fc_policy")
"""The IMPALA policy's forward pass (`behavstats.policy`) as a chain of stages."""


def stage_of(layer: str) -> str | None:
    """The stage of `_STAGES` whose output `layer` is (a residual block's `resadd` is
    the block's output, an IMPALA block's output that of its res2), else None."""
    name = layer.removesuffix(".resadd") if ".res" in layer else layer
    if name.count(".") == 1 and name.startswith("embedder.block"):
        name += ".res2"
    return name if name in _STAGES else None


class LayerCache:
    """Move probabilities of fixed observations under many edits at one layer.

    The activations at `layer` are computed once; each edited pass applies its
    interventions (all at `layer`) to them and runs only the rest of the network.
    For a layer inside a stage (e.g. a residual block's conv1), where the chain cannot
    be cut, every pass runs the whole network with hooks instead, with the same result.
    """

    def __init__(self, policy: Policy, obs: np.ndarray, layer: str, *, batch: int = BATCH):
        self.policy, self.obs, self.layer, self.batch = policy, obs, layer, batch
        stage = stage_of(layer)
        self.acts: torch.Tensor | None = None
        if stage is None:
            return
        modules = dict(policy.named_modules())
        cut = _STAGES.index(stage) + 1
        self._suffix = [modules[n] for n in (*_STAGES[cut:], *_TAIL)]
        prefix: list[nn.Module] = [modules[n] for n in _STAGES[:cut]]
        parts = []
        with inference(policy):
            for start in range(0, len(obs), batch):
                x = preprocess(obs[start : start + batch])
                for module in prefix:
                    x = module(x)
                parts.append(x)
        self.acts = torch.cat(parts) if parts else None

    def probs(self, interventions: Sequence | RowInterventions = (), *,
              index: np.ndarray | None = None) -> np.ndarray:
        """As `probs(policy, obs, interventions, index=index)`; every intervention must
        be at this cache's layer (ValueError otherwise)."""
        if self.acts is None:
            return probs(self.policy, self.obs, interventions, index=index, batch=self.batch)
        index = np.arange(len(self.obs)) if index is None else np.asarray(index)
        out = np.empty((len(index), len(MOVE_NAMES)), dtype=np.float32)
        with inference(self.policy):
            for start in range(0, len(index), self.batch):
                rows = np.arange(start, min(start + self.batch, len(index)))
                x = self.acts[torch.as_tensor(index[rows])]
                for edit in interventions(rows) if callable(interventions) else interventions:
                    if edit.layer != self.layer:
                        raise ValueError(f"an edit at {edit.layer} cannot continue from the "
                                         f"activations cached at {self.layer}")
                    edited = edit(x)
                    x = x if edited is None else edited
                x = x.contiguous(memory_format=torch.channels_last)
                for module in self._suffix:
                    x = module(x)
                out[rows] = move_probs(x).numpy()
        return out


def probs(policy: Policy, obs: np.ndarray, interventions: Sequence | RowInterventions = (),
          *, index: np.ndarray | None = None, batch: int = BATCH) -> np.ndarray:
    """Move probabilities (rows, 5), columns `MOVE_NAMES`.

    Row r is the observation `obs[index[r]]` (`index` defaults to every observation
    once) forwarded under `interventions`: the same ones for every row, or a
    `RowInterventions` callable giving those of each batch's rows.
    """
    index = np.arange(len(obs)) if index is None else np.asarray(index)
    out = np.empty((len(index), len(MOVE_NAMES)), dtype=np.float32)
    with inference(policy):
        for start in range(0, len(index), batch):
            rows = np.arange(start, min(start + batch, len(index)))
            edits = interventions(rows) if callable(interventions) else interventions
            with policy.hooks(*edits):
                logits = policy(preprocess(obs[index[rows]]))[0]
            out[rows] = move_probs(logits).numpy()
    return out


def added(layer: str, *terms: tuple[torch.Tensor, np.ndarray, np.ndarray]) -> RowInterventions:
    """Per-row activation additions: each term (vectors (M, C, H, W), owner (rows,),
    coeffs (rows,)) adds coeffs[r] * vectors[owner[r]] to row r at `layer`."""
    def edits(rows: np.ndarray) -> list[AddVector]:
        total = None
        for vectors, owner, coeffs in terms:
            scale = torch.as_tensor(np.asarray(coeffs)[rows], dtype=torch.float32)
            part = vectors[torch.as_tensor(np.asarray(owner)[rows])] * scale[:, None, None, None]
            total = part if total is None else total + part
        return [] if total is None else [AddVector(layer, total)]
    return edits


@dataclass(frozen=True)
class FieldRows:
    """The rows of the vector fields of several mazes: `cells[i]` are maze i's cells
    (default `field_cells`: every free cell but the cheese's), `owner[r]` the maze
    of row r; rows run maze by maze in cell order."""

    cells: list[list[Cell]]
    owner: np.ndarray

    @classmethod
    def of(cls, mazes: Sequence[Maze], cells: Sequence[Sequence[Cell]] | None = None
           ) -> FieldRows:
        cells = [field_cells(m) for m in mazes] if cells is None else [list(c) for c in cells]
        owner = np.repeat(np.arange(len(cells)), [len(c) for c in cells])
        return cls(cells, owner)

    def pairs(self, mazes: Sequence[Maze]) -> list[tuple[Maze, Cell]]:
        """(maze, cell) of every row, for `render`."""
        return [(maze, cell) for maze, cells in zip(mazes, self.cells, strict=True)
                for cell in cells]

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-row values -> one array per maze."""
        bounds = np.cumsum([len(c) for c in self.cells])[:-1]
        return np.split(values, bounds)


def field_groups(policy: Policy, mazes: Sequence[Maze], layer: str, observer: Observer,
                 *, batch: int = BATCH) -> Iterator[tuple[np.ndarray, FieldRows, LayerCache]]:
    """The vector fields of `mazes`, `FIELD_GROUP` mazes at a time: each group's indices
    into `mazes`, its `FieldRows`, and a `LayerCache` at `layer` of its observations."""
    for start in range(0, len(mazes), FIELD_GROUP):
        group = np.arange(start, min(start + FIELD_GROUP, len(mazes)))
        members = [mazes[i] for i in group]
        field_rows = FieldRows.of(members)
        cache = LayerCache(policy, render(field_rows.pairs(members), observer), layer,
                           batch=batch)
        yield group, field_rows, cache


def ordered_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) over every ordered pair of distinct indices below n, a-major."""
    a, b = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    distinct = a != b
    return a[distinct], b[distinct]


@dataclass
class DecisionSquares:
    """The usable levels of a vector experiment with the mouse on their decision squares
    (dsq): the `mazes`, their `points` and level `ids`; at each dsq the move towards the
    cheese (`to_cheese`) and towards the top-right cell (`to_top_right`), a `cache` of
    those observations at the edited layer and the unedited probabilities `original`
    (levels, 5)."""

    mazes: list[Maze]
    points: list[DecisionPoint]
    ids: list[int]
    to_cheese: np.ndarray
    to_top_right: np.ndarray
    cache: LayerCache
    original: np.ndarray

    @classmethod
    def of(cls, policy: Policy, mazes: Sequence[Maze], points: Sequence[DecisionPoint | None],
           chosen: Sequence[int], layer: str, observer: Observer, *, batch: int = BATCH
           ) -> DecisionSquares:
        """The mazes `chosen` (indices into `mazes`; their `points` must not be None)."""
        used, pts = [mazes[i] for i in chosen], [points[i] for i in chosen]
        obs = render([(m, p.cell) for m, p in zip(used, pts, strict=True)], observer)
        cache = LayerCache(policy, obs, layer, batch=batch)
        return cls(used, pts, [level_id(mazes[i], i) for i in chosen],
                   np.array([p.to_cheese for p in pts]), np.array([p.to_top_right for p in pts]),
                   cache, cache.probs())

    def sweep(self, vectors: torch.Tensor, coeffs: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every level with coeff x its own vector (`vectors[level]`) added, for each
        coefficient: (owner, coeff, probs) per row, rows coefficient by coefficient."""
        n = len(self.mazes)
        owner, cf = np.tile(np.arange(n), len(coeffs)), np.repeat(coeffs, n)
        return owner, cf, self.cache.probs(added(self.cache.layer, (vectors, owner, cf)),
                                           index=owner)

    def transfer(self, vectors: torch.Tensor, coeff: float, limit: int | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Level a's vector x coeff added at level b's dsq, for every ordered pair of
        distinct levels among the first `limit` (None: all): (a, b, probs) per pair."""
        a, b = ordered_pairs(len(self.mazes) if limit is None else min(len(self.mazes), limit))
        edits = added(self.cache.layer, (vectors, a, np.full(len(a), coeff)))
        return a, b, self.cache.probs(edits, index=b)


@dataclass
class FieldExample:
    """Vector fields of one level for figures: `fields` by condition name, drawn over
    `observations` (keyed by condition, or a shared "maze" entry)."""

    level: int
    fields: dict[str, VectorField]
    observations: dict[str, np.ndarray]
