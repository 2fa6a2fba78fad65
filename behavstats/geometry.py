"""The graph of a maze's free cells: the package's one definition of shortest paths,
path distances, first moves, reachability and the decision square.

Cells are maze-frame (x, y) tuples (see `behavstats.maze.coords`); the graph joins
4-neighbouring free cells. A move is an index into `MOVE_NAMES` (LEFT, DOWN, NOOP, UP,
RIGHT), the columns of the policy's move probabilities.

Tie rule. Procgen mazes are trees, so their shortest paths are unique; edited mazes can
have loops. Of equally short paths the package takes the one whose moves come first
in `MOVE_NAMES` order, compared move by move (LEFT < DOWN < UP < RIGHT): from each cell
the first move in that order that brings the mouse one step closer to the target. It
is also the path of a breadth-first search from the source that tries the moves in that
order and keeps the first parent found; every stretch of such a path is itself the
path between its ends (so two paths from one start, once parted, never meet again).

The same graph as a networkx.Graph is `free_cell_graph(maze)`, for everything networkx
offers; its shortest paths give the distances, path lengths and decision squares of
this module (a test checks it on hundreds of levels of both modes). This module does
not compute on it: distances here are scipy.sparse.csgraph breadth-first searches on a
sparse adjacency matrix built with numpy, about 3x faster over the features of 10,000
levels than building a networkx graph per maze (networkx spends most of its time
building the graph, a dict of dicts, in Python). They are cached by wall layout (the
free-cell grid and the maze size), not by Maze: mazes that differ only in cheese,
mouse or bookkeeping share them, whatever `Maze.__eq__` compares. Errors are
networkx's (NodeNotFound, NetworkXNoPath), which callers already catch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import networkx as nx
import numpy as np
from scipy.sparse import csgraph, csr_array

from behavstats.maze.coords import margin
from behavstats.maze.model import MOVE_NAMES, MOVES, Cell, Maze, MazeStateError

_STEPS = tuple((MOVE_NAMES.index(name), delta) for name, delta in MOVES.items())
"""(move, (dx, dy)) in `MOVE_NAMES` order: the order of the tie rule."""
_DELTA_MOVE = {delta: move for move, delta in _STEPS}


@dataclass(frozen=True, eq=False)
class _Layout:
    """The graph of one wall layout: node i is `cells[i]`, `node` maps back."""

    cells: list[Cell]
    node: dict[Cell, int]
    graph: csr_array


@lru_cache(maxsize=256)
def _layout(free: bytes, maze_dim: int) -> _Layout:
    """The graph of `Maze.free` (as bytes) for a maze of side `maze_dim`: row i of the
    sparse adjacency matrix lists the free neighbours of cell i."""
    world = math.isqrt(len(free))
    grid = np.frombuffer(free, dtype=bool).reshape(world, world)
    m = margin(maze_dim, world)
    wys, wxs = np.nonzero(grid)
    n = len(wys)
    padded = np.full((world + 2, world + 2), -1)  # node numbers, a ring of wall around
    padded[wys + 1, wxs + 1] = np.arange(n)
    around = np.stack([padded[wys + 1 + dy, wxs + 1 + dx] for dx, dy in MOVES.values()], 1)
    linked = around >= 0
    graph = csr_array((np.ones(linked.sum()), around[linked],
                       np.concatenate([[0], np.cumsum(linked.sum(axis=1))])), shape=(n, n))
    cells = list(zip((wxs - m).tolist(), (wys - m).tolist(), strict=True))
    return _Layout(cells, {c: i for i, c in enumerate(cells)}, graph)


@lru_cache(maxsize=1024)
def _distances(free: bytes, maze_dim: int, source: Cell) -> Mapping[Cell, int]:
    """Steps read off scipy's breadth-first tree (each cell one more than its parent,
    which comes before it in the tree's order)."""
    layout = _layout(free, maze_dim)
    order, parent = csgraph.breadth_first_order(layout.graph, layout.node[source],
                                                return_predecessors=True)
    cells, parent = layout.cells, parent.tolist()
    steps = {source: 0}
    for i in order[1:].tolist():
        steps[cells[i]] = steps[cells[parent[i]]] + 1
    return MappingProxyType(steps)


def free_cell_graph(maze: Maze) -> nx.Graph:
    """The maze's free cells as a networkx.Graph: nodes are maze-frame (x, y) cells
    (`behavstats.maze.coords`), edges join free 4-neighbours. A new graph on each call,
    the caller's to change; the geometry of this module is its shortest paths."""
    layout = _layout(maze.free.tobytes(), maze.maze_dim)
    graph = nx.Graph()
    graph.add_nodes_from(layout.cells)
    rows, cols = layout.graph.nonzero()
    cells = layout.cells
    graph.add_edges_from((cells[i], cells[j]) for i, j in zip(rows.tolist(), cols.tolist(),
                                                             strict=True) if i < j)
    return graph


def _cell(cell: Sequence[int]) -> Cell:
    return int(cell[0]), int(cell[1])


