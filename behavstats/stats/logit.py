"""Unregularised inference on the selected features: statsmodels Logit + bootstrap."""

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.base import BaseEstimator
from sklearn.preprocessing import StandardScaler
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from behavstats.seeding import Purpose, stream
from behavstats.stats.dataset import check_design
from behavstats.stats.errors import StudyDataError
from behavstats.stats.intervals import percentile_interval

MIN_BOOTSTRAP_SHARE = 0.9
"""Bootstrap intervals are reported only when at least this share of resamples fit."""


class LogitInference(BaseEstimator):
    """Maximum-likelihood logistic regression (statsmodels `Logit`, with a constant)
    on z-scored features, so coefficients are per standard deviation like the L1 ones.
    No validation split is involved, so z-scoring all rows leaks nothing. Wald
    standard errors, p-values and intervals come from statsmodels; the bootstrap
    resamples rows (`n_bootstrap` times, seeded) and refits, for percentile intervals
    that do not rely on the normal approximation.

    Raises StudyDataError when the features separate the label (perfectly or
    quasi-perfectly, so some coefficient is infinite) or are exactly collinear.

    Attributes
    ----------
    result_ : the statsmodels results object (`result_.summary()` prints it).
    bootstrap_ : DataFrame of the coefficients of each resample that fitted (one
        column per term).
    table_ : DataFrame, one row per term ("const" first, then the features): term, coef,
        std_err, z, p_value, ci_low, ci_high (Wald, level), odds_ratio, or_ci_low,
        or_ci_high (exp of coef and of the Wald interval: the odds' factor per SD),
        boot_ci_low, boot_ci_high (percentile; NaN when fewer than 90% of resamples
        fitted), n_bootstrap (how many did).
    """

    def __init__(self, n_bootstrap: int = 1000, level: float = 0.95, seed: int = 0):
        self.n_bootstrap = n_bootstrap
        self.level = level
        self.seed = seed

    def fit(self, X: pd.DataFrame | np.ndarray, y: Sequence | np.ndarray) -> "LogitInference":
        """Fit the Logit and bootstrap it; returns self."""
        X, y = check_design(X, y)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        z = StandardScaler().fit_transform(X.to_numpy()) if X.shape[1] else X.to_numpy()
        exog = pd.DataFrame(sm.add_constant(z, has_constant="add"),
                            columns=["const", *X.columns])
        rank = np.linalg.matrix_rank(exog.to_numpy())
        if rank < exog.shape[1]:
            raise StudyDataError(
                f"the features {list(X.columns)} are exactly collinear (with the constant, "
                f"rank {rank} < {exog.shape[1]} terms), so the Logit's coefficients are not "
                "identified: drop one feature of each relation that Collinearity / vif.csv "
                "reports")
        self.result_ = _fit_logit(y, exog)
        problem = _problem(self.result_)
        if problem:
            largest = (self.result_.params.drop("const").abs() if self.result_ is not None
                       else ())
            culprit = f" (largest: {largest.idxmax()})" if len(largest) else ""
            raise StudyDataError(
                f"the Logit on {list(X.columns)} {problem}: reached_cheese is perfectly or "
                f"quasi-perfectly separated by these features{culprit}, so the "
                "maximum-likelihood coefficients are infinite. Read the regularised L1 "
                "coefficients instead, or drop the separating feature(s), or collect "
                "more varied episodes")
        self.bootstrap_ = self._bootstrap(y, exog)
        self.table_ = self._table()
        return self

    def _bootstrap(self, y: np.ndarray, exog: pd.DataFrame) -> pd.DataFrame:
        """Coefficients refitted on seeded row resamples (failed fits left out)."""
        draw = stream(self.seed, Purpose.BOOTSTRAP)
        values, start = exog.to_numpy(), self.result_.params.to_numpy()
        fits = []
        for _ in range(self.n_bootstrap):
            rows = draw.integers(0, len(y), len(y))
            if np.ptp(y[rows]) == 0:
                continue
            result = _fit_logit(y[rows], values[rows], start_params=start)
            if not _problem(result):
                fits.append(result.params)
        return pd.DataFrame(np.reshape(fits, (len(fits), exog.shape[1])),
                            columns=exog.columns)

    def _table(self) -> pd.DataFrame:
        result = self.result_
        wald = result.conf_int(alpha=1 - self.level)
        table = pd.DataFrame({"term": result.params.index, "coef": result.params.to_numpy(),
                              "std_err": result.bse.to_numpy(),
                              "z": result.tvalues.to_numpy(),
                              "p_value": result.pvalues.to_numpy(),
                              "ci_low": wald[0].to_numpy(), "ci_high": wald[1].to_numpy()})
        for column, source in (("odds_ratio", "coef"), ("or_ci_low", "ci_low"),
                               ("or_ci_high", "ci_high")):
            table[column] = np.exp(table[source])
        n_ok = len(self.bootstrap_)
        if n_ok and n_ok >= MIN_BOOTSTRAP_SHARE * self.n_bootstrap:
            low, high = percentile_interval(self.bootstrap_.to_numpy(), self.level)
        else:
            low = high = np.full(len(table), np.nan)
        table["boot_ci_low"], table["boot_ci_high"], table["n_bootstrap"] = low, high, n_ok
        return table


def _fit_logit(y: np.ndarray, exog: pd.DataFrame | np.ndarray,
               start_params: np.ndarray | None = None):
    """Newton-fitted statsmodels Logit, quietly: separation (and a singular resample)
    is judged afterwards by `_problem`; None when Newton met a singular Hessian (which
    statsmodels raises as LinAlgError: seen on a quasi-separated bootstrap resample)."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, PerfectSeparationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        try:
            return sm.Logit(y, exog).fit(method="newton", maxiter=100, disp=0,
                                         start_params=start_params)
        except np.linalg.LinAlgError:
            return None


def _problem(result) -> str:
    """Why the fit is unusable ('' when it is fine)."""
    if result is None:
        return "met a singular Hessian"
    if not result.mle_retvals["converged"]:
        return "did not converge"
    if not np.all(np.isfinite(result.bse)):
        return "has infinite standard errors"
    return ""
