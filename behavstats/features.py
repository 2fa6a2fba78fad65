"""Decision-square and distance features of mazes, one row per level.

Definitions (maze-frame cells, see `behavstats.maze.coords`):
- paths are shortest paths over the graph of free cells (4-neighbour moves);
  procgen mazes are trees, so they are unique (ties, possible only in edited mazes,
  are broken deterministically: breadth-first search from the start trying moves in
  `MOVES` order, LEFT, DOWN, UP, RIGHT, each cell reached from the neighbour that
  found it first);
- the start is the maze's start cell (bottom-left, where procgen puts the mouse),
  also after the mouse has been moved;
- the decision square (dsq) is the last cell shared by the path start -> cheese and
  the path start -> top-right cell; there is none when either path contains the
  other's endpoint (the cheese lies on the way to the top-right cell or the
  top-right cell on the way to the cheese: the agent need not choose);
- tr is the maze's top-right cell; tr5 is the top-right 5 x 5 region of the maze,
  and a distance "to tr5" is the distance to its nearest free cell under the same
  metric;
- euc = Euclidean distance, taxi = |dx| + |dy|, steps = shortest-path length;
- cheese_norm is the Euclidean norm of the cheese's world-grid cell (wx, wy), wy
  counted from the bottom.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Executor

import networkx as nx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.maze import MOVES, Cell, Maze, MazeStateError
from behavstats.maze.coords import margin
from behavstats.maze.edits import top_right_region
from behavstats.maze.levels import LevelGenerator

TR_REGION = 5
_TARGET_PAIRS = ("cheese_dsq", "cheese_tr", "dsq_tr", "cheese_tr5", "dsq_tr5")
PUBLISHED_FEATURES: tuple[str, ...] = tuple(
    f"{metric}_{pair}" for metric in ("euc", "taxi", "steps") for pair in _TARGET_PAIRS
) + ("cheese_norm",)
"""The 16 metrics of the published behavioural regression."""
ID_COLUMNS = ("level", "mode", "maze_dim", "cheese_x", "cheese_y", "has_dsq", "dsq_x",
              "dsq_y", "cheese_in_tr5")
COLUMNS = ID_COLUMNS + PUBLISHED_FEATURES


def maze_graph(maze: Maze) -> nx.Graph:
    """Graph of the free cells (maze-frame tuples), edges between 4-neighbours."""
    free = maze.free
    m = margin(maze.maze_dim, maze.world_dim)
    wys, wxs = np.nonzero(free)
    graph = nx.Graph()
    graph.add_nodes_from(zip((wxs - m).tolist(), (wys - m).tolist(), strict=True))
    for dx, dy in ((1, 0), (0, 1)):
        both = free[: free.shape[0] - dy, : free.shape[1] - dx] & free[dy:, dx:]
        ys, xs = np.nonzero(both)
        xs, ys = (xs - m).tolist(), (ys - m).tolist()
        graph.add_edges_from(((x, y), (x + dx, y + dy)) for x, y in zip(xs, ys, strict=True))
    return graph


class _Walker:
    """Breadth-first searches over one maze's free cells.

    Cells live on a flat copy of the world grid padded with a ring of wall, so a
    neighbour is an index offset and needs no bounds check. Neighbours are tried in
    `MOVES` order (LEFT, DOWN, UP, RIGHT); a cell's parent is the neighbour that found
    it first, which breaks ties between equally short paths deterministically.
    """

    def __init__(self, maze: Maze):
        stride = maze.world_dim + 2
        padded = np.zeros((stride, stride), dtype=bool)
        padded[1:-1, 1:-1] = maze.free
        self.maze = maze
        self.free = padded.ravel().tolist()
        self.stride = stride
        self.shift = margin(maze.maze_dim, maze.world_dim) + 1
        self.moves = tuple(dx + dy * stride for dx, dy in MOVES.values())

    def index(self, cell: Cell) -> int:
        """Flat index of a free cell (raises nx.NodeNotFound for a wall or off-grid cell)."""
        if not self.maze.is_free(cell):
            raise nx.NodeNotFound(f"cell {cell} is a wall or outside the world")
        return (cell[1] + self.shift) * self.stride + cell[0] + self.shift

    def cell(self, index: int) -> Cell:
        y, x = divmod(index, self.stride)
        return x - self.shift, y - self.shift

    def search(self, source: int) -> tuple[list[int], list[int]]:
        """Steps from `source` to every cell (-1 where unreachable) and each cell's
        parent on its shortest path from `source` (-1 for the source)."""
        free, moves = self.free, self.moves
        dist = [-1] * len(free)
        parent = [-1] * len(free)
        dist[source] = 0
        queue = deque((source,))
        pop, push = queue.popleft, queue.append
        while queue:
            here = pop()
            there_dist = dist[here] + 1
            for move in moves:
                there = here + move
                if free[there] and dist[there] < 0:
                    dist[there] = there_dist
                    parent[there] = here
                    push(there)
        return dist, parent

    def path(self, parent: list[int], source: int, target: int) -> list[Cell]:
        """Cells from source to target inclusive, from the parents of `search(source)`
        (raises nx.NetworkXNoPath when target is unreachable)."""
        if target != source and parent[target] < 0:
            raise nx.NetworkXNoPath(f"no path from {self.cell(source)} to {self.cell(target)}")
        out = [target]
        while out[-1] != source:
            out.append(parent[out[-1]])
        return [self.cell(i) for i in reversed(out)]


def shortest_path(maze: Maze, source: Cell, target: Cell, graph: nx.Graph | None = None
                  ) -> list[Cell]:
    """Cells from source to target inclusive (raises networkx.NetworkXNoPath, or
    networkx.NodeNotFound for an endpoint that is not a free cell). Without `graph` the
    path is the package's one shortest path (ties broken as in the module docstring);
    with one, networkx's."""
    if graph is not None:
        return nx.shortest_path(graph, source, target)
    walker = _Walker(maze)
    start = walker.index(source)
    return walker.path(walker.search(start)[1], start, walker.index(target))


