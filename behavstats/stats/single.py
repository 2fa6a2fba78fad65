"""How well each feature alone predicts the label."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import SCORE_TOL, fit_on_splits
from behavstats.stats.intervals import corrected_t_interval
from behavstats.stats.splits import standardised_splits


class SingleFeatureAccuracy(BaseEstimator):
    """Held-out accuracy of a one-feature L1 logistic regression for every feature,
    over the same seeded splits as `L1LogisticStudy` with the same seed, beside the
    majority baseline of those splits.

    Attributes
    ----------
    table_ : DataFrame, one row per feature, best first: feature, accuracy_mean, ci_low,
        ci_high (95% corrected resampled t interval), baseline, gain_mean, gain_ci_low,
        gain_ci_high (accuracy minus baseline, paired by split) and coef_mean (the
        feature's own coefficient per standard deviation: the sign it has alone).
    """

    def __init__(self, C: float = 1.0, n_splits: int = 50, test_size: float = 0.2,
                 seed: int = 0):
        self.C = C
        self.n_splits = n_splits
        self.test_size = test_size
        self.seed = seed

    def fit(self, X: pd.DataFrame | np.ndarray,
            y: Sequence | np.ndarray) -> "SingleFeatureAccuracy":
        """Fit one model per feature on every split; returns self."""
        X, y = check_design(X, y)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        splits = standardised_splits(X.to_numpy(), y, self.n_splits, self.test_size,
                                     self.seed)
        n_train, n_test = len(splits[0].train), len(splits[0].test)
        rows = []
        for j, feature in enumerate(self.feature_names_in_):
            fits = fit_on_splits(splits, [j], self.C, self.seed, SCORE_TOL)
            mean, low, high = corrected_t_interval(fits.accuracy, n_train, n_test)
            gain = corrected_t_interval(fits.accuracy - fits.baseline, n_train, n_test)
            rows.append({"feature": feature, "accuracy_mean": mean, "ci_low": low,
                         "ci_high": high, "baseline": float(fits.baseline.mean()),
                         "gain_mean": gain[0], "gain_ci_low": gain[1], "gain_ci_high": gain[2],
                         "coef_mean": float(fits.coef[:, 0].mean())})
        self.table_ = (pd.DataFrame(rows).sort_values("accuracy_mean", ascending=False,
                                                      kind="stable")
                       .reset_index(drop=True))
        return self
