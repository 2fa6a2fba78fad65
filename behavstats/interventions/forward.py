"""Batched forward passes over many (maze, mouse cell) observations, each row with its
own activation edits.

Every experiment in this package asks one question many times: what are the move
probabilities with the mouse on this cell of this maze when this row's activations
are edited so? Observations are rendered once by procgen (through `MouseStates`) and
forwarded in shared batches; a `RowInterventions` callable gives each batch the
interventions of its rows (e.g. `AddVector` with a (rows, C, H, W) vector), so a sweep
over levels x coefficients is one batched pass rather than one vector field per
level and coefficient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from behavstats.env import Observer
from behavstats.hooks import AddVector, run_with_cache
from behavstats.maze import Cell, Maze, MouseStates
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import MOVE_NAMES, Policy, inference, move_probs, preprocess
from behavstats.vfield import VectorField, field_cells

BATCH = 64
FIELD_GROUP = 16
"""Mazes whose vector fields are rendered and forwarded together (bounds memory)."""
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
    parts = []
    with inference(policy):
        for start in range(0, len(obs), batch):
            _, cache = run_with_cache(policy, preprocess(obs[start : start + batch]), [layer])
            parts.append(cache[layer].float().contiguous())
    return torch.cat(parts)


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

    def fields(self, mazes: Sequence[Maze], values: np.ndarray) -> list[VectorField]:
        """Per-row move probabilities -> one `VectorField` per maze."""
        return [VectorField(maze, cells, p) for maze, cells, p in
                zip(mazes, self.cells, self.split(values), strict=True)]


@dataclass
class FieldExample:
    """Vector fields of one level for figures: `fields` by condition name, drawn over
    `observations` (keyed by condition, or a shared "maze" entry)."""

    level: int
    fields: dict[str, VectorField]
    observations: dict[str, np.ndarray]
