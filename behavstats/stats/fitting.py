"""The one model of the study, L1 logistic regression, fitted over standardised splits."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from behavstats.seeding import Purpose, random_state
from behavstats.stats.splits import Split

INTERCEPT_SCALING = 10.0
"""liblinear penalises the intercept like a coefficient of a constant feature of this
value; 10 (instead of 1) makes that penalty ten times weaker, so strong
regularisation does not drag predictions towards 50/50."""


COEF_TOL = 1e-4
"""Solver tolerance of fits whose coefficients are reported (scikit-learn's default).
The maze features come in near-duplicate groups (Euclidean, taxicab and step versions
of one distance; r up to 0.99), along which the L1 objective is nearly flat, so
coefficients need a tight tolerance and each such fit is slow."""
SCORE_TOL = 1e-3
"""Solver tolerance of fits that are only scored (choosing C, single features,
feature selection): about 10x faster on the 16 features, and its predictions agree
with the exact optimum's on more than 99.5% of rows, while its coefficients within a
near-duplicate group can be off by more than 1."""


def l1_logistic(C: float, seed: int = 0, tol: float = COEF_TOL) -> LogisticRegression:
    """An unfitted L1 logistic regression (scikit-learn >= 1.8 spelling: l1_ratio=1,
    no `penalty=`), solved by liblinear (the fastest scikit-learn L1 solver for a few
    thousand rows and <= 16 features; deterministic given the seed)."""
    return LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", tol=tol,
                              intercept_scaling=INTERCEPT_SCALING,
                              random_state=random_state(seed, Purpose.SOLVER))


@dataclass(frozen=True)
class SplitFits:
    """Per-split results of one feature set: validation accuracy, majority baseline
    and coefficients (standardised features; shape n_splits x n_columns)."""

    accuracy: np.ndarray
    baseline: np.ndarray
    coef: np.ndarray


def fit_on_splits(splits: Sequence[Split], columns: Sequence[int], C: float,
                  seed: int = 0, tol: float = COEF_TOL) -> SplitFits:
    """Fit the L1 model on the training part of every split using `columns` of the
    standardised features, and score it on that split's validation part."""
    columns = list(columns)
    accuracy, baseline, coef = [], [], []
    for split in splits:
        model = l1_logistic(C, seed, tol).fit(split.z_train[:, columns], split.y_train)
        accuracy.append(model.score(split.z_test[:, columns], split.y_test))
        baseline.append(split.baseline)
        coef.append(model.coef_[0])
    return SplitFits(np.array(accuracy), np.array(baseline), np.array(coef))
