"""Figures of the behavioural study: coefficients, correlations, sign stability, model
scores, stability and L1 paths, calibration.

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


NAMED_COLOURS = tuple(f"C{k}" for k in (0, 1, 2, 3, 4, 5, 6, 8, 9))
"""matplotlib's default colours without its grey (the unnamed features are grey)."""
NAMED = 8
"""Features named in a stability-path figure."""
SCORE_LABELS = {"log_loss": "log-loss (lower is better)", "auc": "ROC AUC (higher is better)",
                "accuracy": "accuracy at 0.5 (higher is better)"}


def plot_model_scores(scores: pd.DataFrame, axes: np.ndarray | None = None) -> np.ndarray:
    """Held-out log-loss, ROC AUC and accuracy of each model with their 95% corrected
    resampled t intervals, one panel per score; the prior (no feature) as a dashed line
    where it has a value."""
    if axes is None:
        with sns.axes_style("whitegrid"):
            axes = Figure(figsize=(11, 0.45 * len(scores) + 1.8), layout="constrained"
                          ).subplots(1, len(SCORE_LABELS), sharey=True)
    labels = [f"{m} ({r})" for m, r in zip(scores["model"], scores["rows"], strict=True)]
    y = np.arange(len(scores))
    for ax, (score, title) in zip(axes, SCORE_LABELS.items(), strict=True):
        ax.hlines(y, scores[f"{score}_ci_low"], scores[f"{score}_ci_high"], color="C0")
        ax.scatter(scores[f"{score}_mean"], y, color="C0", s=30, zorder=3)
        prior = {"log_loss": scores["baseline_log_loss"], "accuracy": scores["baseline"],
                 "auc": pd.Series(0.5, index=scores.index)}[score]
        ax.scatter(prior, y, marker="|", color="0.4", s=120, zorder=3,
                   label="prior (no feature)")
        ax.set_title(title, fontsize="medium")
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    axes[0].figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                          fontsize="small", frameon=False)
    axes[0].figure.suptitle("held-out scores of each model (mean and 95% interval over "
                            "the splits)")
    return axes


def plot_stability_paths(path: pd.DataFrame, threshold: float,
                         ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Selection probability of each feature against C (log scale), the region used
    for the stable set shaded and the threshold dashed. The `NAMED` features that are
    selected in half the fits earliest (strongest penalty) are drawn in colour and
    named, the stable ones thick; the rest grey."""
    ax = _axes(ax, (7.5, 4.5))
    region = path.loc[path["in_region"], "C"]
    if len(region):
        ax.axvspan(path["C"].min(), region.max(), color="0.92", zorder=0,
                   label="region of the error bound")
    stable = set(path.loc[path["in_region"]
                          & (path["selection_probability"] >= threshold), "feature"])
    half = path[path["selection_probability"] >= 0.5].groupby("feature")["C"].min()
    named = list(half.sort_values(kind="stable").index[:NAMED])
    for feature, part in path.groupby("feature", sort=False):
        if feature in named:
            ax.plot(part["C"], part["selection_probability"],
                    color=NAMED_COLOURS[named.index(feature)],
                    linewidth=2.5 if feature in stable else 1.3,
                    label=f"{feature}{' (stable)' if feature in stable else ''}", zorder=3)
        else:
            ax.plot(part["C"], part["selection_probability"], color="0.75", linewidth=0.8)
    ax.axhline(threshold, color="0.2", linestyle="--", linewidth=1,
               label=f"threshold {threshold:g}")
    ax.set_ylim(-0.02, 1.02)
    return _along_the_penalty(ax, "selection probability over half-samples",
                              "stability paths (named: the first selected in half the fits)")


def plot_l1_path(l1_path: pd.DataFrame,
                 ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Coefficient per SD of each feature against C (log scale): the L1 regularisation
    path; the features that are non-zero at the weakest penalty are labelled."""
    ax = _axes(ax, (7.5, 4.5))
    last = l1_path.loc[l1_path["C"] == l1_path["C"].max()].set_index("feature")["coef"]
    order = last.abs().sort_values(ascending=False).index
    for i, feature in enumerate(order):
        part = l1_path[l1_path["feature"] == feature]
        ax.plot(part["C"], part["coef"], color=f"C{i % 10}" if i < 10 else "0.6",
                linewidth=1.5 if i < 10 else 0.8, label=feature if i < 10 else None)
    ax.axhline(0, color="0.5", linewidth=0.8)
    return _along_the_penalty(ax, "coefficient per SD", "L1 regularisation path (the ten "
                              "largest at the weakest penalty named)")


def _along_the_penalty(ax: matplotlib.axes.Axes, ylabel: str,
                       title: str) -> matplotlib.axes.Axes:
    """The axes, labels and legend of a figure drawn against C."""
    ax.set_xscale("log")
    ax.set_xlabel("C (inverse L1 penalty; right: weaker penalty)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", frameon=False)
    return ax


def plot_calibration(calibration: pd.DataFrame,
                     ax: matplotlib.axes.Axes | None = None) -> matplotlib.axes.Axes:
    """Reliability diagram: observed rate (95% Wilson interval) against the mean
    predicted probability of each bin, one colour per model, the diagonal dashed."""
    ax = _axes(ax, (5.5, 5.2))
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="calibrated")
    for i, (model, part) in enumerate(calibration.groupby("model", sort=False)):
        # Wilson bounds can miss an observed 0 or 1 by float rounding: clip at zero
        below = np.maximum(part["observed"] - part["ci_low"], 0)
        above = np.maximum(part["ci_high"] - part["observed"], 0)
        ax.errorbar(part["predicted_mean"], part["observed"], yerr=[below, above],
                    color=f"C{i}", marker="o", markersize=4, capsize=2, label=model)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted P(reaches the cheese), bin mean")
    ax.set_ylabel("observed share that reached the cheese")
    ax.set_title("calibration on held-out rows")
    ax.legend(loc="upper left", fontsize="small")
    return ax
