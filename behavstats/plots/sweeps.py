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


def _by_layer(ax, t: pd.DataFrame, x: np.ndarray, label: str, fmt: str = "o-", **style
              ) -> None:
    """A probe score by layer with its interval (`accuracy`, `ci_low`, `ci_high`)."""
    est = t["accuracy"].to_numpy(float)
    err = np.vstack([est - t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float) - est])
    ax.errorbar(x, est, yerr=np.nan_to_num(err), fmt=fmt, capsize=2, label=label, **style)


def _layer_axis(ax, layers: list[str], ylabel: str) -> None:
    ax.set_xticks(np.arange(len(layers)), [_short(layer) for layer in layers], rotation=60,
                  ha="right", fontsize=7)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)


def plot_probes(table: pd.DataFrame, axes: np.ndarray | None = None) -> np.ndarray:
    """Held-out accuracy (with interval), majority baseline and selectivity by layer,
    one panel per target (`ProbeResult.probes` rows of flattened probes); selectivities
    whose probe beats its control task in their family ringed."""
    targets = list(dict.fromkeys(table["target"]))
    cols = min(3, len(targets))
    rows_n = -(-len(targets) // cols)
    axes = _grid(axes, rows_n, cols, (4.0, 3.2))
    layers = list(dict.fromkeys(table["layer"]))
    x = np.arange(len(layers))
    for ax, target in zip(axes.flat, targets, strict=False):
        t = table[table["target"] == target].set_index("layer").reindex(layers)
        _by_layer(ax, t, x, "accuracy")
        ax.plot(x, t["selectivity"], "s--", label="selectivity")
        _ring(ax, x, t["selectivity"], t["q_value"])
        ax.plot(x, t["random_network_accuracy"], "^:", label="random network")
        ax.plot(x, t["baseline"], color="0.5", lw=1, label="majority baseline")
        ax.set_title(target, fontsize=9)
        _layer_axis(ax, layers, "held-out accuracy")
    for ax in list(axes.flat)[len(targets):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize="x-small")
    axes.flat[0].figure.suptitle("Linear probes by layer (levels split between train and test)")
    return axes


_SPATIAL_TITLES = {"cheese_cell": ("Where is the cheese? (hit: the top cell {near} it)",
                                   "hit rate (share of mazes)"),
                   "path_cell": ("Which cells lie on the path to the cheese?",
                                 "AUC within a maze")}


def _ring_legend(ax) -> None:
    """A legend entry for `_ring`'s rings."""
    ax.plot([], [], "o", ms=9, mfc="none", mec="C3", label="beats its control task, "
            "q ≤ 0.05")


def plot_spatial_probes(table: pd.DataFrame, radius: int = 0,
                        axes: np.ndarray | None = None) -> np.ndarray:
    """Spatial probes by layer, one panel per target (`ProbeResult.probes` rows of kind
    spatial): the headline score with its interval, the control task's, the random
    network's and chance (a hit: the top cell within `radius` cells of the cheese's);
    scores that beat the control task in their family ringed."""
    table = table[table["kind"] == "spatial"]
    targets = list(dict.fromkeys(table["target"]))
    axes = _grid(axes, 1, len(targets), (4.4, 3.4)).ravel()
    layers = list(dict.fromkeys(table["layer"]))
    x = np.arange(len(layers))
    for ax, target in zip(axes, targets, strict=True):
        t = table[table["target"] == target].set_index("layer").reindex(layers)
        _by_layer(ax, t, x, "agent")
        _ring(ax, x, t["accuracy"], t["q_value"])
        ax.plot(x, t["control_accuracy"], "s--", label="control task (a random cell as the "
                "cheese)")
        ax.plot(x, t["random_network_accuracy"], "^:", label="random network")
        ax.plot(x, t["baseline"], color="0.5", lw=1, label="chance")
        title, ylabel = _SPATIAL_TITLES[target]
        near = f"within {radius} cell{'s' * (radius != 1)} of" if radius else "at"
        ax.set_title(title.format(near=near), fontsize=9)
        ax.set_ylim(0, 1.02)
        _layer_axis(ax, layers, ylabel)
    _ring_legend(axes[0])
    figure = axes[0].figure
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3,
                  fontsize="x-small")
    figure.suptitle("Spatial probes: one classifier shared over a layer's cells "
                    "(held-out mazes, 95% CI)")
    return axes


