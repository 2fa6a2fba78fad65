"""The shortest-path expert: the first move towards the cheese from every cell."""

from __future__ import annotations

from behavstats.geometry import first_moves
from behavstats.maze import Cell, Maze
from behavstats.policy import MOVE_ACTION, MOVE_NAMES


def expert_actions(maze: Maze, target: Cell | None = None) -> dict[Cell, int]:
    """The procgen action of the first step of the shortest path (`behavstats.geometry`,
    its tie rule) to `target` (default the cheese) from every cell that can reach it,
    the target itself excepted."""
    target = maze.cheese if target is None else target
    if target is None:
        raise ValueError("the maze has no cheese and no target was given")
    return {cell: MOVE_ACTION[MOVE_NAMES[m]] for cell, m in first_moves(maze, target).items()}
