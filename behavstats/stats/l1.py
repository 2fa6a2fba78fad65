"""The main fit: L1 logistic regression over repeated stratified splits."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from behavstats.seeding import Purpose, random_state
from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import (
    COEF_TOL,
    SCORE_TOL,
    fit_on_splits,
    l1_logistic,
    score_columns,
)
from behavstats.stats.intervals import corrected_t_interval, percentile_interval
from behavstats.stats.splits import standardised_splits

DEFAULT_CS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
"""Inverse regularisation strengths searched by cross-validation: decades, because
the cross-validated log loss is flat within a decade of its minimum, and including 1
(the reference C), whose fits are then reused when it wins."""
INTERVAL_METHOD = "corrected resampled t (Nadeau & Bengio 2003)"


class L1LogisticStudy(BaseEstimator):
    """Held-out scores (log-loss, Brier, ROC AUC, accuracy) and coefficients of L1
    logistic regression on standardised features over `n_splits` seeded stratified
    splits (`test_size` held out).

    A given `C` is used as it is (the study passes the C its selection half chose);
    `C=None` chooses it once, by `cv`-fold stratified cross-validation (log loss; accuracy is
    flat in C and ties) over the grid `Cs` on the training rows of the first split,
    with each fold standardised on its own training part (a Pipeline). Once, not per
    split, because nested CV costs `len(Cs) * cv` extra fits on every split (30 by
    default: it would multiply the main fit's cost by about 30) for one scalar whose
    choice barely moves held-out accuracy; the price is that later splits' validation
    rows took part in choosing that scalar. Every split is then fitted at `C_` and at
    `reference_C` (1, the scikit-learn default the published fit used), the two in
    `n_jobs` processes, at solver tolerance `tol` (`fitting.COEF_TOL`; `SCORE_TOL` where
    only the scores are read). Processes, never threads: liblinear draws from one C-global
    random state, so two fits in threads of one process disturb each other's
    coordinate order and the results are no longer reproducible (seen: a held-out
    accuracy that changed between runs).

    With near-duplicate features (the 16 maze metrics) the L1 optimum is nearly flat
    along each group, and liblinear's coefficients at its default tolerance can sit
    several tenths per SD from the exact optimum within such a group; accuracies and
    the signs of clearly non-zero coefficients are not affected.

    Attributes
    ----------
    C_ : the chosen C.
    splits_ : list of `Split` (indices, training-split scaling) actually used.
    cv_scores_ : DataFrame with columns C, log_loss_mean, log_loss_sd (CV over Cs);
        None when C was given.
    split_scores_ : DataFrame, one row per split: split, log_loss, brier, auc, accuracy,
        baseline, baseline_log_loss, reference_accuracy.
    split_coefficients_ : DataFrame, one row per split and feature: split, feature,
        coef (at C_), ref_coef (at reference_C).
    coefficients_ : DataFrame, one row per feature: feature, coef_mean, ci_low, ci_high
        (mean and 2.5-97.5th percentile across splits at C_), zero_rate (share of
        splits where L1 set it to 0), ref_coef_mean, ref_ci_low, ref_ci_high (at
        reference_C). Coefficients are per standard deviation of the feature.
    accuracy_ : dict with n, n_features, n_splits, test_size, n_train, n_test, C, the
        `fitting.score_columns` (log_loss, brier, auc and accuracy, each _mean, _ci_low,
        _ci_high; baseline, baseline_log_loss, baseline_brier), gain_mean, gain_ci_low,
        gain_ci_high (accuracy minus baseline, paired by split), log_loss_gain_mean,
        _ci_low, _ci_high (the prior's log-loss minus the model's: positive when the
        features help), reference_C, reference_accuracy_mean, reference_accuracy_ci_low,
        reference_accuracy_ci_high, reference_log_loss_mean and interval (the method of
        the 95% intervals).
    """

    def __init__(self, n_splits: int = 50, test_size: float = 0.2, C: float | None = None,
                 Cs: Sequence[float] = DEFAULT_CS, cv: int = 5, reference_C: float = 1.0,
                 seed: int = 0, n_jobs: int = 2, tol: float = COEF_TOL):
        self.n_splits = n_splits
        self.C = C
        self.test_size = test_size
        self.Cs = Cs
        self.cv = cv
        self.reference_C = reference_C
        self.seed = seed
        self.n_jobs = n_jobs
        self.tol = tol

    def fit(self, X: pd.DataFrame | np.ndarray, y: Sequence | np.ndarray) -> "L1LogisticStudy":
        """Choose C, fit every split at C_ and at reference_C; returns self."""
        X, y = check_design(X, y)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        values = X.to_numpy()
        self.splits_ = standardised_splits(values, y, self.n_splits, self.test_size, self.seed)
        if self.C is None:
            train = self.splits_[0].train
            self.C_, self.cv_scores_ = choose_C(values[train], y[train], self.Cs, self.cv,
                                                self.seed)
        else:
            self.C_, self.cv_scores_ = float(self.C), None
        columns = range(values.shape[1])
        Cs = list(dict.fromkeys([self.C_, self.reference_C]))
        fitted = Parallel(n_jobs=min(self.n_jobs or 1, len(Cs)), backend="loky")(
            delayed(fit_on_splits)(self.splits_, columns, C, self.seed, self.tol) for C in Cs)
        fits, reference = fitted[0], fitted[-1]
        self.split_scores_ = pd.DataFrame({
            "split": np.arange(len(self.splits_)), **fits.scores, "baseline": fits.baseline,
            "baseline_log_loss": fits.prior["log_loss"],
            "reference_accuracy": reference.accuracy})
        self.split_coefficients_ = pd.DataFrame({
            "split": np.repeat(np.arange(len(self.splits_)), values.shape[1]),
            "feature": np.tile(self.feature_names_in_, len(self.splits_)),
            "coef": fits.coef.ravel(), "ref_coef": reference.coef.ravel()})
        self.coefficients_ = _coefficient_table(self.feature_names_in_, fits.coef,
                                                reference.coef)
        n_train, n_test = len(self.splits_[0].train), len(self.splits_[0].test)
        gain = corrected_t_interval(fits.accuracy - fits.baseline, n_train, n_test)
        log_loss_gain = corrected_t_interval(
            fits.prior["log_loss"] - fits.scores["log_loss"], n_train, n_test)
        ref = corrected_t_interval(reference.accuracy, n_train, n_test)
        self.accuracy_ = {
            "n": len(y), "n_features": values.shape[1], "n_splits": len(self.splits_),
            "test_size": self.test_size, "n_train": n_train, "n_test": n_test,
            "C": self.C_, **score_columns(fits, n_train, n_test),
            **dict(zip(("gain_mean", "gain_ci_low", "gain_ci_high"), gain, strict=True)),
            **dict(zip(("log_loss_gain_mean", "log_loss_gain_ci_low",
                        "log_loss_gain_ci_high"), log_loss_gain, strict=True)),
            "reference_C": self.reference_C,
            **dict(zip(("reference_accuracy_mean", "reference_accuracy_ci_low",
                        "reference_accuracy_ci_high"), ref, strict=True)),
            "reference_log_loss_mean": float(reference.scores["log_loss"].mean()),
            "interval": f"95% {INTERVAL_METHOD}",
        }
        return self


def _coefficient_table(features: np.ndarray, coef: np.ndarray,
                       reference: np.ndarray) -> pd.DataFrame:
    """Tidy per-feature summary of per-split coefficients (splits x features)."""
    low, high = percentile_interval(coef)
    ref_low, ref_high = percentile_interval(reference)
    return pd.DataFrame({
        "feature": features, "coef_mean": coef.mean(axis=0), "ci_low": low, "ci_high": high,
        "zero_rate": (coef == 0).mean(axis=0), "ref_coef_mean": reference.mean(axis=0),
        "ref_ci_low": ref_low, "ref_ci_high": ref_high})


def choose_C(values: np.ndarray, y: np.ndarray, Cs: Sequence[float] = DEFAULT_CS,
             cv: int = 5, seed: int = 0) -> tuple[float, pd.DataFrame]:
    """The C of the grid `Cs` with the lowest log-loss in `cv`-fold stratified
    cross-validation of (values, y), each fold standardised on its own training part (a
    Pipeline); returns it and the table of C, log_loss_mean, log_loss_sd."""
    pipeline = make_pipeline(StandardScaler(), l1_logistic(1.0, seed, SCORE_TOL))
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state(seed, Purpose.CV))
    search = GridSearchCV(pipeline, {"logisticregression__C": [float(c) for c in Cs]},
                          cv=folds, scoring="neg_log_loss")
    search.fit(values, y)
    results = search.cv_results_
    table = pd.DataFrame({"C": np.asarray(results["param_logisticregression__C"], float),
                          "log_loss_mean": -results["mean_test_score"],
                          "log_loss_sd": results["std_test_score"]})
    return float(search.best_params_["logisticregression__C"]), table
