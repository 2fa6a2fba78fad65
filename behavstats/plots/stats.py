"""Figures of the behavioural study: coefficients, correlations, sign stability.

Each function draws on `ax` or, without one, on a new pyplot-free Figure in seaborn's
whitegrid style (safe under any backend, nothing global to close), and returns the
Axes. The heat map stays plain matplotlib (seaborn's heatmap calls a colormap API
matplotlib is deprecating).
"""

import matplotlib.axes
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


def _axes(ax: matplotlib.axes.Axes | None, size: tuple[float, float]) -> matplotlib.axes.Axes:
    if ax is not None:
        return ax
    with sns.axes_style("whitegrid"):
        return Figure(figsize=size, layout="constrained").subplots()


def plot_coefficients(coefficients: pd.DataFrame,
                      ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """L1 coefficients (per SD) with their 95% across-split ranges, one row per feature;
    the reference-C fit (columns ref_*) beside them when present."""
    ax = _axes(ax, (6.5, 0.35 * len(coefficients) + 1.5))
    y = np.arange(len(coefficients))
    fits = [("", "chosen C", "C0", 0.0)]
    if "ref_coef_mean" in coefficients:
        fits = [("", "chosen C", "C0", -0.15), ("ref_", "reference C", "C1", 0.15)]
    for prefix, label, color, shift in fits:
        # the range and the mean drawn apart: with coefficients that L1 sets to zero in
        # most splits, the mean can lie outside the 2.5-97.5% range of the splits
        ax.hlines(y + shift, coefficients[f"{prefix}ci_low"], coefficients[f"{prefix}ci_high"],
                  color=color)
        sns.scatterplot(x=coefficients[f"{prefix}coef_mean"].to_numpy(), y=y + shift,
                        color=color, label=label, ax=ax, s=40, zorder=3)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_yticks(y, coefficients["feature"])
    ax.invert_yaxis()
    ax.set_xlabel("coefficient per SD (mean, 95% range across splits)")
    ax.set_title("L1 logistic coefficients: does the agent go to the cheese?")
    if len(fits) > 1:
        ax.legend(loc="best")
    return ax


def plot_correlation(correlation: pd.DataFrame,
                     ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Heat map of a feature correlation matrix (-1 red, +1 blue), annotated."""
    size = 0.45 * len(correlation) + 2.5
    ax = _axes(ax, (size + 1.5, size))
    values = correlation.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="RdBu", vmin=-1, vmax=1)
    ticks = np.arange(len(correlation))
    ax.set_xticks(ticks, correlation.columns, rotation=90)
    ax.set_yticks(ticks, correlation.index)
    for (i, j), r in np.ndenumerate(values):
        ax.text(j, i, "" if np.isnan(r) else f"{r:.2f}", ha="center", va="center",
                fontsize=6, color="white" if abs(r) > 0.6 else "black")
    ax.figure.colorbar(image, ax=ax, label="Pearson r")
    ax.set_title("feature correlations")
    return ax


def plot_sign_stability(sign_stability: pd.DataFrame,
                        ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Stacked bars of each feature's positive / negative / zero coefficient rates
    among the random subsets that included it."""
    ax = _axes(ax, (6.5, 0.35 * len(sign_stability) + 1.5))
    y = np.arange(len(sign_stability))
    left = np.zeros(len(sign_stability))
    for column, label, color in (("pos_rate", "positive", "C0"),
                                 ("neg_rate", "negative", "C3"),
                                 ("zero_rate", "zero (L1)", "0.7")):
        rate = sign_stability[column].fillna(0).to_numpy()
        ax.barh(y, rate, left=left, color=color, label=label)
        left += rate
    labels = [f"{f} (n={n})" for f, n in zip(sign_stability["feature"],
                                              sign_stability["n_included"], strict=True)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the subsets that included the feature")
    ax.set_title("sign of each coefficient over random feature subsets", pad=24)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize="small",
              frameon=False)
    return ax
