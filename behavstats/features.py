"""Decision-square and distance features of mazes, one row per level.

Definitions (maze-frame cells, see `behavstats.maze.coords`):
- paths are shortest paths over the graph of free cells (4-neighbour moves);
  procgen mazes are trees, so they are unique (ties, possible only in edited mazes,
  are broken deterministically by networkx's breadth-first order);
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
from collections.abc import Iterable
from concurrent.futures import Executor

import networkx as nx
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.maze import Cell, Maze
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


def shortest_path(maze: Maze, source: Cell, target: Cell, graph: nx.Graph | None = None
                  ) -> list[Cell]:
    """Cells from source to target inclusive (raises networkx.NetworkXNoPath)."""
    return nx.shortest_path(maze_graph(maze) if graph is None else graph, source, target)


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


def decision_square(maze: Maze, start: Cell | None = None) -> Cell | None:
    """The decision square of a maze (from `start`, default the maze's start cell)."""
    if maze.cheese is None:
        return None
    graph = maze_graph(maze)
    start = maze.start if start is None else start
    return decision_square_from_paths(shortest_path(maze, start, maze.cheese, graph),
                                      shortest_path(maze, start, maze.top_right, graph))


def _euc(a: Cell, b: Cell) -> float:
    return math.dist(a, b)


def _taxi(a: Cell, b: Cell) -> float:
    return float(abs(a[0] - b[0]) + abs(a[1] - b[1]))


def maze_features(maze: Maze) -> dict:
    """One row of `features_table` (columns `COLUMNS`) for one maze."""
    row: dict = dict.fromkeys(COLUMNS, np.nan)
    row.update(level=maze.level, mode=maze.mode, maze_dim=maze.maze_dim, has_dsq=False,
               cheese_in_tr5=False)
    if maze.cheese is None:
        return row
    graph = maze_graph(maze)
    cheese, tr = maze.cheese, maze.top_right
    tr5 = top_right_region(maze, TR_REGION, exclude_mouse=False)
    row.update(cheese_x=cheese[0], cheese_y=cheese[1], cheese_in_tr5=cheese in tr5,
               cheese_norm=float(np.hypot(*maze.world_cell(cheese))))
    steps_from = {"cheese": nx.single_source_shortest_path_length(graph, cheese)}
    points = {"cheese": cheese, "tr": tr}
    dsq = decision_square_from_paths(nx.shortest_path(graph, maze.start, cheese),
                                     nx.shortest_path(graph, maze.start, tr))
    if dsq is not None:
        row.update(has_dsq=True, dsq_x=dsq[0], dsq_y=dsq[1])
        steps_from["dsq"] = nx.single_source_shortest_path_length(graph, dsq)
        points["dsq"] = dsq
    pairs = {"cheese_dsq": ("cheese", "dsq"), "cheese_tr": ("cheese", "tr"),
             "dsq_tr": ("dsq", "tr"), "cheese_tr5": ("cheese", "tr5"),
             "dsq_tr5": ("dsq", "tr5")}
    for pair, (source, target) in pairs.items():
        if source not in points or target not in (*points, "tr5"):
            continue
        a = points[source]
        if target == "tr5":
            row[f"euc_{pair}"] = min(_euc(a, c) for c in tr5)
            row[f"taxi_{pair}"] = min(_taxi(a, c) for c in tr5)
            row[f"steps_{pair}"] = float(min(steps_from[source][c] for c in tr5))
        else:
            b = points[target]
            row[f"euc_{pair}"] = _euc(a, b)
            row[f"taxi_{pair}"] = _taxi(a, b)
            row[f"steps_{pair}"] = float(steps_from[source][b])
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
