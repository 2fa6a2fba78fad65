"""Early-decision probes: how early can a linear probe read whether the episode will
reach the cheese?

Mazes: the decision mazes among the levels (a decision square, the cheese outside the
top-right 5x5: `vocabulary.decision_mask`), labelled by whether their episode reached
the cheese. Per layer, the flattened probes' pooled features (`probe_common.pooled`)
of two observations of each maze are probed for that label: kind first_observation,
the episode's first observation (the mouse at the start, before any move), and kind
decision_square, the mouse standing on the decision square. Kind maze_features: the
same probe on the published regression's four maze features (`PUBLISHED_MODEL`,
computed from the maze, layer ''), what the maze's geometry alone tells. With about a
hundred mazes and up to thousands of features, each probe's penalty is chosen by inner
cross-validation within its training folds (`probe_common`'s tuned probe).

With one observation per maze and few decision mazes, the mazes are split into
`folds` stratified folds (`Purpose.EARLY_FOLDS`; fewer folds when a class has fewer
mazes) and every maze is scored by the probe fitted on the other folds, so each maze
is held out once. The label is unbalanced (the agent often misses the cheese), so the
probes are scored by proper, threshold-free scores: ROC AUC of the held-out
probabilities (`score` auc: each fold's AUC, averaged over folds, `fold_aucs`;
interval: bootstrap over mazes; baseline 0.5) and
log-loss (beside the log-loss of predicting each training fold's share of successes).
Control task: each maze's label replaced by a random draw from the labels
(`control_labels`, `Purpose.EARLY_CONTROL`); the random network: the same probe on a
randomly initialised network's features. p_value: one-sided sign-flip test over mazes
of the control probe's log-loss minus the probe's (each on its own labels); the
family (Benjamini-Hochberg) is every kind x layer of the run's early probes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.features import features_table
from behavstats.interventions.effects import LEVEL, N_BOOT
from behavstats.maze import Maze
from behavstats.maze.model import level_id
from behavstats.policy import Policy
from behavstats.seeding import Purpose, random_state, stream
from behavstats.stats.multiplicity import sign_flip_p
from behavstats.sweeps.probe_common import control_labels, layer_features, positive_probability
from behavstats.vocabulary import PUBLISHED_MODEL, decision_mask

KINDS = ("first_observation", "decision_square", "maze_features")
"""The kinds of the early-decision rows (module docstring)."""
OBSERVATIONS = {"first_observation": "mouse at the start",
                "decision_square": "mouse at the decision square",
                "maze_features": "published maze features"}
"""What each kind's probe sees, in words (summary conditions)."""
TARGET = "reaches_cheese"
FAMILY = "early-decision kind x layer"
"""The early probes' family of tests, as its summary row names it."""
MAZE_COLUMNS = ("kind", "layer", "level", "reached_cheese", "fold", "probability",
                "control_probability", "random_network_probability")
"""The per-maze table (`ProbeResult.early`): each decision maze's held-out
probability of reaching the cheese, per kind and layer."""
EPSILON = 1e-12


def folds_of(labels: np.ndarray, folds: int, seed: int) -> np.ndarray | None:
    """Each maze's fold (stratified by label, `Purpose.EARLY_FOLDS`); None when a class
    has fewer than two mazes."""
    smaller = min(int(labels.sum()), int((~labels).sum()))
    if smaller < 2:
        return None
    split = StratifiedKFold(min(folds, smaller), shuffle=True,
                            random_state=random_state(seed, Purpose.EARLY_FOLDS))
    fold = np.empty(len(labels), dtype=int)
    for k, (_, test) in enumerate(split.split(np.zeros(len(labels)), labels)):
        fold[test] = k
    return fold