def distances(maze: Maze, source: Cell) -> Mapping[Cell, int]:
    """Steps from `source` to every free cell it can reach (a read-only mapping; raises
    networkx.NodeNotFound when `source` is a wall or outside the world)."""
    source = _cell(source)
    if not maze.is_free(source):
        raise nx.NodeNotFound(f"cell {source} is a wall or outside the world")
    return _distances(maze.free.tobytes(), maze.maze_dim, source)


def reachable(maze: Maze, source: Cell, target: Cell) -> bool:
    """Whether the mouse can walk from `source` to `target` (False if either is a wall)."""
    return maze.is_free(source) and _cell(target) in distances(maze, source)


def _step(to_target: Mapping[Cell, int], cell: Cell) -> tuple[int, Cell]:
    """The tie rule's move from `cell` (not the target) and the cell it leads to."""
    x, y = cell
    closer = to_target[cell] - 1
    return next((move, nxt) for move, (dx, dy) in _STEPS
                if to_target.get(nxt := (x + dx, y + dy)) == closer)


def shortest_path(maze: Maze, source: Cell, target: Cell) -> list[Cell]:
    """Cells from `source` to `target` inclusive, ties broken by the module's rule
    (raises networkx.NetworkXNoPath, or networkx.NodeNotFound for an endpoint that is
    not a free cell)."""
    source, to_target = _cell(source), distances(maze, target)
    if source not in to_target:
        if not maze.is_free(source):
            raise nx.NodeNotFound(f"cell {source} is a wall or outside the world")
        raise nx.NetworkXNoPath(f"no path from {source} to {tuple(target)}")
    path = [source]
    while to_target[path[-1]]:
        path.append(_step(to_target, path[-1])[1])
    return path


def first_moves(maze: Maze, target: Cell) -> dict[Cell, int]:
    """The move that starts the shortest path to `target` from every cell that can
    reach it, the target itself excepted."""
    to_target = distances(maze, target)
    return {cell: _step(to_target, cell)[0] for cell, steps in to_target.items() if steps}


def move_between(cell: Cell, nxt: Cell) -> int:
    """The move from `cell` to the neighbouring `nxt`."""
    return _DELTA_MOVE[(nxt[0] - cell[0], nxt[1] - cell[1])]


def steps_to_path(maze: Maze, path: Sequence[Cell]) -> dict[Cell, int]:
    """Steps from every cell that can reach `path` to its nearest cell."""
    layout = _layout(maze.free.tobytes(), maze.maze_dim)
    steps = csgraph.dijkstra(layout.graph, unweighted=True, min_only=True,
                             indices=[layout.node[_cell(c)] for c in path])
    reached = np.flatnonzero(np.isfinite(steps))
    return dict(zip([layout.cells[i] for i in reached], steps[reached].astype(int).tolist(),
                    strict=True))


def world_chebyshev(a: Maze, a_cell: Cell, b: Maze, b_cell: Cell) -> int:
    """max(|dx|, |dy|) between two cells in world cells, i.e. where they appear in the
    observation (mazes of different sizes are centred differently, so maze-frame
    coordinates of two mazes are not comparable, world cells are)."""
    (ax, ay), (bx, by) = a.world_cell(a_cell), b.world_cell(b_cell)
    return max(abs(ax - bx), abs(ay - by))


def decision_square(maze: Maze, start: Cell | None = None) -> Cell | None:
    """The last cell shared by the shortest paths from `start` (default the maze's
    start cell, wherever the mouse is) to the cheese and to the top-right cell.

    None without cheese, and None when either path contains the other's endpoint (the
    top-right cell on the way to the cheese, or the cheese on the way to the top-right
    cell): there is no fork, the agent need not choose. Raises MazeStateError when the
    start, the cheese or the top-right cell is a wall or cannot be reached."""
    if maze.cheese is None:
        return None
    start = maze.start if start is None else _cell(start)
    ends = {"cheese": maze.cheese, "top-right cell": maze.top_right}
    for name, cell in {"start": start, **ends}.items():
        if not maze.is_free(cell):
            raise MazeStateError(f"the {name} {cell} of maze {maze.level} is a wall or "
                                 "outside the world: the decision square needs a free cell")
    paths = []
    for name, cell in ends.items():
        try:
            paths.append(shortest_path(maze, start, cell))
        except nx.NetworkXNoPath:
            raise MazeStateError(f"maze {maze.level} has no path from {start} to the {name} "
                                 f"{cell}: the decision square needs a connected maze") from None
    to_cheese, to_top_right = paths
    if to_cheese[-1] in to_top_right or to_top_right[-1] in to_cheese:
        return None
    # neither path is a prefix of the other, and once parted they never meet again
    parted = next(i for i, (a, b) in enumerate(zip(to_cheese, to_top_right, strict=False))
                  if a != b)
    return to_cheese[parted - 1]


@dataclass(frozen=True)
class DecisionPoint:
    """A maze's decision square and the moves there that head to the cheese and to the
    top-right cell."""

    cell: Cell
    to_cheese: int
    to_top_right: int


def decision_point(maze: Maze) -> DecisionPoint | None:
    """The maze's `DecisionPoint`, or None without a decision square."""
    cell = decision_square(maze)
    if cell is None:
        return None
    return DecisionPoint(cell, first_moves(maze, maze.cheese)[cell],
                         first_moves(maze, maze.top_right)[cell])
