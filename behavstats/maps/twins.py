"""Corrupted twins of a clean maze for activation patching (`maps.patching`): each a
maze edit (`behavstats.maze.edits`) chosen so that the clean maze's decision square,
and the moves there towards the cheese and towards the top-right cell, stay what is
measured:

- cheese_moved: the cheese on a random free cell whose path from the dsq does not start
  with the clean move towards the cheese (so that move no longer leads to it), nor the
  dsq itself;
- cheese_removed: no cheese;
- mouse_moved: the same maze with the mouse on the start cell instead of the dsq
  (levels whose dsq is the start have no twin);
- wall_toggled: one wall cell opened, at random among those not next to either path
  from the start whose opening leaves both paths and the dsq as they were (none found:
  no twin).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from behavstats.errors import UserError
from behavstats.experiments import CORRUPTIONS
from behavstats.geometry import DecisionPoint, decision_point, distances, shortest_path
from behavstats.maze import Cell, Maze, MazeStateError
from behavstats.maze.edits import move_cheese, remove_cheese, toggle_walls
from behavstats.maze.model import MOVE_NAMES, MOVES

WALL_TRIES = 30
"""Walls tried per level for the wall_toggled twin."""


class PatchingError(UserError):
    """Patching settings that name an unknown corruption, direction, metric or unit, or
    a layer patching cannot use."""


@dataclass(frozen=True)
class Twin:
    """A corrupted twin of a clean maze: its `maze`, the cell the `mouse` is shown on,
    and the cell the corruption `edited` (the moved cheese, the removed cheese, the
    mouse's new cell, the opened wall), all maze frame."""

    maze: Maze
    mouse: Cell
    edited: Cell


def _branch(maze: Maze, point: DecisionPoint) -> set[Cell]:
    """The cells whose shortest path from the dsq starts with the move towards the
    cheese."""
    dx, dy = MOVES[MOVE_NAMES[point.to_cheese]]
    first = (point.cell[0] + dx, point.cell[1] + dy)
    from_dsq, from_first = distances(maze, point.cell), distances(maze, first)
    return {c for c, steps in from_first.items() if from_dsq.get(c) == steps + 1}


def twin(maze: Maze, point: DecisionPoint, corruption: str, rng: np.random.Generator
         ) -> Twin | None:
    """The `corruption` twin of `maze` (module docstring), or None when it has none."""
    if corruption == "cheese_removed":
        return Twin(remove_cheese(maze), point.cell, maze.cheese)
    if corruption == "mouse_moved":
        return None if point.cell == maze.start else Twin(maze, maze.start, maze.start)
    if corruption == "cheese_moved":
        branch = _branch(maze, point)
        cells = [c for c in distances(maze, point.cell) if c not in branch and c != point.cell]
        if not cells:
            return None
        cell = cells[int(rng.integers(len(cells)))]
        return Twin(move_cheese(maze, cell), point.cell, cell)
    if corruption == "wall_toggled":
        return _opened_wall(maze, point, rng)
    raise PatchingError(f"unknown corruption {corruption!r}; known: {', '.join(CORRUPTIONS)}")


def _opened_wall(maze: Maze, point: DecisionPoint, rng: np.random.Generator) -> Twin | None:
    paths = [shortest_path(maze, maze.start, end) for end in (maze.cheese, maze.top_right)]
    beside = {(x + dx, y + dy) for path in paths for x, y in path
              for dx, dy in ((0, 0), *MOVES.values())}
    walls = [(x, y) for x in range(maze.maze_dim) for y in range(maze.maze_dim)
             if not maze.is_free((x, y)) and (x, y) not in beside]
    for k in rng.permutation(len(walls))[:WALL_TRIES]:
        cell = walls[int(k)]
        try:
            opened = toggle_walls(maze, [cell])
            same = (decision_point(opened) == point
                    and [shortest_path(opened, opened.start, end)
                         for end in (maze.cheese, maze.top_right)] == paths)
        except (MazeStateError, nx.NetworkXException):
            continue
        if same:
            return Twin(opened, point.cell, cell)
    return None
