"""Collinearity: VIF as statsmodels-with-constant, exact relations reported as such."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from behavstats.stats import Collinearity


def _correlated(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(5, 2, n)
    return pd.DataFrame({"a": a, "b": 0.8 * a + rng.normal(0, 1, n),
                         "c": rng.uniform(0, 30, n), "d": 3 * a - rng.normal(0, 4, n) + 100})


def test_vif_equals_statsmodels_with_constant_and_the_textbook_identity():
    X = _correlated()
    vif = Collinearity().fit(X).vif_
    exog = sm.add_constant(X.to_numpy())
    expected = [variance_inflation_factor(exog, j + 1) for j in range(X.shape[1])]
    np.testing.assert_allclose(vif["vif"], expected, rtol=0, atol=1e-9)
    # VIF_j is the j-th diagonal element of the inverse correlation matrix.
    np.testing.assert_allclose(vif["vif"], np.diag(np.linalg.inv(X.corr().to_numpy())),
                               rtol=1e-9)
    assert not vif["collinear"].any() and (vif["note"] == "").all()
    np.testing.assert_allclose(vif["r2"], 1 - 1 / vif["vif"])


def test_correlation_matrix_is_pearson():
    X = _correlated()
    pd.testing.assert_frame_equal(Collinearity().fit(X).correlation_, X.corr())


@pytest.mark.filterwarnings("ignore:The design matrix is poorly conditioned")
@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_tree_maze_step_distances_are_reported_as_exactly_collinear():
    rng = np.random.default_rng(1)
    X = _correlated().assign(steps_cheese_dsq=rng.integers(1, 30, 400).astype(float),
                             steps_dsq_tr=rng.integers(1, 40, 400).astype(float))
    X["steps_cheese_tr"] = X["steps_cheese_dsq"] + X["steps_dsq_tr"]
    fitted = Collinearity().fit(X)
    vif = fitted.vif_.set_index("feature")
    triple = ["steps_cheese_dsq", "steps_dsq_tr", "steps_cheese_tr"]
    assert vif.loc[triple, "collinear"].all()
    assert np.isinf(vif.loc[triple, "vif"]).all() and (vif.loc[triple, "r2"] == 1).all()
    relation = "steps_cheese_tr = 1*steps_cheese_dsq + 1*steps_dsq_tr"
    assert fitted.relations_ == [relation]
    assert all(relation in note for note in vif.loc[triple, "note"])
    others = ["a", "b", "c", "d"]
    assert not vif.loc[others, "collinear"].any()
    exog = sm.add_constant(X.to_numpy())
    expected = [variance_inflation_factor(exog, X.columns.get_loc(f) + 1) for f in others]
    np.testing.assert_allclose(vif.loc[others, "vif"], expected, rtol=0, atol=1e-6)


def test_relation_is_written_in_the_features_units_with_offset():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300),
                      "z": rng.normal(size=300)})
    X["x3"] = 2 * X["x1"] - 0.5 * X["x2"] + 3
    fitted = Collinearity().fit(X)
    assert fitted.relations_ == ["x3 = 2*x1 - 0.5*x2 + 3"]
    assert list(fitted.vif_["collinear"]) == [True, True, False, True]


def test_near_but_not_exact_collinearity_keeps_a_finite_vif():
    rng = np.random.default_rng(3)
    a = rng.normal(size=500)
    X = pd.DataFrame({"a": a, "a_noisy": a + 1e-3 * rng.normal(size=500)})
    vif = Collinearity().fit(X).vif_
    assert not vif["collinear"].any()
    assert np.isfinite(vif["vif"]).all() and (vif["vif"] > 1e5).all()


def test_constant_column_is_collinear_with_the_intercept():
    X = _correlated().assign(k=7.0)
    vif = Collinearity().fit(X).vif_.set_index("feature")
    assert vif.loc["k", "collinear"] and np.isinf(vif.loc["k", "vif"])
    assert "intercept" in vif.loc["k", "note"]
    assert not vif.loc[["a", "b", "c", "d"], "collinear"].any()


@pytest.mark.parametrize("tol", [1e-12, 1e-3])
def test_tolerance_is_a_parameter(tol):
    assert Collinearity(tol=tol).get_params() == {"tol": tol}
