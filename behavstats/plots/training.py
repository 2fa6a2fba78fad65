"""Learning curves of training runs."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes


def plot_learning_curve(ppo_log: pd.DataFrame, cloning_log: pd.DataFrame | None = None,
                        ax: Axes | None = None) -> Axes:
    """Success rate of finished training episodes against PPO environment steps (and,
    if given, the cloning stage's held-out per-cell accuracy on a twin axis over
    cloning samples, drawn left of step 0)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    smooth = ppo_log["success_rate"].rolling(5, min_periods=1).mean()
    ax.plot(ppo_log["steps"] / 1e6, ppo_log["success_rate"], color="C0", alpha=0.3)
    ax.plot(ppo_log["steps"] / 1e6, smooth, color="C0", label="PPO success rate (training "
            "distribution)")
    ax.set_xlabel("PPO environment steps (millions)")
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1.02)
    if cloning_log is not None and len(cloning_log):
        samples = cloning_log["samples"] / cloning_log["samples"].max()
        x = (samples - 1) * max(ppo_log["steps"].max() / 1e6, 1) * 0.25
        ax.plot(x, cloning_log["val_acc_all"], color="C1", marker=".",
                label="cloning: held-out per-cell accuracy (x: share of cloning)")
        ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Learning curve")
    return ax


def plot_cloning_curve(logs: Sequence[pd.DataFrame], ax: Axes | None = None) -> Axes:
    """Held-out per-cell accuracy (all mazes and per maze-size band) against cloning
    samples, for one cloning run or several stages that continue each other (drawn end
    to end, dotted lines at the stage boundaries)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    offset, parts = 0, []
    for log in logs:
        parts.append(log.assign(total=log["samples"] + offset))
        offset += int(log["samples"].max())
        ax.axvline(offset / 1e6, color="grey", lw=0.8, ls=":")
    curve = pd.concat(parts)
    for column in [c for c in curve.columns if c.startswith("val_acc_")]:
        ax.plot(curve["total"] / 1e6, curve[column], marker=".",
                label=column.removeprefix("val_acc_"), lw=2 if column == "val_acc_all" else 1)
    ax.set_xlabel("cloning samples (millions)")
    ax.set_ylabel("held-out per-cell accuracy")
    ax.set_ylim(max(0.0, float(curve.filter(like="val_acc_").min().min()) - 0.02), 1.0)
    ax.legend(title="maze size", loc="lower right", fontsize=8)
    ax.set_title("Cloning: accuracy of the expert's move on held-out mazes")
    return ax
