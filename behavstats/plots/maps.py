"""Figures of the maps over the maze (`behavstats.maps`): value maps beside vector
fields, value by distance, and integrated-gradients attributions to pixels, activation
cells and channels.

Everything is drawn in observation pixels (0..64, y downwards), as `plots.maze`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from behavstats.maze.coords import OBS_SIZE, maze_to_pixel_center
from behavstats.plots.interventions import _grid
from behavstats.plots.maze import crop_to_maze, mark_cells
from behavstats.plots.vfield import plot_vector_field
from behavstats.quantities import BASELINE_WORDS, TARGET_WORDS
from behavstats.stats.multiplicity import significant

EXTENT = (0, OBS_SIZE, OBS_SIZE, 0)
VALUE_CMAP = "viridis"
ATTRIBUTION_CMAP = "RdBu_r"
FAINT = 0.03
"""Attributions below this share of a map's largest are not drawn."""
STEP_WORDS = {"cheese": "steps to the cheese", "top_right": "steps to the top-right cell"}


def _axes(ax: Axes | None, size: tuple[float, float] = (4.6, 4.6)) -> Axes:
    return ax if ax is not None else Figure(figsize=size, layout="constrained").subplots()


def _free_grid(maze) -> np.ndarray:
    """The free-cell grid as an image, row 0 at the top (walls dark, free cells light)."""
    return np.where(maze.free[::-1], 0.93, 0.35)


def plot_value_map(vmap, ax: Axes | None = None, *, norm: Normalize | None = None,
                   title: str | None = None, colorbar: bool = True) -> Axes:
    """A `ValueMap` as coloured cells over the maze's walls, with the start, cheese,
    top-right cell and decision square marked (the cheese's own cell, where the mouse
    never stands, stays blank)."""
    ax = _axes(ax)
    maze = vmap.maze
    grid = np.full((maze.world_dim, maze.world_dim), np.nan)
    for (x, y), value in zip(vmap.cells, vmap.values, strict=True):
        wx, wy = maze.world_cell((x, y))
        grid[maze.world_dim - 1 - wy, wx] = value
    ax.imshow(_free_grid(maze), extent=EXTENT, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    norm = norm or Normalize(np.nanmin(grid), np.nanmax(grid))
    image = ax.imshow(np.ma.masked_invalid(grid), extent=EXTENT, cmap=VALUE_CMAP, norm=norm,
                      interpolation="nearest")
    mark_cells(ax, maze, size=max(5.0, 90 / maze.maze_dim))
    crop_to_maze(ax, maze)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label="value")
    return ax