def decision_square_from_paths(to_cheese: list[Cell], to_top_right: list[Cell]) -> Cell | None:
    """Last common cell of two paths from the same start, or None when either path
    contains the other's endpoint."""
    if to_cheese[-1] in to_top_right or to_top_right[-1] in to_cheese:
        return None
    last = None
    for a, b in zip(to_cheese, to_top_right, strict=False):
        if a != b:
            break
        last = a
    return last


def _paths_from_start(walker: _Walker, start: Cell, cheese: Cell
                      ) -> tuple[list[Cell], list[Cell]]:
    """The shortest paths start -> cheese and start -> top-right cell (MazeStateError
    when an endpoint is not a free cell or cannot be reached)."""
    maze = walker.maze
    for name, cell in (("start", start), ("cheese", cheese), ("top-right cell", maze.top_right)):
        if not maze.is_free(cell):
            raise MazeStateError(f"the {name} {cell} of maze {maze.level} is a wall or outside "
                                 "the world: features need it on a free cell")
    source = walker.index(start)
    dist, parent = walker.search(source)
    paths = []
    for name, cell in (("cheese", cheese), ("top-right cell", maze.top_right)):
        target = walker.index(cell)
        if dist[target] < 0:
            raise MazeStateError(f"maze {maze.level} has no path from {start} to the {name} "
                                 f"{cell}: features need a connected maze")
        paths.append(walker.path(parent, source, target))
    return paths[0], paths[1]


def decision_square(maze: Maze, start: Cell | None = None) -> Cell | None:
    """The decision square of a maze (from `start`, default the maze's start cell);
    None without cheese or without a fork. Raises MazeStateError when the start, the
    cheese or the top-right cell is a wall or cannot be reached."""
    if maze.cheese is None:
        return None
    start = maze.start if start is None else start
    to_cheese, to_top_right = _paths_from_start(_Walker(maze), start, maze.cheese)
    return decision_square_from_paths(to_cheese, to_top_right)


def _euc(a: Cell, b: Cell) -> float:
    return math.dist(a, b)


def _taxi(a: Cell, b: Cell) -> float:
    return float(abs(a[0] - b[0]) + abs(a[1] - b[1]))


