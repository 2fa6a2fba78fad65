"""Maze levels as plain data: the `Maze` model, procgen's state codec, level generation
and edits, and the package's one coordinate convention."""

from behavstats.maze.codec import MouseStates, parse, parse_state, serialize
from behavstats.maze.coords import maze_to_activation_cell, maze_to_pixel_center
from behavstats.maze.model import MOVE_NAMES, MOVES, Cell, Maze, MazeStateError

__all__ = [
    "MouseStates",
    "MOVE_NAMES",
    "MOVES",
    "Cell",
    "Maze",
    "MazeStateError",
    "maze_to_activation_cell",
    "maze_to_pixel_center",
    "parse",
    "parse_state",
    "serialize",
]
