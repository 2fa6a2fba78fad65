"""Figures of the intervention experiments (`behavstats.interventions`).

Each function draws on the given Axes or, without them, on a new pyplot-free Figure
(nothing global to close) and returns the Axes (an array of Axes for multi-panel
figures).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.axes
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from behavstats.geometry import shortest_path
from behavstats.plots.vfield import plot_field_comparison, plot_vector_field
from behavstats.quantities import edited, resampled
from behavstats.seeding import Purpose, stream

Axes = matplotlib.axes.Axes


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    return ax if ax is not None else Figure(figsize=size, layout="constrained").subplots()


def _grid(axes: np.ndarray | None, rows: int, cols: int, size: tuple[float, float]
          ) -> np.ndarray:
    if axes is not None:
        return np.asarray(axes).reshape(rows, cols)
    figure = Figure(figsize=(size[0] * cols, size[1] * rows), layout="constrained")
    return np.asarray(figure.subplots(rows, cols, squeeze=False))


def plot_probability_histograms(decision: pd.DataFrame, prefix: str = "p_cheese",
                                axes: np.ndarray | None = None) -> np.ndarray:
    """One panel per coefficient: histograms over levels of `<prefix>_original` and
    `<prefix>_patched` (e.g. P(move towards the cheese) at the decision square)."""
    coeffs = sorted(decision["coeff"].unique())
    rows = 1 if len(coeffs) <= 3 else 2
    axes = _grid(axes, rows, -(-len(coeffs) // rows), (3.6, 3.0)).ravel()
    bins = np.linspace(0, 1, 21)
    what = {"p_cheese": "P(cheese)", "p_topright": "P(top-right)"}.get(prefix, prefix)
    for ax in axes[len(coeffs):]:
        ax.set_visible(False)
    for ax, coeff in zip(axes[: len(coeffs)], coeffs, strict=True):
        rows = decision[decision["coeff"] == coeff]
        long = pd.DataFrame({what: np.concatenate([rows[f"{prefix}_original"],
                                                   rows[f"{prefix}_patched"]]),
                             "condition": ["unedited"] * len(rows) + ["edited"] * len(rows)})
        sns.histplot(long, x=what, hue="condition", bins=bins, ax=ax, alpha=0.55,
                     palette={"unedited": "0.5", "edited": "C3"},
                     legend=ax is axes[0])
        ax.set_title(f"coefficient {coeff:+g}", fontsize=9)
        ax.set_xlabel(f"{what} at the decision square")
        ax.set_ylabel("mazes" if ax is axes[0] else "")
    return axes


def _sweeps(summary: pd.DataFrame, coeffs: Sequence[float],
            series: Sequence[tuple[str, str, str, str]], ylabel: str, ax: Axes | None) -> Axes:
    """One line with 95% intervals per (quantity, vector, label, colour): the summary
    rows of that quantity under `edited(vector, coeff)` against the coefficients."""
    ax = _axes(ax, (5, 3.5))
    table = summary.set_index(["quantity", "condition"])
    for quantity, vector, label, color in series:
        keys = [(quantity, edited(vector, c)) for c in coeffs]
        rows = table.reindex(keys)
        mean = rows["estimate"].to_numpy()
        error = np.vstack([mean - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - mean])
        ax.errorbar(coeffs, mean, yerr=error, fmt="o-", color=color, capsize=3, label=label)
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.set_xlabel("coefficient")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} by coefficient (95% intervals)", fontsize=10)
    ax.legend(fontsize="small")
    return ax


def plot_change_by_coeff(summary: pd.DataFrame, coeffs: Sequence[float],
                         ax: Axes | None = None) -> Axes:
    """Mean change (95% bootstrap interval) of P(cheese) and P(top-right) at the
    decision square against the cheese vector's coefficient, and of P(cheese) under
    the random vector (rows of a `CheeseVectorResult.summary()`)."""
    return _sweeps(summary, coeffs, [
        ("p_cheese_change", "cheese vector", "P(cheese), cheese vector", "C3"),
        ("p_topright_change", "cheese vector", "P(top-right), cheese vector", "C0"),
        ("p_cheese_change", "random vector", "P(cheese), random vector", "0.5")],
        "mean change at the decision square", ax)


def plot_top_right_sweep(summary: pd.DataFrame, coeffs: Sequence[float],
                         ax: Axes | None = None) -> Axes:
    """Mean change (95% interval) against the top-right vector's coefficient: P(top-right)
    and P(cheese) at the decision square, and P(towards the top-right) over the field
    (rows of a `TopRightResult.summary()`)."""
    return _sweeps(summary, coeffs, [
        ("p_topright_change", "top-right vector", "P(top-right) at dsq", "C0"),
        ("p_cheese_change", "top-right vector", "P(cheese) at dsq", "C3"),
        ("field_toward_tr_change", "top-right vector", "P(towards top-right), field", "C2")],
        "mean change", ax)


def plot_transfer(transfer: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Change of P(cheese) at the target's decision square when another maze's cheese
    vector is applied, against the distance between the two cheeses (mean per
    distance, with each pair as a faint dot)."""
    ax = _axes(ax, (5, 3.5))
    change = transfer["p_cheese_patched"] - transfer["p_cheese_original"]
    jitter = stream(0, Purpose.PLOT_JITTER).uniform(-0.2, 0.2, len(transfer))
    ax.scatter(transfer["cheese_distance"] + jitter, change, s=4, alpha=0.2, color="0.4")
    means = change.groupby(transfer["cheese_distance"]).mean()
    ax.plot(means.index, means.to_numpy(), "o-", color="C3", label="mean per distance")
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.set_xlabel("distance between the cheeses (Chebyshev, world cells)")
    ax.set_ylabel("change of P(cheese)")
    ax.set_title("another maze's cheese vector, by distance between the cheeses",
                 fontsize=10)
    ax.legend(fontsize="small")
    return ax


