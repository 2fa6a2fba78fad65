"""Figures of activation patching (`behavstats.maps.patching`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from behavstats.maze.coords import maze_to_activation_cell
from behavstats.plots.interventions import _grid
from behavstats.plots.sweeps import _short
from behavstats.stats.multiplicity import significant

CMAP = "RdBu_r"
"""Restoration colours: red restores, blue works against, white nothing."""
LIMIT = 1.0
"""The widest colour scale of restorations: -1 .. 1 (beyond: the end colours)."""
SMALLEST = 0.001
"""The narrowest colour scale: -0.001 .. 0.001."""
_WORDS = {"p_cheese": "P(towards cheese)", "logit_diff": "logit difference cheese - top-right"}


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least `value`."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(k * power for k in (1, 2, 5, 10) if k * power >= value * (1 - 1e-9)))


def _norm(values) -> TwoSlopeNorm:
    """A colour scale symmetric about 0 that spans the values (the 99th percentile of
    their nonzero |value|, rounded up to 1, 2 or 5 times a power of ten, between
    `SMALLEST` and `LIMIT`), so that small restorations show and a few outliers do not
    wash the rest out."""
    values = np.abs(np.asarray(values, dtype=float))
    values = values[np.isfinite(values) & (values > 0)]
    top = _nice(float(np.percentile(values, 99))) if len(values) else LIMIT
    top = float(np.clip(top, SMALLEST, LIMIT))
    return TwoSlopeNorm(0.0, -top, top)


def plot_channel_ranking(table: pd.DataFrame, corruption: str, metric: str, top: int = 12,
                         axes: np.ndarray | None = None) -> np.ndarray:
    """The `top` channels by denoising restoration (`PatchingResult.patching` channel
    rows of one corruption and metric): their restoration in both directions with 95%
    intervals (ringed: q <= 0.05), beside their cheese-tracking score and the change of
    P(cheese) when mean-ablated."""
    rows = table[(table["corruption"] == corruption) & (table["metric"] == metric)]
    directions = list(dict.fromkeys(rows["direction"]))
    order = rows[rows["direction"] == directions[0]].head(top)["channel"].tolist()
    axes = _grid(axes, 1, 3, (3.2, 0.28 * len(order) + 1.6)).ravel()
    y = np.arange(len(order))
    ax = axes[0]
    for k, direction in enumerate(directions):
        part = rows[rows["direction"] == direction].set_index("channel").reindex(order)
        est = part["estimate"].to_numpy(float)
        err = np.vstack([est - part["ci_low"].to_numpy(float),
                         part["ci_high"].to_numpy(float) - est])
        offset = 0.18 * (k - (len(directions) - 1) / 2)
        ax.errorbar(est, y + offset, xerr=np.nan_to_num(err), fmt="os"[k % 2], ms=4,
                    capsize=1.5, label=direction)
        hit = significant(part["q_value"])
        ax.plot(est[hit], (y + offset)[hit], "o", ms=9, mfc="none", mec="C3")
    ax.axvline(0, color="0.6", lw=0.8)
    ax.axvline(1, color="0.6", lw=0.8, ls=":")
    ax.set_yticks(y, [f"ch {c}" for c in order])
    ax.invert_yaxis()
    ax.set_xlabel("restoration (1: the whole difference)")
    ax.set_title(f"patching, {_WORDS.get(metric, metric)}", fontsize=9)
    ax.legend(fontsize="x-small", loc="lower right")
    first = rows[rows["direction"] == directions[0]].set_index("channel").reindex(order)
    for ax, column, xlabel, title in (
            (axes[1], "tracking_score", "cheese-tracking score", "channel discovery"),
            (axes[2], "ablation_effect", "change of P(towards cheese)", "mean-ablation")):
        values = first[column].to_numpy(float)
        ax.barh(y, np.nan_to_num(values), color="0.55")
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_yticks(y, [])
        ax.set_ylim(axes[0].get_ylim())
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=9)
        if np.isnan(values).all():
            ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center",
                    color="0.4")
    axes[0].figure.suptitle(f"Channels that restore the decision, {corruption.replace('_', ' ')}"
                            " (mean over levels, 95% CI)", fontsize=10)
    return axes


def _colour_bar(ax, image, norm: TwoSlopeNorm, label: str) -> None:
    """A colour bar under `ax` with three ticks: the scale's ends and 0."""
    bar = ax.figure.colorbar(image, ax=ax, location="bottom", shrink=0.8, aspect=25,
                             label=label)
    bar.set_ticks([norm.vmin, 0.0, norm.vmax],
                  labels=[f"{norm.vmin:g}", "0", f"{norm.vmax:g}"])


