"""Logit inference: statsmodels/scikit-learn agreement, bootstrap, clear failures."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from behavstats.stats import LogitInference, StudyDataError
from behavstats.stats.synthetic import synthetic_logistic

TRUE = {"a": 1.0, "b": -0.7, "c": 0.0}
COLUMNS = ["term", "coef", "std_err", "z", "p_value", "ci_low", "ci_high", "odds_ratio",
           "or_ci_low", "or_ci_high", "boot_ci_low", "boot_ci_high", "n_bootstrap"]


@pytest.fixture(scope="module")
def data():
    table = synthetic_logistic(3000, TRUE, intercept=0.4, seed=21)
    return table[list(TRUE)], table["reached_cheese"].to_numpy()


@pytest.fixture(scope="module")
def fitted(data):
    return LogitInference(n_bootstrap=200, seed=0).fit(*data)


def test_coefficients_match_unpenalised_scikit_learn_on_z_scores(fitted, data):
    X, y = data
    z = (X - X.mean()) / X.std(ddof=0)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(z, y)
    table = fitted.table_
    assert list(table.columns) == COLUMNS and list(table["term"]) == ["const", "a", "b", "c"]
    np.testing.assert_allclose(table["coef"], [reference.intercept_[0], *reference.coef_[0]],
                               atol=1e-5)
    # odds ratios per SD: the odds' factor for one SD more of the feature
    odds = lambda v: reference.predict_proba(v)[:, 1] / reference.predict_proba(v)[:, 0]  # noqa: E731
    base = pd.DataFrame([[0.0, 0.0, 0.0]], columns=list(TRUE))
    one_more = base.assign(b=1.0)
    ratio = table.set_index("term").loc["b", "odds_ratio"]
    assert ratio == pytest.approx(odds(one_more)[0] / odds(base)[0], rel=1e-4)
    np.testing.assert_allclose(table[["or_ci_low", "or_ci_high"]],
                               np.exp(table[["ci_low", "ci_high"]]))


def test_intervals_cover_the_truth_and_p_values_separate_signal_from_none(fitted):
    table = fitted.table_.set_index("term")
    for term, beta in TRUE.items():
        assert abs(table.loc[term, "coef"] - beta) < 4 * table.loc[term, "std_err"]
    assert table.loc["a", "p_value"] < 1e-10 and table.loc["b", "p_value"] < 1e-10
    assert table.loc["c", "p_value"] > 0.01
    assert (table["ci_low"] < table["coef"]).all() and (table["coef"] < table["ci_high"]).all()


def test_bootstrap_interval_agrees_with_wald_in_a_large_sample(fitted):
    table = fitted.table_
    assert (table["n_bootstrap"] == 200).all() and fitted.bootstrap_.shape == (200, 4)
    for side in ("low", "high"):
        gap = (table[f"boot_ci_{side}"] - table[f"ci_{side}"]).abs()
        assert (gap < 0.5 * table["std_err"]).all()


def test_perfect_separation_says_what_to_do(data):
    X, _ = data
    with pytest.raises(StudyDataError, match="separated.*L1 coefficients"):
        LogitInference(n_bootstrap=5).fit(X, (X["a"] > X["a"].median()).to_numpy())


def test_quasi_separation_is_caught_too(data):
    X, y = data
    flag = (np.arange(len(y)) % 5 == 0).astype(float)
    y = np.where(flag == 1, 1, y)  # every flagged episode reached the cheese
    with pytest.raises(StudyDataError, match="separated.*largest: flag"):
        LogitInference(n_bootstrap=5).fit(X.assign(flag=flag), y)


def test_exactly_collinear_features_are_refused(data):
    X, y = data
    with pytest.raises(StudyDataError, match="exactly collinear"):
        LogitInference(n_bootstrap=5).fit(X.assign(d=X["a"] + X["b"]), y)


def test_no_features_fits_the_intercept_only(data):
    _, y = data
    table = LogitInference(n_bootstrap=20).fit(pd.DataFrame(index=range(len(y))), y).table_
    assert list(table["term"]) == ["const"]
    assert table["coef"].iloc[0] == pytest.approx(np.log(y.mean() / (1 - y.mean())))


def test_resamples_with_a_singular_hessian_are_left_out_not_fatal():
    """A feature non-zero in three rows only is absent from some resamples, whose Hessian
    is then singular (statsmodels raises LinAlgError): those resamples count as failed
    fits (seen on the 100-row inference half of a small study)."""
    rng = np.random.default_rng(1)
    n = 80
    X = pd.DataFrame({"a": rng.standard_normal(n), "rare": np.r_[np.ones(3), np.zeros(n - 3)]})
    y = rng.random(n) < 1 / (1 + np.exp(-X["a"] - 0.3 * X["rare"]))
    fitted = LogitInference(n_bootstrap=60, seed=1).fit(X, y)
    assert 0 < len(fitted.bootstrap_) < 60
    assert fitted.table_["n_bootstrap"].iloc[0] == len(fitted.bootstrap_)
