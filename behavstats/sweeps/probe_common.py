"""What every kind of probe shares (`behavstats.sweeps.probes`): the probe itself, the
layers' activations it reads, the split of levels, the control task's relabelling and
the random network.

The probe: standardise (on the rows it is fitted on) and L2 logistic regression
(lbfgs, C = `PROBE_C`, at most `MAX_ITER` iterations). With fewer rows than features
(a wide layer's pooled maps), the solver works on the rows' coordinates in the span of
the standardised training rows (`RowSpace`): the same model at a fraction of the cost.
A tuned probe (for few rows of many features, where C = 1 fits the noise and its
probabilities are overconfident) chooses C among `TUNED_CS` by `INNER_FOLDS`-fold
stratified cross-validation of the log-loss within the rows it is fitted on
(scikit-learn's LogisticRegressionCV), then refits on all of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from behavstats.engine import BATCH, forward
from behavstats.policy import Policy
from behavstats.seeding import Purpose, random_state, stream

PROBE_C = 1.0
MAX_ITER = 200
TUNED_CS = (1e-3, 1e-2, 1e-1)
INNER_FOLDS = 3
TEST_SHARE = 0.3
CHUNK = 512
"""Observations forwarded through all layers at a time (bounds the memory)."""


class RowSpace(TransformerMixin, BaseEstimator):
    """Coordinates in an orthonormal basis of the span of the rows it is fitted on,
    when they are fewer than the features (else the features as they are).

    An L2-penalised linear model fitted on those rows has its coefficients in that
    span: the loss's gradient lies in it, and so does the penalty's for coefficients
    that start at zero. So is every iterate of a gradient-based solver such as lbfgs,
    whose steps and line searches use only inner products, which an orthonormal basis
    keeps. Fitting on the n coordinates instead of the p features therefore gives the
    same model at n/p of the cost per iteration, up to rounding and the solver's
    stopping test (which reads single coordinates of the gradient). Where lbfgs stops
    at its iteration cap before converging, rounding moves that point: the default
    agent's probe accuracies moved by up to 1.1 points, no verdict changed."""

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> RowSpace:
        n, p = features.shape
        self.basis_ = None
        if n < p:
            self.basis_ = np.linalg.svd(features, full_matrices=False)[2].T
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        return features if self.basis_ is None else features @ self.basis_


def fitted_probe(features: np.ndarray, labels: np.ndarray, *, tuned: bool = False
                 ) -> Pipeline:
    """The probe (module docstring; `tuned`: its C chosen by inner cross-validation)
    fitted on these rows (at least two label values)."""
    model = (LogisticRegressionCV(Cs=list(TUNED_CS), l1_ratios=(0.0,), cv=INNER_FOLDS,
                                  scoring="neg_log_loss", max_iter=MAX_ITER,
                                  use_legacy_attributes=False) if tuned
             else LogisticRegression(C=PROBE_C, max_iter=MAX_ITER))
    probe = make_pipeline(StandardScaler(), RowSpace(), model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return probe.fit(features, labels)


def positive_probability(features: np.ndarray, labels: np.ndarray, train: np.ndarray,
                         test: np.ndarray, *, tuned: bool = False) -> np.ndarray:
    """P(label is True) of the test rows under the probe fitted on the train rows (the
    train rows' share of True when they hold one value only, or too few of one for the
    inner folds of a tuned probe)."""
    smaller = min(int(labels[train].sum()), int((~labels[train].astype(bool)).sum()))
    if smaller < (INNER_FOLDS if tuned else 1):
        return np.full(len(test), float(labels[train].mean()))
    probe = fitted_probe(features[train], labels[train], tuned=tuned)
    return probe.predict_proba(features[test])[:, 1]


def layer_outputs(policy: Policy, obs: np.ndarray, layers: Sequence[str],
                  reduce: Callable[[str, torch.Tensor, int], np.ndarray], *,
                  batch: int = BATCH) -> dict[str, np.ndarray]:
    """`reduce(layer, activations, first)` of every layer, in network order, for uint8
    observations, concatenated over chunks of observations (`first`: the index of the
    chunk's first observation); each chunk runs through the network once."""
    parts: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    for begin in range(0, len(obs), CHUNK):
        x, start = obs[begin : begin + CHUNK], None
        for layer in layers:
            x = forward(policy, x, start=start, stop=layer, batch=batch)
            start = layer
            parts[layer].append(reduce(layer, x, begin))
    return {layer: np.concatenate(p) for layer, p in parts.items()}


def map_sizes(policy: Policy, obs: np.ndarray, layers: Sequence[str], *,
              batch: int = BATCH) -> dict[str, int | None]:
    """Each layer's map side (H = W) for a convolutional layer, None for a vector."""
    sides = layer_outputs(policy, obs[:1], layers,
                          lambda _l, x, _f: np.array([x.shape[-1] if x.ndim == 4 else 0]),
                          batch=batch)
    return {layer: int(v[0]) or None for layer, v in sides.items()}


def pooled(_layer: str, x: torch.Tensor, _first: int) -> np.ndarray:
    """The flattened probes' features: a conv map (C, H, W) pooled along each axis, C
    (H + W) values (each channel's row and column profile); a vector as it is."""
    return (x if x.ndim == 2 else torch.cat([x.mean(3), x.mean(2)], dim=2)).flatten(1).numpy()


def layer_features(policy: Policy, obs: np.ndarray, layers: Sequence[str], *,
                   batch: int = BATCH) -> dict[str, np.ndarray]:
    """`pooled` features of every layer for uint8 observations."""
    return layer_outputs(policy, obs, layers, pooled, batch=batch)


def level_split(n_mazes: int, seed: int) -> np.ndarray:
    """Which of the mazes are held out for testing (`TEST_SHARE` of them,
    `Purpose.PROBE_SPLIT`): the same mazes for every kind of probe."""
    split = GroupShuffleSplit(1, test_size=TEST_SHARE,
                              random_state=random_state(seed, Purpose.PROBE_SPLIT))
    mazes = np.arange(n_mazes)
    _, test = next(split.split(mazes, groups=mazes))
    return np.isin(mazes, test)


def control_labels(labels: np.ndarray, mazes: np.ndarray, seed: int, target: int,
                   purpose: Purpose = Purpose.CONTROL_LABELS) -> np.ndarray:
    """Within each maze, every label value replaced by a random draw from `labels`
    (the maze's stream of `purpose`, keyed by the maze and `target`)."""
    out = np.empty_like(labels)
    for maze in np.unique(mazes):
        rows = mazes == maze
        rng = stream(seed, purpose, maze, target)
        values = np.unique(labels[rows])
        mapping = dict(zip(values, rng.choice(labels, size=len(values)), strict=True))
        out[rows] = [mapping[v] for v in labels[rows]]
    return out


def random_network(policy: Policy, seed: int) -> Policy:
    """A freshly initialised policy of the same architecture (`Purpose.RANDOM_NETWORK`)."""
    with torch.random.fork_rng():
        torch.manual_seed(random_state(seed, Purpose.RANDOM_NETWORK))
        net = Policy(policy.scale)
    return net.to(memory_format=torch.channels_last).eval()
