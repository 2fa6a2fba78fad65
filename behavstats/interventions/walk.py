"""Episodes and path probabilities in one maze from pre-rendered observations, each
episode (or path) under its own activation edits.

In a maze without cheese the only state that changes while the mouse walks is its
cell and the sprite's facing (`Maze.step`, checked against the env). So every
observation an episode can meet is rendered once per (cell, facing), and hundreds of
episodes, each with its own interventions (e.g. a clamp at its own target square),
advance together in shared forward batches.

Moves are sampled from the five move probabilities (`MOVE_NAMES`); the move, not
which of the 15 actions made it, decides the next cell and facing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from behavstats.env import Observer, frames
from behavstats.forward import BATCH, LayerCache, RowInterventions, probs
from behavstats.geometry import move_between
from behavstats.maze import Cell, Maze
from behavstats.policy import MOVE_NAMES, Policy

ItemInterventions = Callable[[np.ndarray], Sequence]
"""Given the indices of the episodes (or paths) in one forward batch, their
interventions."""


class ObservationTable:
    """Observations of `maze` with the mouse on every free cell, facing either way.

    With `policy` and `layer`, the policy's activations at `layer` are cached for
    them (`LayerCache`), and `walk` / `path_probability` of that policy continue every
    pass from there: their interventions must then all be at `layer`.
    """

    def __init__(self, maze: Maze, observer: Observer | None = None, *,
                 policy: Policy | None = None, layer: str | None = None, batch: int = BATCH):
        self.maze = maze
        self.cells = maze.free_cells()
        pairs = [(maze, cell) for cell in self.cells for _ in (0, 1)]
        self.frames = frames(pairs, observer, reflected=[False, True] * len(self.cells))
        self._row = {(cell, facing): 2 * i + facing for i, cell in enumerate(self.cells)
                     for facing in (False, True)}
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


def _per_row(interventions: ItemInterventions | None, owner: np.ndarray):
    if interventions is None:
        return ()
    return lambda rows: interventions(owner[rows])


def path_probability(policy: Policy, table: ObservationTable, paths: Sequence[Sequence[Cell]],
                     interventions: ItemInterventions | None = None, *, batch: int = BATCH
                     ) -> np.ndarray:
    """For each path (start ... target), the geometric mean over its steps of the
    probability of the move along the path, seen with the facing that following the
    path gives; 1.0 for a path without steps."""
    obs_rows, moves, owner = [], [], []
    for k, path in enumerate(paths):
        facing = table.initial_facing
        for cell, nxt in zip(path[:-1], path[1:], strict=True):
            move = move_between(cell, nxt)
            obs_rows.append(table.row(cell, facing))
            moves.append(move)
            owner.append(k)
            _, facing = table.maze.step(cell, facing, MOVE_NAMES[move])
    owner = np.array(owner, dtype=int)
    p = table.probs(policy, _per_row(interventions, owner), np.array(obs_rows, int), batch)
    logp = np.log(np.maximum(p[np.arange(len(moves)), moves], 1e-30))
    sums = np.bincount(owner, weights=logp, minlength=len(paths))
    counts = np.bincount(owner, minlength=len(paths))
    return np.exp(np.divide(sums, counts, out=np.zeros(len(paths)), where=counts > 0))


def walk(policy: Policy, table: ObservationTable, goals: Sequence[Cell | None],
         limits: Sequence[int], rngs: Sequence[np.random.Generator],
         interventions: ItemInterventions | None = None, *, batch: int = BATCH
         ) -> list[list[Cell]]:
    """One sampled episode per goal from the maze's mouse cell: the cells visited (start
    included), ending on the goal or after limits[e] steps. Episode e draws its moves
    from its own `rngs[e]`, so it does not depend on the other episodes."""
    maze = table.maze
    paths = [[maze.mouse] for _ in goals]
    facing = [table.initial_facing] * len(goals)
    active = np.array([limits[e] > 0 and goals[e] != maze.mouse for e in range(len(goals))])
    while active.any():
        episodes = np.flatnonzero(active)
        rows = np.array([table.row(paths[e][-1], facing[e]) for e in episodes])
        p = table.probs(policy, _per_row(interventions, episodes), rows, batch).astype(float)
        cdf = np.cumsum(p, axis=1)
        for k, e in enumerate(episodes):
            move = min(int(np.searchsorted(cdf[k], rngs[e].random() * cdf[k, -1],
                                           side="right")), len(MOVE_NAMES) - 1)
            cell, facing[e] = maze.step(paths[e][-1], facing[e], MOVE_NAMES[move])
            paths[e].append(cell)
            if paths[e][-1] == goals[e] or len(paths[e]) > limits[e]:
                active[e] = False
    return paths