def maze_features(maze: Maze) -> dict:
    """One row of `features_table` (columns `COLUMNS`) for one maze.

    Raises MazeStateError when the start, cheese or top-right cell is a wall or when
    the cheese or the top-right cell cannot be reached from the start. Steps to tr5
    count only the region's cells reachable from the point (all of them in a procgen
    maze)."""
    row: dict = dict.fromkeys(COLUMNS, np.nan)
    row.update(level=maze.level, mode=maze.mode, maze_dim=maze.maze_dim, has_dsq=False,
               cheese_in_tr5=False)
    if maze.cheese is None:
        return row
    walker = _Walker(maze)
    cheese, tr = maze.cheese, maze.top_right
    to_cheese, to_tr = _paths_from_start(walker, maze.start, cheese)
    tr5 = top_right_region(maze, TR_REGION, exclude_mouse=False)
    tr5_index = [walker.index(c) for c in tr5]
    row.update(cheese_x=cheese[0], cheese_y=cheese[1], cheese_in_tr5=cheese in tr5,
               cheese_norm=float(np.hypot(*maze.world_cell(cheese))))
    points = {"cheese": cheese, "tr": tr}
    steps_from = {"cheese": walker.search(walker.index(cheese))[0]}
    dsq = decision_square_from_paths(to_cheese, to_tr)
    if dsq is not None:
        row.update(has_dsq=True, dsq_x=dsq[0], dsq_y=dsq[1])
        points["dsq"] = dsq
        steps_from["dsq"] = walker.search(walker.index(dsq))[0]
    pairs = {"cheese_dsq": ("cheese", "dsq"), "cheese_tr": ("cheese", "tr"),
             "dsq_tr": ("dsq", "tr"), "cheese_tr5": ("cheese", "tr5"),
             "dsq_tr5": ("dsq", "tr5")}
    for pair, (source, target) in pairs.items():
        if source not in points or target not in (*points, "tr5"):
            continue
        a, dist = points[source], steps_from[source]
        if target == "tr5":
            row[f"euc_{pair}"] = min(_euc(a, c) for c in tr5)
            row[f"taxi_{pair}"] = min(_taxi(a, c) for c in tr5)
            reachable = [dist[i] for i in tr5_index if dist[i] >= 0]
            row[f"steps_{pair}"] = float(min(reachable)) if reachable else np.nan
        else:
            b = points[target]
            row[f"euc_{pair}"] = _euc(a, b)
            row[f"taxi_{pair}"] = _taxi(a, b)
            row[f"steps_{pair}"] = float(dist[walker.index(b)])
    return row


def features_table(mazes: Iterable[Maze], *, progress: bool = False) -> pd.DataFrame:
    """Features of many mazes, one row each, columns `COLUMNS` (see the module
    docstring; decision-square columns are NaN when there is none)."""
    rows = [maze_features(m) for m in tqdm(mazes, disable=not progress, desc="features")]
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({"level": "Int64", "maze_dim": "int64", "has_dsq": "bool",
                         "cheese_in_tr5": "bool", "mode": "string"})


def _levels_chunk(seeds: list[int], mode: str) -> pd.DataFrame:
    return features_table(LevelGenerator(mode).mazes(seeds))


def level_features(seeds: Iterable[int], mode: str = "hard", *, progress: bool = False,
                   executor: Executor | None = None, chunk: int = 1000) -> pd.DataFrame:
    """Features of procgen levels by seed (rows in the order of `seeds`).

    With an `executor`, chunks of `chunk` seeds run in parallel (each worker builds
    its own procgen env); without one everything runs here.
    """
    seeds = [int(s) for s in seeds]
    if executor is None:
        return features_table(LevelGenerator(mode).mazes(seeds, progress=progress))
    chunks = [seeds[i : i + chunk] for i in range(0, len(seeds), chunk)]
    futures = [executor.submit(_levels_chunk, c, mode) for c in chunks]
    parts = [f.result() for f in tqdm(futures, disable=not progress, desc="features")]
    return pd.concat(parts, ignore_index=True) if parts else features_table([])
