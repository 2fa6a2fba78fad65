"""Maze geometry the experiments measure against: which move heads towards a target,
how far apart two cheeses are, how far a cell is from a path.

Moves are indices into `MOVE_NAMES` (LEFT, DOWN, NOOP, UP, RIGHT). Shortest paths are
those of `behavstats.features` (unique in procgen's tree mazes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from behavstats.features import decision_square, maze_graph
from behavstats.maze import MOVES, Cell, Maze
from behavstats.policy import MOVE_NAMES

MOVE_INDEX = {name: MOVE_NAMES.index(name) for name in MOVES}
_DELTA_MOVE = {delta: MOVE_INDEX[name] for name, delta in MOVES.items()}


def move_between(cell: Cell, nxt: Cell) -> int:
    """Index of the move from `cell` to the neighbouring `nxt`."""
    return _DELTA_MOVE[(nxt[0] - cell[0], nxt[1] - cell[1])]


def moves_towards(maze: Maze, target: Cell, cells: Sequence[Cell],
                  graph: nx.Graph | None = None) -> np.ndarray:
    """For each cell, the move that starts its shortest path to `target` (-1 at the
    target itself and at cells that cannot reach it)."""
    graph = maze_graph(maze) if graph is None else graph
    paths = nx.single_source_shortest_path(graph, target)
    out = np.full(len(cells), -1, dtype=int)
    for i, cell in enumerate(cells):
        path = paths.get(tuple(cell))
        if path is not None and len(path) > 1:
            out[i] = move_between(path[-1], path[-2])
    return out


def world_chebyshev(a: Maze, a_cell: Cell, b: Maze, b_cell: Cell) -> int:
    """max(|dx|, |dy|) between two cells in world cells, i.e. where they appear in the
    observation (mazes of different sizes are centred differently, so maze-frame
    coordinates of two mazes are not comparable, world cells are)."""
    (ax, ay), (bx, by) = a.world_cell(a_cell), b.world_cell(b_cell)
    return max(abs(ax - bx), abs(ay - by))


def steps_to_path(maze: Maze, path: Sequence[Cell], graph: nx.Graph | None = None
                  ) -> dict[Cell, int]:
    """Shortest-path steps from every reachable cell to the nearest cell of `path`."""
    graph = maze_graph(maze) if graph is None else graph
    lengths = nx.multi_source_dijkstra_path_length(graph, set(map(tuple, path)))
    return {cell: int(steps) for cell, steps in lengths.items()}


@dataclass(frozen=True)
class DecisionPoint:
    """A maze's decision square and the moves there that head to the cheese and to the
    top-right cell (indices into `MOVE_NAMES`)."""

    cell: Cell
    to_cheese: int
    to_top_right: int


def decision_point(maze: Maze) -> DecisionPoint | None:
    """The maze's `DecisionPoint`, or None without a decision square."""
    cell = decision_square(maze)
    if cell is None:
        return None
    graph = maze_graph(maze)
    return DecisionPoint(cell, int(moves_towards(maze, maze.cheese, [cell], graph)[0]),
                         int(moves_towards(maze, maze.top_right, [cell], graph)[0]))