def out_of_fold(features: np.ndarray, labels: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each maze's probability of a True label under the tuned probe
    (`probe_common`) fitted on the other folds."""
    out = np.empty(len(labels))
    for k in np.unique(fold):
        out[fold == k] = positive_probability(features, labels, np.flatnonzero(fold != k),
                                              np.flatnonzero(fold == k), tuned=True)
    return out


def fold_auc(probability: np.ndarray, labels: np.ndarray, fold: np.ndarray) -> float:
    """The mean over folds of the ROC AUC of each fold's held-out mazes (`fold_aucs`)."""
    return float(np.nanmean(fold_aucs(probability, labels, fold, np.ones((1, len(labels))))))


def fold_aucs(probability: np.ndarray, labels: np.ndarray, fold: np.ndarray,
              weights: np.ndarray) -> np.ndarray:
    """Per row of `weights` (resamples x mazes: how often each maze is drawn) and fold,
    the ROC AUC of the fold's mazes so weighted (ties count 1/2; NaN where the fold's
    draw holds one class only). AUCs are not pooled over folds: each fold's probe has
    its own intercept, and ranking mazes of different folds together would mix those
    in (for a feature without information, pooled out-of-fold AUCs fall below 0.5)."""
    labels = labels.astype(bool)
    out = np.full((len(weights), int(fold.max()) + 1), np.nan)
    for k in range(out.shape[1]):
        pos, neg = (fold == k) & labels, (fold == k) & ~labels
        a, b = probability[pos], probability[neg]
        wins = (a[:, None] > b[None, :]) + 0.5 * (a[:, None] == b[None, :])
        wp, wn = weights[:, pos], weights[:, neg]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = ((wp @ wins) * wn).sum(axis=1) / (wp.sum(axis=1) * wn.sum(axis=1))
    return out


def auc_interval(probability: np.ndarray, labels: np.ndarray, fold: np.ndarray, *,
                 seed: int = 0, n_boot: int = N_BOOT) -> tuple[float, float]:
    """Percentile bootstrap interval of `fold_auc`, resampling mazes (the
    `Purpose.BOOTSTRAP` stream, as `effects.bootstrap_ci`); a fold whose draw holds one
    class only is left out of that resample's mean."""
    n = len(labels)
    draws = stream(seed, Purpose.BOOTSTRAP).integers(0, n, (n_boot, n))
    counts = np.zeros((n_boot, n))
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample without any AUC
        aucs = np.nanmean(fold_aucs(probability, labels, fold, counts), axis=1)
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.nanpercentile(aucs, [tail, 100 - tail])
    return float(low), float(high)


def _losses(probability: np.ndarray, labels: np.ndarray) -> np.ndarray:
    p = np.clip(probability, EPSILON, 1 - EPSILON)
    return -np.where(labels, np.log(p), np.log(1 - p))


def early_row(kind: str, layer: str, real: np.ndarray, rand: np.ndarray | None,
              labels: np.ndarray, control: np.ndarray, fold: np.ndarray, levels: np.ndarray,
              seed: int, n_boot: int) -> tuple[dict, pd.DataFrame]:
    """The probes-table row (`probes.COLUMNS`) and per-maze rows (`MAZE_COLUMNS`) of one
    kind and layer. One BLAS thread, so the result does not depend on the jobs."""
    with threadpool_limits(1):
        probability = out_of_fold(real, labels, fold)
        controlled = out_of_fold(real, control, fold)
        randomised = (np.full(len(labels), np.nan) if rand is None
                      else out_of_fold(rand, labels, fold))
    prior = np.empty(len(labels))
    for k in np.unique(fold):
        prior[fold == k] = labels[fold != k].mean()
    auc = fold_auc(probability, labels, fold)
    low, high = auc_interval(probability, labels, fold, seed=seed, n_boot=n_boot)
    control_auc = fold_auc(controlled, control, fold)
    gain = _losses(controlled, control) - _losses(probability, labels)
    row = {"kind": kind, "score": "auc", "layer": layer, "target": TARGET, "accuracy": auc,
           "ci_low": low, "ci_high": high, "baseline": 0.5, "control_accuracy": control_auc,
           "selectivity": auc - control_auc,
           "p_value": sign_flip_p(gain, seed=seed, greater=True),
           "random_network_accuracy": (np.nan if rand is None
                                       else fold_auc(randomised, labels, fold)),
           "n_train": int(round(len(labels) * (1 - 1 / (fold.max() + 1)))),
           "n_test": len(labels), "auc": auc, "auc_low": low, "auc_high": high,
           "log_loss": float(_losses(probability, labels).mean()),
           "baseline_log_loss": log_loss(labels, prior, labels=[False, True])}
    per = pd.DataFrame({"kind": kind, "layer": layer, "level": levels, "reached_cheese": labels,
                        "fold": fold, "probability": probability,
                        "control_probability": controlled,
                        "random_network_probability": randomised})
    return row, per


def early_probes(policy: Policy, rand: Policy, mazes: Sequence[Maze], reached: np.ndarray,
                 start_obs: np.ndarray, layers: Sequence[str], *, seed: int, folds: int,
                 n_boot: int = N_BOOT, batch: int = BATCH, n_jobs: int = -1,
                 update: Callable[[], None] = lambda: None
                 ) -> tuple[list[dict], pd.DataFrame, int]:
    """The early-decision probes (module docstring) of `layers` on the decision mazes
    among `mazes`, whose episodes' outcomes are `reached` and first observations
    `start_obs`: probes-table rows, the per-maze table and the number of decision mazes
    (no rows when either outcome has fewer than two of them)."""
    table = features_table(mazes)
    chosen = np.flatnonzero(decision_mask(table).to_numpy())
    labels = np.asarray(reached, dtype=bool)[chosen]
    fold = folds_of(labels, folds, seed)
    if fold is None:
        return [], pd.DataFrame(columns=list(MAZE_COLUMNS)), len(chosen)
    levels = np.array([level_id(mazes[i], i) for i in chosen])
    control = control_labels(labels, levels, seed, 0, Purpose.EARLY_CONTROL)
    dsq_obs = render([(mazes[i], (int(table.at[i, "dsq_x"]), int(table.at[i, "dsq_y"])))
                      for i in chosen], Observer(batch=batch))
    seen = {"first_observation": start_obs[chosen], "decision_square": dsq_obs}
    real = {kind: layer_features(policy, obs, layers, batch=batch) for kind, obs in seen.items()}
    fake = {kind: layer_features(rand, obs, layers, batch=batch) for kind, obs in seen.items()}
    todo = [(kind, layer, real[kind][layer], fake[kind][layer])
            for kind in seen for layer in layers]
    todo.append(("maze_features", "", table.loc[chosen, list(PUBLISHED_MODEL)].to_numpy(float),
                 None))
    rows, tables = [], []
    for row, per in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(early_row)(kind, layer, x, r, labels, control, fold, levels, seed, n_boot)
            for kind, layer, x, r in todo):
        rows.append(row)
        tables.append(per)
        update()
    return rows, pd.concat(tables, ignore_index=True)[list(MAZE_COLUMNS)], len(chosen)
