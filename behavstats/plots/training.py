"""Learning curves of training runs."""

from __future__ import annotations

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
