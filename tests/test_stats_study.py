"""run_study + StudyResult.write end to end, as `behavstats regress` calls them."""


import numpy as np
import pandas as pd
import pytest

from behavstats.errors import UserError
from behavstats.features import PUBLISHED_FEATURES
from behavstats.stats import StudyDataError, StudyResult, run_study, select_decision_mazes
from behavstats.stats.synthetic import PUBLISHED_COEFFICIENTS, synthetic_episodes

FILES = {"params.json", "summary.parquet", "accuracy.parquet", "coefficients.parquet",
         "single_feature.parquet",
         "correlation.parquet", "vif.parquet", "selection.parquet", "sign_stability.parquet",
         "logit.parquet", "published_model.parquet", "key_vif.parquet", "coefficients.png",
         "correlation.png", "sign_stability.png", "stability.parquet", "stable.parquet",
         "l1_path.parquet", "calibration.parquet", "published_logit.parquet",
         "split.parquet", "model_scores.png", "stability.png", "l1_path.png",
         "calibration.png"}
REQUIRED_COLUMNS = {
    "coefficients": ["feature", "coef_mean", "ci_low", "ci_high"],
    "accuracy": ["model", "rows", "log_loss_mean", "log_loss_ci_low", "log_loss_ci_high",
                 "brier_mean", "auc_mean", "auc_ci_low", "auc_ci_high", "accuracy_mean",
                 "baseline"],
    "single_feature": ["feature", "accuracy_mean", "ci_low", "ci_high", "baseline",
                       "log_loss_mean", "log_loss_ci_low", "log_loss_ci_high", "p_value",
                       "q_value"],
    "vif": ["feature", "vif", "collinear", "note"],
    "selection": ["step", "feature", "accuracy_mean", "log_loss_mean", "delta_mean",
                  "decision"],
    "stability": ["feature", "C", "selection_probability"],
    "stable": ["feature", "max_probability", "selected"],
    "split": ["level", "half"],
    "sign_stability": ["feature", "n_included", "n_pos", "n_neg", "n_zero"],
    "logit": ["term", "coef", "std_err", "p_value", "ci_low", "ci_high", "odds_ratio",
              "or_ci_low", "or_ci_high", "boot_ci_low", "boot_ci_high", "fitted_on"],
}
SMALL = {"n_splits": 4, "n_subsets": 30, "n_bootstrap": 30, "n_pairs": 5}


@pytest.fixture(scope="module")
def episodes():
    return synthetic_episodes(1500, seed=3)


@pytest.fixture(scope="module")
def result(episodes):
    return run_study(episodes, **SMALL, seed=1, progress=True)


def _fit(result, model: str = "all features", rows: str = "all") -> pd.Series:
    return result.accuracy.set_index(["model", "rows"]).loc[(model, rows)]


def test_study_on_an_episodes_table_applies_the_published_filter(result, episodes):
    accuracy, params = _fit(result), result.params
    assert accuracy["n"] == len(select_decision_mazes(episodes)) < params["n_table"] == 1500
    assert params["require_dsq"] is True and params["exclude_cheese_in_tr5"] is True
    assert params["features"] == list(PUBLISHED_FEATURES)
    assert accuracy["accuracy_ci_low"] > accuracy["baseline"]
    assert params["collinear_relations"] == [
        "steps_cheese_tr = 1*steps_cheese_dsq + 1*steps_dsq_tr"]
    assert list(result.logit["term"]) == ["const", *params["selected"]]
    assert len(result.coefficients) == len(result.vif) == len(result.sign_stability) == 16


