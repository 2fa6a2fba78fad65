"""The one model of the study, L1 logistic regression, fitted over standardised splits."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from behavstats.stats.seeds import Stream, random_state
from behavstats.stats.splits import Split

INTERCEPT_SCALING = 10.0
"""liblinear penalises the intercept like a coefficient of a constant feature of this
value; 10 (instead of 1) makes that penalty ten times weaker, so strong
regularisation does not drag predictions towards 50/50."""


def l1_logistic(C: float, seed: int = 0) -> LogisticRegression:
    """An unfitted L1 logistic regression (scikit-learn >= 1.8 spelling: l1_ratio=1,
    no `penalty=`), solved by liblinear (fast for a few thousand rows and <= 16
    features, deterministic given the seed)."""
    return LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear",
                              intercept_scaling=INTERCEPT_SCALING,
                              random_state=random_state(seed, Stream.SOLVER))


@dataclass(frozen=True)
class SplitFits:
    """Per-split results of one feature set: validation accuracy, majority baseline
    and coefficients (standardised features; shape n_splits x n_columns)."""

    accuracy: np.ndarray
    baseline: np.ndarray
    coef: np.ndarray


def fit_on_splits(splits: Sequence[Split], columns: Sequence[int], C: float,
                  seed: int = 0) -> SplitFits:
    """Fit the L1 model on the training part of every split using `columns` of the
    standardised features, and score it on that split's validation part."""
    columns = list(columns)
    accuracy, baseline, coef = [], [], []
    for split in splits:
        model = l1_logistic(C, seed).fit(split.z_train[:, columns], split.y_train)
        accuracy.append(model.score(split.z_test[:, columns], split.y_test))
        baseline.append(split.baseline)
        coef.append(model.coef_[0])
    return SplitFits(np.array(accuracy), np.array(baseline), np.array(coef))