def plot_field_triptych(original, patched, observation: np.ndarray | None = None, *,
                        title: str | None = None, axes: np.ndarray | None = None
                        ) -> np.ndarray:
    """Original field, edited field, and their difference over the maze picture."""
    axes = plot_field_comparison(original, patched, observation=observation,
                                 axes=_grid(axes, 1, 3, (4, 4)).ravel(),
                                 titles=("original", "patched", "patched - original"))
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes


def plot_cheese_fields(fields: dict, observations: dict[str, np.ndarray], *,
                       title: str | None = None, axes: np.ndarray | None = None
                       ) -> np.ndarray:
    """The cheese-vector triptych plus the unedited field without cheese (does the
    edited agent act as if there were no cheese?), as a 2 x 2 grid so that the arrows
    stay legible."""
    axes = _grid(axes, 2, 2, (5, 5)).ravel()
    plot_field_triptych(fields["original"], fields["patched"], observations["maze"],
                        axes=axes[:3])
    plot_vector_field(fields["absent"], axes[3], observation=observations["absent"],
                      color="purple", title="cheese absent (no edit)")
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes


def plot_composition(composition: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean P(cheese) and P(top-right) at the decision square under no edit, cheese
    vector, top-right vector, and both."""
    ax = _axes(ax, (5, 3.5))
    order = ["none", "cheese", "top_right", "both"]
    means = composition.groupby("condition")[["p_cheese", "p_topright"]].mean().reindex(order)
    x = np.arange(len(order))
    ax.bar(x - 0.2, means["p_cheese"], width=0.4, color="C3", label="P(cheese)")
    ax.bar(x + 0.2, means["p_topright"], width=0.4, color="C0", label="P(top-right)")
    ax.set_xticks(x, order)
    ax.set_ylabel("mean probability at the decision square")
    ax.legend(fontsize="small")
    return ax


def plot_channel_scores(table: pd.DataFrame, ax: Axes | None = None, top: int = 30) -> Axes:
    """Cheese-tracking score of the best `top` channels."""
    ax = _axes(ax, (7, 3))
    rows = table.sort_values("rank").head(top)
    ax.bar(np.arange(len(rows)), rows["score"], color="C2")
    ax.set_xticks(np.arange(len(rows)), rows["channel"].astype(str), fontsize=7, rotation=90)
    ax.set_xlabel("channel (best first)")
    ax.set_ylabel("score")
    return ax


def plot_channel_maps(maps: np.ndarray, cells: np.ndarray, channels: Sequence[int],
                      axes: np.ndarray | None = None) -> np.ndarray:
    """Activation maps (samples x channels grid) with the cheese's activation cell
    marked by a circle."""
    n_samples, n_channels = maps.shape[:2]
    axes = _grid(axes, n_samples, n_channels, (2.2, 2.2))
    for s in range(n_samples):
        for k, channel in enumerate(channels):
            ax = axes[s, k]
            ax.imshow(maps[s, k], cmap="RdBu_r", vmin=-np.abs(maps[s, k]).max(),
                      vmax=np.abs(maps[s, k]).max())
            ax.scatter([cells[s][1]], [cells[s][0]], s=60, facecolors="none",
                       edgecolors="gold", linewidths=1.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if s == 0:
                ax.set_title(f"channel {channel}", fontsize=9)
    return axes


def plot_retarget_heatmap(targets: pd.DataFrame, maze, metric: str = "p_path",
                          ax: Axes | None = None, title: str | None = None) -> Axes:
    """Success (`metric`) of each target square of one maze and channel set, walls
    grey, the start, the top-right cell and the shortest path between them marked."""
    ax = _axes(ax, (4, 4))
    dim = maze.maze_dim
    grid = np.full((dim, dim), np.nan)
    for x, y, v in zip(targets["x"], targets["y"], targets[metric], strict=True):
        if 0 <= x < dim and 0 <= y < dim:
            grid[y, x] = v
    walls = np.array([[0.0 if maze.is_free((x, y)) else 1.0 for x in range(dim)]
                      for y in range(dim)])
    ax.imshow(np.where(walls > 0, 1.0, np.nan), origin="lower", cmap="Greys", vmin=0, vmax=2)
    image = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1)
    path = np.array(shortest_path(maze, maze.start, maze.top_right))
    ax.plot(path[:, 0], path[:, 1], color="tab:red", linewidth=1.6, linestyle="--",
            label="path to the top-right")
    ax.plot(*maze.start, "s", color="tab:blue", markeredgecolor="white", markersize=7,
            label="start")
    ax.plot(*maze.top_right, "^", color="tab:red", markeredgecolor="white", markersize=8,
            label="top-right cell")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    ax.figure.colorbar(image, ax=ax, shrink=0.7, label=metric.replace("p_path", "P(path)"))
    return ax


def plot_retarget_heatmaps(targets: pd.DataFrame, mazes: Sequence, conditions: Sequence[str],
                           metric: str = "p_path", axes: np.ndarray | None = None
                           ) -> np.ndarray:
    """Heat maps of `metric` over target squares: one row per maze, one column per
    condition."""
    axes = _grid(axes, len(mazes), len(conditions), (3.4, 3.2))
    for r, maze in enumerate(mazes):
        for c, name in enumerate(conditions):
            rows = targets[(targets["level"] == maze.level) & (targets["condition"] == name)]
            plot_retarget_heatmap(rows, maze, metric, axes[r, c],
                                  title=f"level {maze.level}, clamp {name}")
    axes[0, 0].figure.legend(*axes[0, 0].get_legend_handles_labels(),
                             loc="outside lower center", ncol=3, frameon=False)
    return axes


def plot_success_by_distance(by_distance: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean p_path (95% interval over levels) by distance from the path to the
    top-right cell, one line per condition."""
    ax = _axes(ax, (5.5, 3.5))
    for k, (name, rows) in enumerate(by_distance.groupby("condition", sort=False)):
        x = np.arange(len(rows))
        mean = rows["p_path"].to_numpy()
        error = np.vstack([mean - rows["p_path_ci_low"].to_numpy(),
                           rows["p_path_ci_high"].to_numpy() - mean])
        ax.errorbar(x + 0.08 * k, mean, yerr=np.nan_to_num(error), fmt="o-", capsize=3,
                    label=name)
        ax.set_xticks(x, rows["distance_bin"])
    ax.set_xlabel("steps from the target to the path to the top-right cell")
    ax.set_ylabel("P(follow the path to the target)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    return ax


def plot_resample(summary: pd.DataFrame, channel_sets: Sequence[str],
                  axes: np.ndarray | None = None) -> np.ndarray:
    """Mean effect of resampling (95% intervals), by channel set and location: the
    mean per-cell total-variation distance and the published statistic (rows of a
    `ResampleResult.summary()`)."""
    axes = _grid(axes, 1, 2, (4.5, 3.5)).ravel()
    table = summary.set_index(["quantity", "condition"])
    x = np.arange(len(channel_sets))
    for ax, quantity, label in ((axes[0], "tv", "mean per-cell TV distance"),
                                (axes[1], "published_change", "published statistic")):
        for k, location in enumerate(("same", "different")):
            rows = table.reindex([(quantity, resampled(name, location))
                                  for name in channel_sets])
            mean = rows["estimate"].to_numpy()
            error = np.vstack([mean - rows["ci_low"].to_numpy(),
                               rows["ci_high"].to_numpy() - mean])
            ax.bar(x + (k - 0.5) * 0.4, mean, width=0.4, yerr=np.nan_to_num(error),
                   capsize=3, label=f"{location} cheese location")
        ax.set_xticks(x, channel_sets, rotation=20)
        ax.set_ylabel(label)
    axes[0].legend(fontsize="small")
    return axes
