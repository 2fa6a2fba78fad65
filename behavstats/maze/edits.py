"""Edits of a maze, each returning a new `Maze` (mazes are immutable)."""

from __future__ import annotations

import dataclasses

import numpy as np

from behavstats.maze.coords import margin
from behavstats.maze.model import Cell, Maze, MazeStateError


def _require_free(maze: Maze, cell: Cell, what: str) -> Cell:
    cell = (int(cell[0]), int(cell[1]))
    if not maze.is_free(cell):
        raise MazeStateError(f"cannot put the {what} at {cell}: it is a wall or off the grid")
    return cell


def remove_cheese(maze: Maze) -> Maze:
    return dataclasses.replace(maze, cheese=None)


def open_maze(maze: Maze) -> Maze:
    """The maze with every cell of the maze proper free (its walls removed; the margin of
    wall around it stays) and no cheese: the "blank" maze of attribution baselines."""
    free = maze.free.copy()
    m = margin(maze.maze_dim, maze.world_dim)
    free[m : m + maze.maze_dim, m : m + maze.maze_dim] = True
    return dataclasses.replace(maze, free=free, cheese=None)


def move_cheese(maze: Maze, cell: Cell) -> Maze:
    return dataclasses.replace(maze, cheese=_require_free(maze, cell, "cheese"))


def move_mouse(maze: Maze, cell: Cell) -> Maze:
    return dataclasses.replace(maze, mouse=_require_free(maze, cell, "mouse"))


def top_right_region(maze: Maze, n: int, *, exclude_mouse: bool = True) -> list[Cell]:
    """Free cells of the maze's top-right n x n corner (`rand_region` = n).

    x >= maze_dim - n and y >= maze_dim - n, n capped at maze_dim; n = 0 means the
    top-right cell alone. With `exclude_mouse` (where a cheese may be drawn) the
    mouse's cell is left out unless nothing else is free.
    """
    if n < 0:
        raise ValueError(f"region size must be >= 0, got {n}")
    low = maze.maze_dim - max(1, min(n, maze.maze_dim))
    m = margin(maze.maze_dim, maze.world_dim)
    corner = maze.free[low + m : maze.maze_dim + m, low + m : maze.maze_dim + m]  # [wy, wx]
    xs, ys = np.nonzero(corner.T)  # ordered by x, then y
    cells = list(zip((xs + low).tolist(), (ys + low).tolist(), strict=True))
    if not exclude_mouse:
        return cells
    return [c for c in cells if c != maze.mouse] or cells


def cheese_in_top_right_region(
    maze: Maze, n: int, rng: np.random.Generator | int | None = None
) -> Maze:
    """Move the cheese to a uniformly drawn free cell of the top-right n x n corner
    (the training distribution of the studied agents). `rng` is a Generator or a seed."""
    rng = np.random.default_rng(rng)
    cells = top_right_region(maze, n)
    return move_cheese(maze, cells[int(rng.integers(len(cells)))])


def carve_top_right_corridor(maze: Maze) -> Maze:
    """Open a corridor from the maze's top-right cell up to the world's top row and then
    right to the world's top-right cell, so the reachable top-right lies higher up
    and further right (the construction of the top-right vector). A maze that already
    fills the world is returned unchanged."""
    free = maze.free.copy()
    wx, wy = maze.world_cell(maze.top_right)
    top = maze.world_dim - 1
    free[wy : top + 1, wx] = True
    free[top, wx : top + 1] = True
    return dataclasses.replace(maze, free=free)


def toggle_walls(maze: Maze, cells: list[Cell]) -> Maze:
    """Turn each given cell (maze frame, inside the world) from wall to free or back;
    the mouse and the cheese must not end on a wall (MazeStateError)."""
    free = maze.free.copy()
    for cell in cells:
        if not maze.in_world(cell):
            raise MazeStateError(f"cannot toggle {tuple(cell)}: it is outside the world")
        wx, wy = maze.world_cell(cell)
        free[wy, wx] = not free[wy, wx]
    edited = dataclasses.replace(maze, free=free)
    edited.validate()
    return edited