def plot_spatial_maps(examples, axes: np.ndarray | None = None) -> np.ndarray:
    """Per example maze (`spatial_probes.ExampleMaps`), its first observation and, per
    layer, the cheese probe's probability over the maze's activation cells (scaled to
    the map's largest) over the greyed observation, with the cheese ringed and the
    probe's top cell marked; each panel shows the maze, not the wall margin."""
    layers = list(examples[0].maps)
    axes = _grid(axes, len(examples), len(layers) + 1, (2.0, 2.0))
    for i, example in enumerate(examples):
        row = axes[i]
        row[0].imshow(example.observation, extent=(0, 64, 64, 0))
        row[0].set_ylabel(f"level {example.level}", fontsize=8)
        for ax, layer in zip(row[1:], layers, strict=True):
            grid = example.maps[layer]
            side = 64 / grid.shape[0]
            edge = 0.5 - side / 2
            ax.imshow(example.observation.mean(axis=2), cmap="gray", extent=(0, 64, 64, 0),
                      alpha=0.6)
            ax.imshow(grid / np.nanmax(grid), cmap="Reds", vmin=0, vmax=1, alpha=0.85,
                      extent=(edge, edge + 64, edge + 64, edge))
            top = np.unravel_index(np.nanargmax(grid), grid.shape)
            ax.plot(top[1] * side + 0.5, top[0] * side + 0.5, "+", color="blue", ms=10,
                    mew=1.8)
            ax.plot(example.cheese[1], example.cheese[0], "o", ms=12, mfc="none", mec="lime",
                    mew=1.6)
        for ax, title in zip(row, ["observation", *map(_short, layers)], strict=True):
            low, high = example.box
            ax.set_xlim(low, high)
            ax.set_ylim(high, low)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=8)
    axes[0, 0].figure.suptitle("Where the cheese probe looks: P(cheese here) per activation "
                               "cell, scaled to each map's largest (green ring: the cheese; "
                               "blue +: the probe's top cell)", fontsize=9)
    return axes


_EARLY = {"first_observation": ("mouse at the start (first observation)", "o-", "C0", -0.08),
          "decision_square": ("mouse at the decision square", "s-", "C1", 0.08)}


def plot_early_decision(table: pd.DataFrame, ax=None):
    """Early-decision probes by layer (`ProbeResult.probes` rows of kinds
    first_observation and decision_square): held-out AUC of "the episode reaches the
    cheese" with its interval, the random network's (dotted), the published maze
    features' AUC as a band, chance at 0.5; AUCs that beat the control task ringed."""
    from behavstats.plots.interventions import _axes

    ax = _axes(ax, (7.0, 4.2))
    layers = list(dict.fromkeys(table.loc[table["kind"] == "first_observation", "layer"]))
    x = np.arange(len(layers))
    features = table[table["kind"] == "maze_features"]
    if not features.empty:
        f = features.iloc[0]
        ax.axhspan(f["ci_low"], f["ci_high"], color="0.88", zorder=0)
        ax.axhline(f["accuracy"], color="0.4", lw=1.2,
                   label=f"published maze features ({f['accuracy']:.2f}, band: 95% CI)")
    for kind, (label, fmt, color, shift) in _EARLY.items():
        t = table[table["kind"] == kind].set_index("layer").reindex(layers)
        _by_layer(ax, t, x + shift, label, fmt, color=color)
        _ring(ax, x + shift, t["accuracy"], t["q_value"])
        ax.plot(x + shift, t["random_network_accuracy"], ":", color=color, alpha=0.8,
                label=f"random network, {label.split(' (')[0]}")
    ax.axhline(0.5, color="0.5", lw=0.8, ls="--", label="chance")
    _ring_legend(ax)
    _layer_axis(ax, layers, "held-out AUC (reaches the cheese)")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    n = int(table.loc[table["kind"] == "first_observation", "n_test"].max())
    ax.set_title(f"How early is the decision readable? ({n} decision mazes, "
                 "cross-fitted, 95% CI)", fontsize=9)
    return ax


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