def test_write_study_writes_exactly_the_promised_files(result, tmp_path):
    out = tmp_path / "nested" / "study"
    result.write(out)
    assert {p.name for p in out.iterdir()} == FILES  # no temporary files left behind
    saved = StudyResult.load(out)
    assert saved == result
    for key in ("baseline", "accuracy_mean", "accuracy_ci_low", "accuracy_ci_high", "C", "n"):
        assert _fit(saved)[key] == pytest.approx(_fit(result)[key])
    for name, columns in REQUIRED_COLUMNS.items():
        table = getattr(saved, name)
        assert set(columns) <= set(table.columns)
        assert len(table) == len(getattr(result, name))
    coefficients = saved.coefficients
    assert list(coefficients.columns[:4]) == ["feature", "coef_mean", "ci_low", "ci_high"]
    signs = saved.sign_stability
    assert list(signs.columns[:5]) == ["feature", "n_included", "n_pos", "n_neg", "n_zero"]
    vif = saved.vif.set_index("feature")
    assert vif.loc["steps_cheese_tr", "collinear"] and np.isinf(vif.loc["steps_cheese_tr",
                                                                         "vif"])
    for name in ("coefficients.png", "correlation.png", "sign_stability.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    result.write(out)  # overwriting an existing study works
    assert {p.name for p in out.iterdir()} == FILES


def test_prefiltered_table_with_chosen_features_and_true_model(tmp_path):
    table = select_decision_mazes(synthetic_episodes(2500, seed=8))
    table = table[[*PUBLISHED_COEFFICIENTS, "reached_cheese"]]
    result = run_study(table, list(PUBLISHED_COEFFICIENTS), **SMALL)
    assert result.params["require_dsq"] is False
    assert result.params["exclude_cheese_in_tr5"] is False
    assert _fit(result)["n"] == len(table)
    coefficients = result.coefficients.set_index("feature")["coef_mean"]
    signs = np.sign([PUBLISHED_COEFFICIENTS[f] for f in coefficients.index])
    assert (np.sign(coefficients) == signs).all()
    result.write(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == FILES


def test_published_model_recovers_the_coefficients_it_was_drawn_from(tmp_path):
    """Synthetic labels follow the published four-feature model: its refit finds those
    coefficients (per SD) and the key VIFs are those of the three key features alone."""
    from behavstats.stats import Collinearity
    from behavstats.stats.study import KEY_FEATURES, PUBLISHED_MODEL

    assert set(PUBLISHED_MODEL) == set(PUBLISHED_COEFFICIENTS)
    episodes = synthetic_episodes(8000, seed=5)
    result = run_study(episodes, **SMALL)
    fitted = result.published_model.set_index("feature")["coef_mean"]
    assert list(fitted.index) == list(PUBLISHED_MODEL)
    for feature, true in PUBLISHED_COEFFICIENTS.items():
        assert fitted[feature] == pytest.approx(true, abs=0.35), feature
    published = _fit(result, "published model")
    assert published["n_features"] == 4 and published["n"] == _fit(result)["n"]
    assert published["accuracy_ci_low"] > published["baseline"]
    X = select_decision_mazes(episodes)[list(KEY_FEATURES)]
    expected = Collinearity().fit(X).vif_
    pd.testing.assert_frame_equal(result.key_vif, expected)
    # without one of the four features there is no published model, and no stale file
    result.write(tmp_path)
    others = [f for f in PUBLISHED_FEATURES if f != "euc_dsq_tr5"]
    partial = run_study(episodes, others, **SMALL)
    assert partial.published_model is None
    assert set(partial.accuracy["model"]) <= {"all features", "selected features",
                                              "stable features"}
    partial.write(tmp_path)
    assert not (tmp_path / "published_model.parquet").exists()
    assert not (tmp_path / "key_vif.parquet").exists()
    assert StudyResult.load(tmp_path) == partial


def _tiny(n: int, label) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "w": rng.normal(size=n),
                         "reached_cheese": label})


@pytest.mark.parametrize(("table", "message"), [
    (_tiny(200, True), "only one value"),
    (_tiny(30, np.arange(30) % 2 == 0), "too few rows"),
    (_tiny(200, True).drop(columns="reached_cheese"), "lacks column"),
    (_tiny(200, np.arange(200) % 2 == 0).assign(x=np.nan), "select_decision_mazes"),
])
def test_unusable_tables_raise_study_data_errors(table, message):
    with pytest.raises(StudyDataError, match=message):
        run_study(table, ["x", "w"], **SMALL)


def test_perfect_separation_is_a_clear_error_not_a_traceback():
    table = _tiny(300, False)
    table["reached_cheese"] = table["x"] > 0
    with pytest.raises(StudyDataError, match="separated"):
        run_study(table, ["x", "w"], **SMALL)


def test_coefficient_plot_draws_a_mean_outside_its_split_range():
    """L1 zeroes a weak feature in most splits: its mean then lies outside the 2.5-97.5%
    range of the splits (seen on the default agent's 10,000 episodes); the figure shows
    both as they are instead of failing on negative error bars."""
    from behavstats.plots.stats import plot_coefficients

    table = pd.DataFrame({"feature": ["strong", "weak"], "coef_mean": [1.0, 0.02],
                          "ci_low": [0.8, 0.0], "ci_high": [1.2, 0.0]})
    ax = plot_coefficients(table)
    ranges, means = ax.collections[:2]  # the split ranges, then the means drawn apart
    assert np.asarray(means.get_offsets())[:, 0].tolist() == [1.0, 0.02]
    segments = ranges.get_segments()
    assert [tuple(s[:, 0]) for s in segments] == [(0.8, 1.2), (0.0, 0.0)]


def test_same_data_inference_reproduces_the_published_procedure_only_when_named(episodes):
    """The default infers on the half the selection never saw (its levels written in
    split); inference="same_data" selects and infers on all rows and says so."""
    split = run_study(episodes, **SMALL, seed=1)
    halves = split.split["half"].value_counts()
    assert abs(halves["selection"] - halves["inference"]) <= 1
    assert set(split.split["level"]) == set(select_decision_mazes(episodes)["level"])
    assert (split.logit["fitted_on"] == "inference half").all()
    assert split.params["n_selection"] + split.params["n_inference"] == _fit(split)["n"]
    same = run_study(episodes, **SMALL, seed=1, inference="same_data")
    assert same.split is None and (same.logit["fitted_on"] == "same rows as the selection").all()
    assert same.params["n_selection"] == same.params["n_inference"] == _fit(same)["n"]
    with pytest.raises(UserError, match="inference must be one of"):
        run_study(episodes, **SMALL, inference="both")
    with pytest.raises(UserError, match="threshold must be in"):
        run_study(episodes, **SMALL, threshold=0.5)
