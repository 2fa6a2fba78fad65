"""How well each feature alone predicts the label, tested against the prior."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import SCORE_TOL, fit_on_splits, score_columns
from behavstats.stats.intervals import corrected_t_interval, corrected_t_test
from behavstats.stats.multiplicity import bh_qvalues
from behavstats.stats.splits import standardised_splits


class SingleFeatureAccuracy(BaseEstimator):
    """Held-out scores of a one-feature L1 logistic regression for every feature, over
    the same seeded splits as `L1LogisticStudy` with the same seed, beside the prior
    (the training rate of the label: the majority baseline's accuracy and the no-feature
    log-loss) of those splits, with a test of whether the feature predicts at all.

    The test of each feature is one-sided: its per-split log-loss gain over the prior
    (prior minus model, paired by split) is > 0, under the corrected resampled t
    variance. A feature that carries nothing is fitted to noise and predicts slightly
    worse than the prior, so its p-values are conservative (never too small). The
    features form one family: q-values are Benjamini-Hochberg within it.

    Attributes
    ----------
    table_ : DataFrame, one row per feature, lowest log-loss first: feature,
        log_loss_mean, log_loss_ci_low, log_loss_ci_high, brier_mean, auc_mean,
        auc_ci_low, auc_ci_high, accuracy_mean, ci_low, ci_high (the accuracy's 95%
        corrected resampled t interval), baseline, baseline_log_loss, gain_mean,
        gain_ci_low, gain_ci_high (accuracy minus baseline, paired by split),
        log_loss_gain_mean, log_loss_gain_ci_low, log_loss_gain_ci_high (prior's
        log-loss minus the feature's), p_value, q_value and coef_mean (the feature's own
        coefficient per standard deviation: the sign it has alone).
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
            scores = score_columns(fits, n_train, n_test)
            gain = corrected_t_interval(fits.accuracy - fits.baseline, n_train, n_test)
            log_loss_gain = fits.prior["log_loss"] - fits.scores["log_loss"]
            loss_gain = corrected_t_interval(log_loss_gain, n_train, n_test)
            rows.append({
                "feature": feature,
                **{k: scores[k] for k in ("log_loss_mean", "log_loss_ci_low",
                                          "log_loss_ci_high", "brier_mean", "auc_mean",
                                          "auc_ci_low", "auc_ci_high", "accuracy_mean")},
                "ci_low": scores["accuracy_ci_low"], "ci_high": scores["accuracy_ci_high"],
                "baseline": scores["baseline"], "baseline_log_loss": scores["baseline_log_loss"],
                "gain_mean": gain[0], "gain_ci_low": gain[1], "gain_ci_high": gain[2],
                "log_loss_gain_mean": loss_gain[0], "log_loss_gain_ci_low": loss_gain[1],
                "log_loss_gain_ci_high": loss_gain[2],
                "p_value": corrected_t_test(log_loss_gain, n_train, n_test),
                "coef_mean": float(fits.coef[:, 0].mean())})
        table = pd.DataFrame(rows)
        table.insert(table.columns.get_loc("p_value") + 1, "q_value",
                     bh_qvalues(table["p_value"]))
        self.table_ = (table.sort_values("log_loss_mean", kind="stable")
                       .reset_index(drop=True))
        return self