def plot_value_beside_field(vmap, field, observation: np.ndarray | None = None, *,
                            title: str | None = None, axes: np.ndarray | None = None
                            ) -> np.ndarray:
    """The vector field (left) beside the value map of the same maze (right)."""
    axes = _grid(axes, 1, 2, (5.0, 4.8)).ravel()
    plot_vector_field(field, axes[0], observation=observation, title="vector field")
    plot_value_map(vmap, axes[1], title="value with the mouse on each square")
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_value_example(example, labels: dict[str, str], axes: np.ndarray | None = None
                       ) -> np.ndarray:
    """One level (`maps.value.ValueExample`): its vector field, then its value maps per
    condition (labelled by `labels`) on one colour scale."""
    panels = 1 + len(example.maps)  # two rows: the panels stay legible at the page's width
    axes = _grid(axes, 2, -(-panels // 2), (4.2, 4.4)).ravel()
    for spare in axes[panels:]:
        spare.set_axis_off()
    axes = axes[:panels]
    plot_vector_field(example.field, axes[0], observation=example.observation,
                      title="vector field, cheese present")
    every = np.concatenate([m.values for m in example.maps.values()])
    norm = Normalize(float(every.min()), float(every.max()))
    for ax, (condition, vmap) in zip(axes[1:], example.maps.items(), strict=True):
        plot_value_map(vmap, ax, norm=norm, title=f"value, {labels[condition]}",
                       colorbar=False)
    axes[0].figure.colorbar(axes[-1].images[-1], ax=list(axes[1:]), shrink=0.8,
                            label="value (one scale)")
    maze = example.field.maze
    axes[0].figure.suptitle(f"level {example.level} ({maze.maze_dim} x {maze.maze_dim})")
    return axes


def plot_value_by_steps(by_steps: pd.DataFrame, labels: dict[str, str], min_levels: int = 10,
                        axes: np.ndarray | None = None) -> np.ndarray:
    """Mean value by steps to the cheese (left) and to the top-right cell (right), one
    line per condition with its 95% bootstrap band over levels (`ValueMapsResult.by_steps`;
    distances reached by fewer than `min_levels` levels left out)."""
    axes = _grid(axes, 1, 2, (5.0, 3.8)).ravel()
    for ax, (target, words) in zip(axes, STEP_WORDS.items(), strict=True):
        part = by_steps[(by_steps["target"] == target) & (by_steps["n"] >= min_levels)]
        for k, (condition, label) in enumerate(labels.items()):
            line = part[part["condition"] == condition]
            ax.plot(line["steps"], line["estimate"], ("-", "--", ":")[k % 3], color=f"C{k}",
                    lw=1.6, label=label)
            ax.fill_between(line["steps"], line["ci_low"], line["ci_high"], color=f"C{k}",
                            alpha=0.12, lw=0)
        ax.set_xlabel(words)
        ax.set_ylabel("mean value over levels")
    axes[0].legend(fontsize="small")
    axes[0].figure.suptitle("Value by distance (per level mean, then 95% bootstrap over "
                            f"levels; distances with {min_levels}+ levels)")
    return axes


def _near_cheese_box(ax: Axes, maze, radius: int = 1) -> None:
    """A dashed square around the cells within `radius` of the cheese (the region of
    the cheese share)."""
    cell = OBS_SIZE / maze.world_dim
    row, col = maze_to_pixel_center(*maze.cheese, maze.maze_dim, maze.world_dim)
    half = (radius + 0.5) * cell
    ax.add_patch(Rectangle((col - half, row - half), 2 * half, 2 * half, fill=False,
                           ls="--", lw=1.0, ec="black"))


def _attribution_overlay(ax: Axes, values: np.ndarray, extent: tuple, maze,
                         observation: np.ndarray, title: str) -> None:
    """`values` on a symmetric diverging scale over the faded observation; values below
    `FAINT` of the largest left transparent, so the maze shows through."""
    ax.imshow(observation, extent=EXTENT, alpha=0.55, interpolation="nearest")
    limit = float(np.abs(values).max()) or 1.0
    shown = np.ma.masked_where(np.abs(values) < FAINT * limit, values)
    image = ax.imshow(shown, extent=extent, cmap=ATTRIBUTION_CMAP,
                      norm=TwoSlopeNorm(0.0, -limit, limit), interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, shrink=0.75)
    _near_cheese_box(ax, maze)
    for cell, marker, colour in ((maze.mouse, "D", "magenta"), (maze.top_right, "^", "C3")):
        row, col = maze_to_pixel_center(*cell, maze.maze_dim, maze.world_dim)
        ax.plot(col, row, marker, ms=max(5.0, 90 / maze.maze_dim), mfc="none", mec=colour,
                mew=1.4)
    crop_to_maze(ax, maze)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def plot_pixel_attribution(values: np.ndarray, maze, observation: np.ndarray,
                           ax: Axes | None = None, *, title: str = "pixels") -> Axes:
    """A (64, 64) pixel attribution map (summed over colour) over the observation; the
    dashed square: the cells within one cell of the cheese; hollow markers: the mouse
    (magenta diamond) and the top-right cell (red triangle)."""
    ax = _axes(ax)
    _attribution_overlay(ax, values, EXTENT, maze, observation, title)
    return ax


def plot_cell_attribution(values: np.ndarray, maze, observation: np.ndarray,
                          ax: Axes | None = None, *, title: str = "layer cells") -> Axes:
    """An (H, W) activation-cell attribution map (summed over channels) over the
    observation, each cell drawn around the pixel its receptive field is centred on
    (`coords.maze_to_activation_cell`)."""
    ax = _axes(ax)
    stride = OBS_SIZE / values.shape[-1]
    shift = stride / 2
    extent = (-shift, OBS_SIZE - shift, OBS_SIZE - shift, -shift)
    _attribution_overlay(ax, values, extent, maze, observation, title)
    return ax


def plot_channel_bars(values: np.ndarray, ax: Axes | None = None, *, top: int = 8,
                      title: str = "channels") -> Axes:
    """The `top` channels by |attribution| (summed over cells) as horizontal bars."""
    ax = _axes(ax, (3.6, 3.6))
    order = np.argsort(-np.abs(values), kind="stable")[:top][::-1]
    ax.barh(np.arange(len(order)), values[order],
            color=["C3" if v > 0 else "C0" for v in values[order]])
    ax.set_yticks(np.arange(len(order)), [f"ch {c}" for c in order], fontsize=8)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("attribution (sum over cells)")
    ax.set_title(title, fontsize=9)
    return ax


def plot_attribution_example(example, target: str, baselines, pixels: pd.DataFrame,
                             cells: pd.DataFrame, channels: pd.DataFrame, layer: str,
                             axes: np.ndarray | None = None) -> np.ndarray:
    """One level (`maps.attribution.AttributionExample`), one row per baseline: its
    pixel map, its layer's cell map and its top channels for `target`."""
    axes = _grid(axes, len(baselines), 3, (4.4, 4.0))
    short = layer.removeprefix("embedder.").removesuffix(".resadd")
    for row, baseline in zip(axes, baselines, strict=True):
        def rows(table, b=baseline):
            return table[(table["level"] == example.level) & (table["target"] == target)
                         & (table["baseline"] == b)]
        pixel_map = np.zeros((OBS_SIZE, OBS_SIZE))
        found = rows(pixels)
        pixel_map[found["row"].to_numpy(), found["col"].to_numpy()] = found["attribution"]
        found = rows(cells)
        size = int(found["row"].max()) + 1
        cell_map = np.zeros((size, size))
        cell_map[found["row"].to_numpy(), found["col"].to_numpy()] = found["attribution"]
        words = BASELINE_WORDS.get(baseline, baseline)
        plot_pixel_attribution(pixel_map, example.maze, example.observation, row[0],
                               title=f"pixels, {words}")
        plot_cell_attribution(cell_map, example.maze, example.observation, row[1],
                              title=f"{short} cells")
        plot_channel_bars(rows(channels).sort_values("channel")["attribution"].to_numpy(),
                          row[2], title=f"{short} channels")
    maze = example.maze
    axes[0, 0].figure.suptitle(
        f"Integrated gradients of {TARGET_WORDS.get(target, target)} at the decision square, "
        f"level {example.level} ({maze.maze_dim} x {maze.maze_dim}); red raises it")
    return axes


def plot_completeness(attribution: pd.DataFrame, layer: str, axes: np.ndarray | None = None
                      ) -> np.ndarray:
    """Sum of attributions against the output difference per level (completeness: on
    the diagonal), one panel per target and space (pixels, the layer), colour by
    baseline; levels that missed the tolerance ringed in red."""
    targets = list(dict.fromkeys(attribution["target"]))
    axes = _grid(axes, len(targets), 2, (4.0, 3.7))
    short = layer.removeprefix("embedder.").removesuffix(".resadd")
    for row, target in zip(axes, targets, strict=True):
        part = attribution[attribution["target"] == target]
        for ax, (space, prefix) in zip(row, (("pixels", ""), (short, "layer_")), strict=True):
            for k, (baseline, points) in enumerate(part.groupby("baseline", sort=False)):
                ax.plot(points["output_difference"], points[f"{prefix}attribution_sum"], "o",
                        ms=4, color=f"C{k}", label=BASELINE_WORDS.get(baseline, baseline))
                missed = points[~points[f"{prefix}converged"].astype(bool)]
                ax.plot(missed["output_difference"], missed[f"{prefix}attribution_sum"], "o",
                        ms=8, mfc="none", mec="C3")
            low, high = ax.get_xlim()
            ax.plot([low, high], [low, high], color="0.6", lw=0.8, zorder=0)
            ax.set_xlabel("f(observation) − f(baseline)")
            ax.set_ylabel("sum of attributions")
            ax.set_title(f"{TARGET_WORDS.get(target, target)}, {space}", fontsize=9)
    axes[0, 0].legend(fontsize="small")
    axes[0, 0].figure.suptitle("Completeness of integrated gradients (red rings: outside "
                               "the tolerance at the most steps)")
    return axes


def plot_channel_effects(effects: pd.DataFrame, top: int = 8,
                         axes: np.ndarray | None = None) -> np.ndarray:
    """Per target and baseline, the `top` channels by |mean attribution| over levels
    with their 95% bootstrap intervals; significant ones (q <= 0.05 in the family)
    marked with a star."""
    keys = list(dict.fromkeys(zip(effects["target"], effects["baseline"], strict=True)))
    cols = min(2, len(keys))
    axes = _grid(axes, -(-len(keys) // cols), cols, (4.4, 3.4)).ravel()
    for ax, (target, baseline) in zip(axes, keys, strict=False):
        part = effects[(effects["target"] == target) & (effects["baseline"] == baseline)]
        part = part.head(top).iloc[::-1]
        y = np.arange(len(part))
        est = part["estimate"].to_numpy(float)
        err = np.vstack([est - part["ci_low"].to_numpy(float),
                         part["ci_high"].to_numpy(float) - est])
        ax.errorbar(est, y, xerr=err, fmt="o", capsize=2)
        labels = [f"ch {c}{' *' if s else ''}" for c, s in
                  zip(part["channel"], significant(part["q_value"]), strict=True)]
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_xlabel("mean attribution over levels")
        ax.set_title(f"{TARGET_WORDS.get(target, target)},\n"
                     f"{BASELINE_WORDS.get(baseline, baseline)}", fontsize=8)
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    axes[0].figure.suptitle("Channels' attributions (* q ≤ 0.05, sign-flip test over levels)")
    return axes
