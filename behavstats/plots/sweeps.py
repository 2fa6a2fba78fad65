"""Figures of the layer and channel sweeps and the probes (`behavstats.sweeps`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavstats.plots.interventions import _grid
from behavstats.stats.multiplicity import significant
from behavstats.vocabulary import P_CHEESE, P_TOPRIGHT, vector_name

_TARGET_LABELS = {P_CHEESE: ("P(towards cheese) at the decision square", "change"),
                  P_TOPRIGHT: ("P(towards top-right) at the decision square", "change"),
                  "field_tv": ("the rest of the field", "mean TV distance over cells")}


def _short(layer: str) -> str:
    return layer.removeprefix("embedder.").removesuffix(".resadd")


def _ring(ax, x, y, q) -> None:
    """A red ring around each point whose q-value is at most 0.05 (`significant`; the
    captions say so)."""
    hit = significant(q)
    ax.plot(np.asarray(x, float)[hit], np.asarray(y, float)[hit], "o", ms=9, mfc="none",
            mec="C3")


def plot_layer_sweep(table: pd.DataFrame, axes: np.ndarray | None = None) -> np.ndarray:
    """One panel per target (`_TARGET_LABELS`), effect by layer with its interval, one
    line per vector and coefficient (`LayerSweepResult.layer_sweep` rows); effects
    significant in their family ringed."""
    targets = [t for t in _TARGET_LABELS if t in set(table["target"])]
    axes = _grid(axes, 1, len(targets), (4.6, 3.4)).ravel()
    layers = list(dict.fromkeys(table["layer"]))
    x = np.arange(len(layers))
    for ax, target in zip(axes, targets, strict=True):
        rows = table[table["target"] == target]
        for (vector, coeff), line in rows.groupby(["vector", "coeff"]):
            line = line.set_index("layer").reindex(layers)
            est = line["estimate"].to_numpy(float)
            err = np.vstack([est - line["ci_low"].to_numpy(float),
                             line["ci_high"].to_numpy(float) - est])
            ax.errorbar(x, est, yerr=err, fmt="o-", capsize=2,
                        label=f"{vector_name(vector)} x {coeff:+g}")
            _ring(ax, x, est, line["q_value"])
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xticks(x, [_short(layer) for layer in layers], rotation=60, ha="right",
                      fontsize=8)
        ax.set_xlabel("layer")
        title, ylabel = _TARGET_LABELS[target]
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize="small")
    axes[0].figure.suptitle("Activation additions by layer (mean over levels, 95% bootstrap CI)")
    return axes


def plot_probes(table: pd.DataFrame, axes: np.ndarray | None = None) -> np.ndarray:
    """Held-out accuracy (with interval), majority baseline and selectivity by layer,
    one panel per target (`ProbeResult.probes` rows); selectivities whose probe beats
    its control task in their family ringed."""
    targets = list(dict.fromkeys(table["target"]))
    cols = min(3, len(targets))
    rows_n = -(-len(targets) // cols)
    axes = _grid(axes, rows_n, cols, (4.0, 3.2))
    layers = list(dict.fromkeys(table["layer"]))
    x = np.arange(len(layers))
    for ax, target in zip(axes.flat, targets, strict=False):
        t = table[table["target"] == target].set_index("layer").reindex(layers)
        acc = t["accuracy"].to_numpy(float)
        ax.errorbar(x, acc, yerr=np.vstack([acc - t["ci_low"], t["ci_high"] - acc]), fmt="o-",
                    capsize=2, label="accuracy")
        ax.plot(x, t["selectivity"], "s--", label="selectivity")
        _ring(ax, x, t["selectivity"], t["q_value"])
        ax.plot(x, t["random_network_accuracy"], "^:", label="random network")
        ax.plot(x, t["baseline"], color="0.5", lw=1, label="majority baseline")
        ax.set_title(target, fontsize=9)
        ax.set_xticks(x, [_short(layer) for layer in layers], rotation=60, ha="right",
                      fontsize=7)
        ax.set_xlabel("layer")
        ax.set_ylabel("held-out accuracy")
    for ax in list(axes.flat)[len(targets):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize="x-small")
    axes.flat[0].figure.suptitle("Linear probes by layer (levels split between train and test)")
    return axes


def plot_ablation(table: pd.DataFrame, axes: np.ndarray | None = None) -> np.ndarray:
    """Change of P(towards cheese) when a channel is ablated against its tracking
    score, one panel per method (`AblationResult.ablation` rows), the largest effects
    labelled with their channel, those significant in their family ringed."""
    methods = list(dict.fromkeys(table["method"]))
    axes = _grid(axes, 1, len(methods), (4.4, 3.4)).ravel()
    for ax, method in zip(axes, methods, strict=True):
        rows = table[table["method"] == method]
        est = rows["estimate"].to_numpy(float)
        err = np.vstack([est - rows["ci_low"].to_numpy(float),
                         rows["ci_high"].to_numpy(float) - est])
        ax.errorbar(rows["tracking_score"], est, yerr=np.nan_to_num(err), fmt="o", ms=3,
                    capsize=1.5, alpha=0.8)
        _ring(ax, rows["tracking_score"], est, rows["q_value"])
        for r in rows.head(5).itertuples():
            ax.annotate(str(r.channel), (r.tracking_score, r.estimate), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlabel("cheese-tracking score")
        ax.set_ylabel("change of P(towards cheese)")
        ax.set_title(f"{method}-ablation", fontsize=9)
    axes[0].figure.suptitle("Channel ablation at the decision square against tracking "
                            "(mean over levels, 95% CI)")
    return axes
