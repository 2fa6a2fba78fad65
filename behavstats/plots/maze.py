"""A maze level with what the features are made of: the cheese, the start, the
top-right cell, the shortest paths to the cheese and to the top-right cell, and the
decision square where they part.

Everything is drawn in observation pixels (the axes' data coordinates run 0..64 with
y downwards, pixel i covering [i, i + 1)), placed with
`behavstats.maze.coords.maze_to_pixel_center`. The observation itself comes from the
caller (e.g. `behavstats.env.observe([maze])[0]`): this module never builds an env.
Without one, the maze's walls are drawn in grey instead.
"""

from __future__ import annotations

import matplotlib.axes
import networkx as nx
import numpy as np
from matplotlib.figure import Figure

from behavstats.geometry import decision_square, shortest_path
from behavstats.maze.coords import OBS_SIZE, maze_to_pixel_center
from behavstats.maze.model import Cell, Maze, MazeStateError

MARKERS = {
    "start": dict(marker="s", color="tab:blue", label="start"),
    "cheese": dict(marker="*", color="gold", label="cheese", markersize=11),
    "top_right": dict(marker="^", color="tab:red", label="top-right cell"),
    "dsq": dict(marker="D", color="magenta", label="decision square"),
}
"""Marker style of each marked cell (the artists' gid is the key)."""
PATHS = {
    "path_cheese": dict(color="gold", label="path to cheese"),
    "path_top_right": dict(color="tab:red", label="path to top-right", linestyle="--"),
}
"""Line style of each path (the artists' gid is the key)."""


def _xy(maze: Maze, cells: list[Cell]) -> tuple[list[float], list[float]]:
    """Plot coordinates (x = pixel column, y = pixel row) of cell centres."""
    rows, cols = [], []
    for x, y in cells:
        row, col = maze_to_pixel_center(x, y, maze.maze_dim, maze.world_dim)
        rows.append(row)
        cols.append(col)
    return cols, rows


def _wall_image(maze: Maze) -> np.ndarray:
    """The free-cell grid as an image, row 0 at the top (walls grey, free cells white)."""
    return np.where(maze.free[::-1], 1.0, 0.45)


def mark_cells(ax: matplotlib.axes.Axes, maze: Maze, *, dsq: bool = True,
               size: float = 7) -> None:
    """The start, cheese, top-right cell and (with `dsq`) the decision square, as
    `MARKERS` (a square that cannot be computed is left out)."""
    cells: dict[str, Cell | None] = {"start": maze.start, "cheese": maze.cheese,
                                     "top_right": maze.top_right, "dsq": None}
    if dsq:
        try:
            cells["dsq"] = decision_square(maze)
        except MazeStateError:
            cells["dsq"] = None
    for gid, style in MARKERS.items():
        cell = cells[gid]
        if cell is None:
            continue
        kwargs = {"markersize": size, **style}
        if gid == "cheese":
            kwargs["markersize"] = size * 1.6
        ax.plot(*_xy(maze, [cell]), linestyle="none", gid=gid, markeredgecolor="black",
                markeredgewidth=0.6, zorder=5, **kwargs)


def crop_to_maze(ax: matplotlib.axes.Axes, maze: Maze, pad: float = 0.3) -> None:
    """Limit the axes to the maze proper (plus `pad` cells), not the whole world."""
    cell = OBS_SIZE / maze.world_dim
    lo = (maze.world_dim - maze.maze_dim) // 2 * cell - pad * cell
    hi = lo + (maze.maze_dim + 2 * pad) * cell
    ax.set_xlim(lo, hi)
    ax.set_ylim(hi, lo)


def plot_maze(maze: Maze, ax: matplotlib.axes.Axes | None = None, *,
              observation: np.ndarray | None = None, paths: bool = True
              ) -> matplotlib.axes.Axes:
    """Draw `maze` (over `observation`, a (64, 64, 3) uint8 procgen frame, if given) with
    the start, cheese, top-right cell and, with `paths`, the two shortest paths from the
    start and the decision square (none without a fork). Returns the Axes.

    Paths or a decision square that cannot be computed (a hand-built maze whose cheese
    or top-right cell is cut off) are left out rather than raising.
    """
    if ax is None:
        ax = Figure(figsize=(4.5, 4.5), layout="constrained").subplots()
    extent = (0, OBS_SIZE, OBS_SIZE, 0)
    if observation is not None:
        observation = np.asarray(observation)
        if observation.shape != (OBS_SIZE, OBS_SIZE, 3):
            raise ValueError(f"observation must be ({OBS_SIZE}, {OBS_SIZE}, 3), got "
                             f"{observation.shape}")
        ax.imshow(observation, extent=extent, interpolation="nearest")
    else:
        ax.imshow(_wall_image(maze), extent=extent, cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")

    if paths:
        targets = {"path_top_right": maze.top_right}
        if maze.cheese is not None:
            targets["path_cheese"] = maze.cheese
        for gid in PATHS:
            if gid not in targets:
                continue
            try:
                cells = shortest_path(maze, maze.start, targets[gid])
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            ax.plot(*_xy(maze, cells), gid=gid, linewidth=1.5, alpha=0.85, **PATHS[gid])

    mark_cells(ax, maze, dsq=paths)

    ax.set_xlim(0, OBS_SIZE)
    ax.set_ylim(OBS_SIZE, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    level = "" if maze.level is None else f"level {maze.level}, "
    ax.set_title(f"{level}{maze.mode}, maze {maze.maze_dim} x {maze.maze_dim}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return ax
