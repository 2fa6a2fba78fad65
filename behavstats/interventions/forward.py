"""What the vector experiments share on top of the engine (`behavstats.engine`).

Each experiment asks one question many times: what are the move probabilities with
the mouse on this cell of this maze when this row's activations are edited so? The
vector experiments use two sets of rows: one observation per level at its decision
square (`DecisionSquares`) and whole vector fields, a few mazes at a time
(`field_groups`); `added` gives each row its own activation addition, so a sweep over
levels x coefficients is one batched pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from behavstats.engine import BATCH, LayerCache, RowInterventions
from behavstats.env import Observer, render
from behavstats.errors import UserError
from behavstats.geometry import DecisionPoint, decision_point
from behavstats.hooks import AddVector
from behavstats.maze import Maze
from behavstats.maze.levels import LevelGenerator
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.vfield import FieldRows, VectorField, field_observations


class NoUsableLevelsError(UserError):
    """None of the given levels can be used by an experiment (e.g. none has a decision
    square): pass more or other levels."""


class ChannelError(UserError):
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


class DecisionLevels(NamedTuple):
    """The mazes of some levels, their decision points (None where a maze has no
    decision square) and the indices of those that have one."""

    mazes: list[Maze]
    points: list[DecisionPoint | None]
    chosen: list[int]


def decision_levels(levels: Sequence[int] | Sequence[Maze], mode: str = "hard",
                    minimum: int = 1, why: str = "") -> DecisionLevels:
    """`DecisionLevels` of the levels (seeds or mazes); NoUsableLevelsError when fewer
    than `minimum` have a decision square (`why` says what needs that many)."""
    mazes = as_mazes(levels, mode)
    points = [decision_point(m) for m in mazes]
    chosen = [i for i, p in enumerate(points) if p is not None]
    if len(chosen) < minimum:
        need = "none of the levels has" if minimum == 1 else \
            f"{why} needs at least {minimum} levels with"
        raise NoUsableLevelsError(f"{need} a decision square; pass more levels (about 60% "
                                  "of hard-mode levels have one)")
    return DecisionLevels(mazes, points, chosen)


def added(layer: str, *terms: tuple[torch.Tensor, np.ndarray, np.ndarray]) -> RowInterventions:
    """Per-row activation additions: each term (vectors (M, C, H, W) or (M, F), owner
    (rows,), coeffs (rows,)) adds coeffs[r] * vectors[owner[r]] to row r at `layer`."""
    def edits(rows: np.ndarray) -> list[AddVector]:
        total = None
        for vectors, owner, coeffs in terms:
            scale = torch.as_tensor(np.asarray(coeffs)[rows], dtype=torch.float32)
            part = vectors[torch.as_tensor(np.asarray(owner)[rows])]
            part = part * scale.reshape(-1, *[1] * (part.ndim - 1))
            total = part if total is None else total + part
        return [] if total is None else [AddVector(layer, total)]
    return edits


def field_groups(policy: Policy, mazes: Sequence[Maze], layer: str, observer: Observer,
                 *, batch: int = BATCH) -> Iterator[tuple[np.ndarray, FieldRows, LayerCache]]:
    """The vector fields of `mazes`, `FIELD_GROUP` mazes at a time: each group's indices
    into `mazes`, its `FieldRows`, and a `LayerCache` at `layer` of its observations."""
    for group, rows, obs in field_observations(mazes, observer):
        yield group, rows, LayerCache(policy, obs, layer, batch=batch)


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