def plot_cheese_centred(cells: pd.DataFrame, metric: str, direction: str = "denoising",
                        axes: np.ndarray | None = None) -> np.ndarray:
    """Mean restoration of each cell by its offset from the clean cheese's activation
    cell (`PatchingResult.patching` cell rows), one panel per corruption, each with its
    own colour scale; the cheese cell boxed, cells significant in their family
    dotted."""
    rows = cells[(cells["metric"] == metric) & (cells["direction"] == direction)]
    corruptions = list(dict.fromkeys(rows["corruption"]))
    axes = _grid(axes, 1, len(corruptions), (3.0, 3.6)).ravel()
    reach = int(max(rows["x"].abs().max(), rows["y"].abs().max()))
    for ax, corruption in zip(axes, corruptions, strict=True):
        part = rows[rows["corruption"] == corruption]
        grid = np.full((2 * reach + 1, 2 * reach + 1), np.nan)
        grid[part["y"].to_numpy(int) + reach, part["x"].to_numpy(int) + reach] = part["estimate"]
        norm = _norm(part["estimate"])
        image = ax.imshow(grid, origin="lower", cmap=CMAP, norm=norm,
                          extent=(-reach - 0.5, reach + 0.5, -reach - 0.5, reach + 0.5))
        ax.add_patch(_box(0, 0))
        hit = significant(part["q_value"])
        ax.plot(part["x"][hit], part["y"][hit], ".", color="k", ms=3)
        n = int(part["n"].max()) if len(part) else 0
        ax.set_title(f"{corruption.replace('_', ' ')} (up to {n} levels)", fontsize=9)
        ax.set_xticks(range(-reach, reach + 1, 2))
        ax.set_yticks(range(-reach, reach + 1, 2))
        ax.set_xlabel("cells right of the cheese", fontsize=8)
        _colour_bar(ax, image, norm, "mean restoration")
    axes[0].set_ylabel("cells above the cheese", fontsize=8)
    axes[0].figure.suptitle(f"Patching one activation cell (all channels), {direction}, "
                            f"{_WORDS.get(metric, metric)}: mean over levels by offset from "
                            "the cheese's cell (box; dots: q ≤ 0.05)", fontsize=9)
    return axes


def _box(x: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, ec="k", lw=1.2)


def maze_cell_map(maze, values: np.ndarray) -> np.ndarray:
    """A map of activation cells (H, W), row 0 at the top, as a (maze_dim, maze_dim)
    grid in the maze frame (index [y, x]): each square takes its activation cell's
    value (`maze_to_activation_cell`)."""
    dim, size = maze.maze_dim, values.shape[-1]
    grid = np.empty((dim, dim))
    for x in range(dim):
        for y in range(dim):
            row, col = maze_to_activation_cell(x, y, dim, maze.world_dim, size)
            grid[y, x] = values[row, col]
    return grid


EDIT_MARKERS = {
    "cheese_moved": dict(marker="*", color="none", mec="darkorange", mew=1.4, ms=12,
                         label="moved cheese"),
    "cheese_removed": None,  # the clean cheese is the edit
    "mouse_moved": dict(marker="s", color="tab:blue", mec="k", mew=0.6, ms=6,
                        label="mouse moved here"),
    "wall_toggled": dict(marker="X", color="cyan", mec="k", mew=0.6, ms=8,
                         label="opened wall"),
}
"""How each corruption's edited square is marked."""


def plot_cell_map(maze, grid: np.ndarray, corruption: str = "", twin=None, point=None,
                  ax=None, title: str = "", norm: TwoSlopeNorm | None = None):
    """One maze's cell map (`maze_cell_map`) with walls shaded, the clean cheese (gold
    star), the decision square (magenta diamond) and the twin's edit (`EDIT_MARKERS`)."""
    from behavstats.plots.interventions import _axes

    ax = _axes(ax, (3.4, 3.4))
    image = ax.imshow(grid, origin="lower", cmap=CMAP, norm=norm or _norm(grid))
    dim = maze.maze_dim
    walls = np.array([[not maze.is_free((x, y)) for x in range(dim)] for y in range(dim)])
    ax.imshow(np.where(walls, 0.0, np.nan), origin="lower", cmap="Greys", vmin=-1, vmax=1,
              alpha=0.35)
    if maze.cheese is not None:
        ax.plot(*maze.cheese, "*", color="gold", mec="k", mew=0.6, ms=12, label="cheese")
    if point is not None:
        ax.plot(*point.cell, "D", color="magenta", mec="k", mew=0.6, ms=6,
                label="decision square (the mouse)")
    style = EDIT_MARKERS.get(corruption)
    if twin is not None and style is not None:
        ax.plot(*twin.edited, linestyle="none", **style)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    ax.image = image
    return ax


