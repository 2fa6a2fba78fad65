"""Vector-field figures: net-probability arrows over the maze picture."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from behavstats.maze.coords import OBS_SIZE, maze_to_pixel_center
from behavstats.plots.maze import crop_to_maze, mark_cells


def plot_vector_field(field, ax: Axes | None = None, *, observation: np.ndarray | None = None,
                      color: str = "red", title: str | None = None) -> Axes:
    """Arrows of the net probability vector (p_right - p_left, p_up - p_down) at every
    cell of a `VectorField`, over the maze's observation if given, cropped to the maze,
    with the start, cheese, top-right cell and decision square marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    maze = field.maze
    if observation is not None:
        ax.imshow(observation, extent=(0, OBS_SIZE, OBS_SIZE, 0))
    centres = np.array([maze_to_pixel_center(x, y, maze.maze_dim, maze.world_dim)
                        for x, y in field.cells])
    vectors = field.net_vectors()
    cell = OBS_SIZE / maze.world_dim
    ax.quiver(centres[:, 1], centres[:, 0], vectors[:, 0] * cell, -vectors[:, 1] * cell,
              color=color, angles="xy", scale_units="xy", scale=1, width=0.007,
              headwidth=4, headlength=4, headaxislength=3.5, zorder=4)
    mark_cells(ax, maze, size=max(6.0, 110 / maze.maze_dim))
    crop_to_maze(ax, maze)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_field_comparison(original, patched, *, observation: np.ndarray | None = None,
                          axes: np.ndarray | None = None,
                          titles: tuple[str, str, str] = ("original", "intervened",
                                                          "difference")) -> np.ndarray:
    """Three panels: original field, intervened field, and their difference."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 5))
    plot_vector_field(original, axes[0], observation=observation, title=titles[0])
    plot_vector_field(patched, axes[1], observation=observation, title=titles[1])
    plot_vector_field(patched - original, axes[2], observation=observation, color="blue",
                      title=titles[2])
    return axes
