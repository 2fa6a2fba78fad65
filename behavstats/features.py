"""Decision-square and distance features of mazes, one row per level.

Definitions (maze-frame cells, see `behavstats.maze.coords`):
- paths, steps and the decision square (dsq) are those of `behavstats.geometry`
  (shortest paths over the free cells, its tie rule for edited mazes with loops; no
  dsq when the cheese lies on the way to the top-right cell or the top-right cell on
  the way to the cheese); the start is the maze's start cell (bottom-left, where
  procgen puts the mouse), also after the mouse has been moved;
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

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.geometry import decision_square, distances
from behavstats.maze import Cell, Maze
from behavstats.maze.edits import top_right_region
from behavstats.maze.levels import LevelGenerator
from behavstats.vocabulary import (
    CHEESE_IN_TR5,
    HAS_DSQ,
    PUBLISHED_FEATURES,
    TOP_RIGHT_REGION,
    renamed,
)

__getattr__ = renamed(__name__, {
    "TR_REGION": ("behavstats.vocabulary.TOP_RIGHT_REGION", TOP_RIGHT_REGION)})
ID_COLUMNS = ("level", "mode", "maze_dim", "cheese_x", "cheese_y", HAS_DSQ, "dsq_x",
              "dsq_y", CHEESE_IN_TR5)
COLUMNS = ID_COLUMNS + PUBLISHED_FEATURES


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
    cheese, tr = maze.cheese, maze.top_right
    dsq = decision_square(maze)
    tr5 = top_right_region(maze, TOP_RIGHT_REGION, exclude_mouse=False)
    row.update(cheese_x=cheese[0], cheese_y=cheese[1], cheese_in_tr5=cheese in tr5,
               cheese_norm=float(np.hypot(*maze.world_cell(cheese))))
    points = {"cheese": cheese, "tr": tr}
    if dsq is not None:
        row.update(has_dsq=True, dsq_x=dsq[0], dsq_y=dsq[1])
        points["dsq"] = dsq
    pairs = {"cheese_dsq": ("cheese", "dsq"), "cheese_tr": ("cheese", "tr"),
             "dsq_tr": ("dsq", "tr"), "cheese_tr5": ("cheese", "tr5"),
             "dsq_tr5": ("dsq", "tr5")}
    for pair, (source, target) in pairs.items():
        if source not in points or target not in (*points, "tr5"):
            continue
        a = points[source]
        steps = distances(maze, a)
        if target == "tr5":
            row[f"euc_{pair}"] = min(_euc(a, c) for c in tr5)
            row[f"taxi_{pair}"] = min(_taxi(a, c) for c in tr5)
            reachable = [steps[c] for c in tr5 if c in steps]
            row[f"steps_{pair}"] = float(min(reachable)) if reachable else np.nan
        else:
            b = points[target]
            row[f"euc_{pair}"] = _euc(a, b)
            row[f"taxi_{pair}"] = _taxi(a, b)
            row[f"steps_{pair}"] = float(steps[b])
    return row


def features_table(mazes: Iterable[Maze], *, progress: bool = False) -> pd.DataFrame:
    """Features of many mazes, one row each, columns `COLUMNS` (see the module
    docstring; decision-square columns are NaN when there is none)."""
    rows = [maze_features(m) for m in tqdm(mazes, disable=not progress, desc="features")]
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({"level": "Int64", "maze_dim": "int64", HAS_DSQ: "bool",
                         CHEESE_IN_TR5: "bool", "mode": "string"})


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
