"""L1 logistic study: recovery of known coefficients, near-Bayes accuracy, no leaks."""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from behavstats.seeding import Purpose, random_state
from behavstats.stats import L1LogisticStudy
from behavstats.stats.fitting import INTERCEPT_SCALING
from behavstats.stats.intervals import corrected_t_interval, percentile_interval
from behavstats.stats.synthetic import synthetic_logistic

TRUE = {"strong_pos": 1.5, "strong_neg": -1.2, "weak_pos": 0.5}


@pytest.fixture(scope="module")
def data():
    table = synthetic_logistic(2000, TRUE, intercept=0.6, n_noise=3, seed=11)
    X = table.drop(columns=["reached_cheese", "p_cheese"])
    return X, table["reached_cheese"].to_numpy(), table["p_cheese"].to_numpy()


@pytest.fixture(scope="module")
def study(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning / deprecated scikit-learn usage
        return L1LogisticStudy(n_splits=8, seed=3).fit(X, y)


def test_recovers_signs_with_intervals_excluding_zero(study):
    coefficients = study.coefficients_.set_index("feature")
    for feature, beta in TRUE.items():
        row = coefficients.loc[feature]
        assert np.sign(row["coef_mean"]) == np.sign(beta)
        assert row["ci_low"] > 0 if beta > 0 else row["ci_high"] < 0
        assert abs(row["coef_mean"] - beta) < 0.25  # per-SD scale: standardised features
    noise = coefficients.loc[["noise0", "noise1", "noise2"], "coef_mean"]
    assert (noise.abs() < 0.15).all()


def test_accuracy_is_near_bayes_and_beats_the_baseline(study, data):
    _, y, p = data
    bayes = np.mean([np.maximum(p[s.test], 1 - p[s.test]).mean() for s in study.splits_])
    accuracy = study.accuracy_
    assert bayes - 0.02 < accuracy["accuracy_mean"] < bayes + 0.02
    assert accuracy["accuracy_ci_low"] < accuracy["accuracy_mean"] < accuracy["accuracy_ci_high"]
    assert accuracy["gain_ci_low"] > 0.1
    majority = max(y.mean(), 1 - y.mean())
    assert accuracy["baseline"] == pytest.approx(majority, abs=0.01)
    assert accuracy["n"] == len(y) and accuracy["n_splits"] == 8
    assert accuracy["n_train"] + accuracy["n_test"] == len(y)


def test_every_split_equals_a_pipeline_fitted_on_its_training_rows_only(study, data):
    """Would fail if features were z-scored on all rows before splitting."""
    X, y, _ = data
    values = X.to_numpy()
    per_split = study.split_coefficients_
    for i, split in enumerate(study.splits_):
        assert not set(split.train) & set(split.test)
        assert len(split.train) + len(split.test) == len(y)
        reference = make_pipeline(StandardScaler(), LogisticRegression(
            C=study.C_, l1_ratio=1.0, solver="liblinear", intercept_scaling=INTERCEPT_SCALING,
            random_state=random_state(study.seed, Purpose.SOLVER)))
        reference.fit(values[split.train], y[split.train])
        coef = per_split.loc[per_split["split"] == i, "coef"].to_numpy()
        np.testing.assert_allclose(coef, reference[-1].coef_[0], rtol=1e-6, atol=1e-9)
        accuracy = reference.score(values[split.test], y[split.test])
        assert study.split_scores_.loc[i, "accuracy"] == pytest.approx(accuracy)
        np.testing.assert_allclose(split.mean, values[split.train].mean(axis=0))


def test_validation_rows_do_not_change_the_fit(data):
    """Corrupting the only split's validation rows leaves the model (and C) unchanged;
    standardising, or choosing C, on all rows would change both."""
    X, y, _ = data
    clean = L1LogisticStudy(n_splits=1, seed=5).fit(X, y)
    test = clean.splits_[0].test
    corrupted = X.copy()
    corrupted.iloc[test] = corrupted.iloc[test] * 1000 + 1e4
    dirty = L1LogisticStudy(n_splits=1, seed=5).fit(corrupted, y)
    assert dirty.C_ == clean.C_
    np.testing.assert_array_equal(dirty.split_coefficients_["coef"],
                                  clean.split_coefficients_["coef"])
    assert dirty.split_scores_.loc[0, "accuracy"] < clean.split_scores_.loc[0, "accuracy"]


def test_reference_C_of_one_is_fitted_and_reported(data):
    X, y, _ = data
    study = L1LogisticStudy(n_splits=3, Cs=(0.01,), seed=1).fit(X, y)
    assert study.C_ == 0.01 and study.accuracy_["reference_C"] == 1.0
    # Strong L1 shrinks: the C=1 coefficients are larger in magnitude.
    table = study.coefficients_.set_index("feature")
    assert abs(table.loc["strong_pos", "ref_coef_mean"]) > abs(table.loc["strong_pos",
                                                                          "coef_mean"])
    assert (table["ref_ci_low"] <= table["ref_coef_mean"]).all()


def test_chosen_C_minimises_cross_validated_log_loss(study):
    scores = study.cv_scores_
    assert scores.loc[scores["log_loss_mean"].idxmin(), "C"] == study.C_


def test_same_seed_same_numbers_other_seed_other_splits(data):
    X, y, _ = data
    a = L1LogisticStudy(n_splits=2, seed=7).fit(X, y)
    b = L1LogisticStudy(n_splits=2, seed=7).fit(X, y)
    c = L1LogisticStudy(n_splits=2, seed=8).fit(X, y)
    assert a.accuracy_ == b.accuracy_
    assert not np.array_equal(a.splits_[0].test, c.splits_[0].test)


def test_corrected_interval_matches_scipy_t_with_inflated_variance():
    values = np.array([0.80, 0.82, 0.79, 0.85, 0.81])
    mean, low, high = corrected_t_interval(values, n_train=80, n_test=20)
    scale = np.sqrt(values.var(ddof=1) * (1 / 5 + 20 / 80))
    assert (low, high) == pytest.approx(stats.t.interval(0.95, 4, loc=values.mean(),
                                                         scale=scale))
    assert mean == pytest.approx(values.mean())
    assert np.isnan(corrected_t_interval(values[:1], 80, 20)[1])


def test_percentile_interval_is_the_central_95_percent():
    low, high = percentile_interval(np.arange(1001.0))
    assert (low, high) == pytest.approx((25.0, 975.0))
