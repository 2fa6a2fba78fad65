"""The shortest-path expert: the first move towards the cheese from every cell."""

from __future__ import annotations

from collections import deque

from behavstats.maze import MOVES, Cell, Maze
from behavstats.policy import MOVE_ACTION


def distances_to(maze: Maze, target: Cell) -> dict[Cell, int]:
    """Steps from every reachable free cell to `target` (breadth-first search)."""
    dist = {target: 0}
    queue = deque([target])
    while queue:
        cell = queue.popleft()
        for nxt in maze.neighbours(cell):
            if nxt not in dist:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    return dist


def expert_moves(maze: Maze, target: Cell | None = None) -> dict[Cell, str]:
    """Move name (LEFT/DOWN/UP/RIGHT) of the first step of a shortest path to `target`
    (default the cheese) from every reachable cell other than the target. Ties, which
    only edited mazes can have, go to the first move in `MOVES` order."""
    target = maze.cheese if target is None else target
    if target is None:
        raise ValueError("the maze has no cheese and no target was given")
    dist = distances_to(maze, target)
    moves = {}
    for cell, d in dist.items():
        if d == 0:
            continue
        for name, (dx, dy) in MOVES.items():
            if dist.get((cell[0] + dx, cell[1] + dy)) == d - 1:
                moves[cell] = name
                break
    return moves


def expert_actions(maze: Maze, target: Cell | None = None) -> dict[Cell, int]:
    """As `expert_moves`, as procgen action indices."""
    return {cell: MOVE_ACTION[m] for cell, m in expert_moves(maze, target).items()}
