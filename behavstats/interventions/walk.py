"""Path probabilities in one maze from pre-rendered observations, each path under its
own activation edits.

In a maze without cheese the only state that changes while the mouse walks is its
cell and the sprite's facing (`Maze.step`, checked against the env). So every
observation a path can meet is rendered once per (cell, facing), and hundreds of
paths, each with its own interventions (e.g. a clamp at its own target square), are
scored together in shared forward batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from behavstats.engine import BATCH, LayerCache, RowInterventions, probs
from behavstats.env import Observer, frames
from behavstats.geometry import move_between
from behavstats.maze import Cell, Maze
from behavstats.policy import MOVE_NAMES, Policy

ItemInterventions = Callable[[np.ndarray], Sequence]
"""Given the indices of the paths in one forward batch, their interventions."""


class ObservationTable:
    """Observations of `maze` with the mouse on given (cell, facing) states (default:
    every free cell, facing either way).

    With `policy` and `layer`, the policy's activations at `layer` are cached for
    them (`LayerCache`), and `path_probability` of that policy continues every
    pass from there: their interventions must then all be at `layer`.
    """

    def __init__(self, maze: Maze, observer: Observer | None = None, *,
                 states: Iterable[tuple[Cell, bool]] | None = None,
                 policy: Policy | None = None, layer: str | None = None, batch: int = BATCH):
        self.maze = maze
        if states is None:
            states = [(cell, facing) for cell in maze.free_cells() for facing in (False, True)]
        self.states = list(dict.fromkeys((tuple(c), bool(f)) for c, f in states))
        self.frames = frames([(maze, cell) for cell, _ in self.states], observer,
                             reflected=[facing for _, facing in self.states])
        self._row = {state: i for i, state in enumerate(self.states)}
        self.initial_facing = maze.reflected
        self.cache = (LayerCache(policy, self.frames, layer, batch=batch)
                      if policy is not None and layer is not None else None)

    def row(self, cell: Cell, facing_right: bool) -> int:
        return self._row[(tuple(cell), bool(facing_right))]

    def probs(self, policy: Policy, interventions: Sequence | RowInterventions,
              index: np.ndarray, batch: int = BATCH) -> np.ndarray:
        """Move probabilities of the rows `index` (from the cache for its policy)."""
        if self.cache is not None and self.cache.policy is policy:
            return self.cache.probs(interventions, index=index)
        return probs(policy, self.frames, interventions, index=index, batch=batch)


def path_steps(maze: Maze, paths: Sequence[Sequence[Cell]], facing: bool
               ) -> tuple[list[Cell], list[bool], np.ndarray, np.ndarray]:
    """Every step of the paths (start ... target) from the sprite facing `facing`: the
    cell the mouse stands on, its facing there (as following the path gives), the move
    along the path, and the path's index (owner)."""
    cells, facings, moves, owner = [], [], [], []
    for k, path in enumerate(paths):
        now = facing
        for cell, nxt in zip(path[:-1], path[1:], strict=True):
            move = move_between(cell, nxt)
            cells.append(cell)
            facings.append(now)
            moves.append(move)
            owner.append(k)
            _, now = maze.step(cell, now, MOVE_NAMES[move])
    return cells, facings, np.array(moves, dtype=int), np.array(owner, dtype=int)


def geometric_means(p: np.ndarray, moves: np.ndarray, owner: np.ndarray, n_paths: int
                    ) -> np.ndarray:
    """Per path, the geometric mean over its steps of the probability of the move along
    it (`p`: move probabilities of the steps of `path_steps`); 1.0 without steps."""
    logp = np.log(np.maximum(p[np.arange(len(moves)), moves], 1e-30))
    sums = np.bincount(owner, weights=logp, minlength=n_paths)
    counts = np.bincount(owner, minlength=n_paths)
    return np.exp(np.divide(sums, counts, out=np.zeros(n_paths), where=counts > 0))


def path_probability(policy: Policy, table: ObservationTable, paths: Sequence[Sequence[Cell]],
                     interventions: ItemInterventions | None = None, *, batch: int = BATCH
                     ) -> np.ndarray:
    """For each path (start ... target), the geometric mean over its steps of the
    probability of the move along the path, seen with the facing that following the
    path gives; 1.0 for a path without steps."""
    cells, facings, moves, owner = path_steps(table.maze, paths, table.initial_facing)
    rows = np.array([table.row(c, f) for c, f in zip(cells, facings, strict=True)], int)
    if interventions is None:  # a state's probabilities are the same on every path
        states, of_step = np.unique(rows, return_inverse=True)
        p = table.probs(policy, (), states, batch)[of_step]
    else:
        p = table.probs(policy, lambda r: interventions(owner[r]), rows, batch)
    return geometric_means(p, moves, owner, len(paths))