def plot_cell_maps(examples: Sequence, per_level: pd.DataFrame, layer: str, metric: str,
                   direction: str = "denoising", axes: np.ndarray | None = None
                   ) -> np.ndarray:
    """Each example maze (row) and corruption (column): the restoration of patching each
    cell of `layer`, drawn on the maze's squares; one colour scale per corruption (its
    colour bar below the column), since a single cell restores far more of a small
    clean-corrupted difference than of a large one."""
    corruptions = list(dict.fromkeys(k for e in examples for k in e.twins))
    axes = _grid(axes, len(examples), len(corruptions), (2.9, 2.9))
    cells = per_level[(per_level["unit"] == "cell") & (per_level["layer"] == layer)
                      & (per_level["direction"] == direction)]
    size = int(cells["row"].max()) + 1 if len(cells) else 1
    shown = cells[cells["level"].isin([e.level for e in examples])]
    figure = axes[0, 0].figure
    for c, corruption in enumerate(corruptions):
        norm = _norm(shown.loc[shown["corruption"] == corruption, metric])
        for r, example in enumerate(examples):
            part = shown[(shown["level"] == example.level)
                         & (shown["corruption"] == corruption)]
            values = np.full((size, size), np.nan)
            values[part["row"].to_numpy(int), part["col"].to_numpy(int)] = part[metric]
            title = f"level {example.level}, {corruption.replace('_', ' ')}"
            if part[metric].isna().all():
                title += "\n(no twin or below the floor)"
            plot_cell_map(example.maze, maze_cell_map(example.maze, values), corruption,
                          example.twins.get(corruption), example.point, axes[r, c], title,
                          norm)
        _colour_bar(axes[-1, c], axes[-1, c].image, norm, "restoration")
    found = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    figure.legend(list(found.values()), list(found), loc="outside lower center", ncol=3,
                  frameon=False, fontsize=8)
    figure.suptitle(f"Patching one cell of {_short(layer)} (all channels), {direction}, "
                    f"{_WORDS.get(metric, metric)}", fontsize=10)
    return axes


def plot_channel_by_layer(table: pd.DataFrame, ax=None):
    """Mean restoration of each channel (columns) at each swept layer (rows)
    (`PatchingResult.by_layer`), significant ones dotted."""
    from behavstats.plots.interventions import _axes

    layers = list(dict.fromkeys(table["layer"]))
    width = int(table["channel"].max()) + 1
    ax = _axes(ax, (min(14.0, 2.0 + 0.09 * width), 0.45 * len(layers) + 1.6))
    grid = np.full((len(layers), width), np.nan)
    index = table["layer"].map({layer: i for i, layer in enumerate(layers)}).to_numpy(int)
    grid[index, table["channel"].to_numpy(int)] = table["estimate"]
    image = ax.imshow(grid, aspect="auto", cmap=CMAP, norm=_norm(table["estimate"]),
                      interpolation="nearest")
    hit = significant(table["q_value"])
    ax.plot(table["channel"][hit], index[hit], ".", color="k", ms=3)
    for i, layer in enumerate(layers):  # the best channel of each layer, in the margin
        best = table[table["layer"] == layer].sort_values("estimate").iloc[-1]
        ax.text(1.01, i, f"best: {best['channel']}", transform=ax.get_yaxis_transform(),
                va="center", fontsize=7)
    ax.set_yticks(range(len(layers)), [_short(layer) for layer in layers], fontsize=8)
    ax.set_xlabel("channel")
    ax.figure.colorbar(image, ax=ax, shrink=0.9, pad=0.1, label="mean restoration")
    first = table.iloc[0]
    ax.set_title(f"Patching one channel at each residual add: "
                 f"{first['corruption'].replace('_', ' ')}, "
                 f"{first['direction']}, {_WORDS.get(first['metric'], first['metric'])} "
                 "(dots: q ≤ 0.05)", fontsize=9)
    return ax

