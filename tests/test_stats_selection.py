"""Feature selection: the published drop-one / check / add-one steps, on known truth."""

import numpy as np
import pandas as pd
import pytest

from behavstats.stats import FeatureSelection
from behavstats.stats.synthetic import synthetic_logistic

STEP_COLUMNS = ["step", "round", "feature", "n_features", "log_loss_mean", "accuracy_mean",
                "delta_mean", "delta_ci_low", "delta_ci_high", "decision"]


@pytest.fixture(scope="module")
def independent():
    table = synthetic_logistic(1500, {"a": 2.0, "b": -1.5, "c": 0.9}, n_noise=3, seed=4)
    return table.drop(columns=["reached_cheese", "p_cheese"]), table["reached_cheese"]


def test_selects_exactly_the_true_features_by_the_published_steps(independent):
    X, y = independent
    selection = FeatureSelection(n_splits=6, seed=1).fit(X, y)
    assert selection.selected_ == ["a", "b", "c"]
    assert selection.still_improving_ == selection.adds_accuracy_ == []  # the old name too
    steps = selection.steps_
    assert list(steps.columns) == STEP_COLUMNS
    drop_one = steps[steps["step"] == "drop_one"].set_index("feature")
    assert list(drop_one.index) == list(X.columns)
    assert list(drop_one["decision"]) == ["keep"] * 3 + ["drop"] * 3
    assert (drop_one.loc[["a", "b", "c"], "delta_ci_low"] > 0).all()
    check = steps[steps["step"] == "check"]
    assert list(check["feature"]) == ["a", "b", "c"] and (check["decision"] == "needed").all()
    add_one = steps[steps["step"] == "add_one"]
    assert sorted(add_one["feature"]) == ["noise0", "noise1", "noise2"]
    assert (add_one["decision"] == "no gain").all() and (add_one["n_features"] == 4).all()
    kept = steps[steps["step"] == "kept"].iloc[0]
    assert kept["n_features"] == 3
    assert kept["delta_ci_low"] < 0 < kept["delta_ci_high"]  # as good as all features


def test_near_duplicate_features_do_not_lose_the_factor():
    """Dropping one of two substitutes loses nothing, so the published first step keeps
    neither; the search must still end with one of them."""
    rng = np.random.default_rng(9)
    table = synthetic_logistic(1200, {"a": 2.0, "b": -1.5}, n_noise=1, seed=9)
    X = table.drop(columns=["reached_cheese", "p_cheese"])
    X["a_copy"] = X["a"] + 1e-3 * X["a"].std() * rng.standard_normal(len(X))
    selection = FeatureSelection(n_splits=6, seed=2).fit(X, table["reached_cheese"])
    drop_one = selection.steps_[selection.steps_["step"] == "drop_one"].set_index("feature")
    assert drop_one.loc["a", "decision"] == drop_one.loc["a_copy", "decision"] == "drop"
    assert "b" in selection.selected_ and "noise0" not in selection.selected_
    assert len({"a", "a_copy"} & set(selection.selected_)) == 1


def test_kept_feature_useless_without_its_partner_is_removed_then_readded():
    """y depends on s = x1 - (10/9) x2, which is independent of x1: x1 is needed in the
    full model (x2 or its copy x3 present) but useless alone, so the check removes it,
    and the search adds it back once x2 (or x3) is in."""
    rng = np.random.default_rng(6)
    n = 2000
    common = 3 * rng.standard_normal(n)
    x1, x2 = common + rng.standard_normal(n), common + rng.standard_normal(n)
    signal = x1 - 10 / 9 * x2
    y = rng.random(n) < 1 / (1 + np.exp(-1.5 * signal))
    X = pd.DataFrame({"x1": x1, "x2": x2, "x3": x2 + 1e-3 * rng.standard_normal(n),
                      "k": rng.standard_normal(n)})
    selection = FeatureSelection(n_splits=6, seed=2).fit(X, y)
    steps = selection.steps_
    removed = steps[steps["decision"] == "not needed: removed"]
    assert list(removed["feature"]) == ["x1"] and list(removed["step"]) == ["check"]
    assert "x1" in selection.selected_ and len(selection.selected_) == 2
    assert len({"x2", "x3"} & set(selection.selected_)) == 1
    assert selection.still_improving_ == []
    assert steps["round"].iloc[-1] == 3  # {x1} -> {} -> {x2|x3} -> {x1, x2|x3}


def test_min_delta_raises_the_bar():
    table = synthetic_logistic(1500, {"a": 2.0, "weak": 0.6}, seed=5)
    X, y = table[["a", "weak"]], table["reached_cheese"]
    strict = FeatureSelection(n_splits=6, min_delta=0.05, seed=3).fit(X, y)
    assert strict.selected_ == ["a"]
    assert (strict.steps_.loc[strict.steps_["feature"] == "a", "delta_ci_low"] > 0.05).all()


def test_the_selection_is_completed_until_all_features_predict_no_better():
    """Six weak features (0.2 per SD) beside a strong one: single additions gain too
    little to be significant, yet together they matter; the completing steps add the
    best of them until the model of all features is no longer significantly better."""
    table = synthetic_logistic(4000, {**{f"w{i}": 0.2 for i in range(6)}, "a": 1.0},
                               n_noise=2, seed=1)
    X, y = table.drop(columns=["reached_cheese", "p_cheese"]), table["reached_cheese"]
    selection = FeatureSelection(n_splits=12, seed=1).fit(X, y)
    steps = selection.steps_
    completing = steps[steps["step"] == "complete"]
    added = completing.loc[completing["decision"].str.startswith("added"), "feature"]
    assert len(added) >= 1 and all(f.startswith("w") for f in added)
    assert set(added) <= set(selection.selected_)
    first = completing[completing["round"] == completing["round"].min()]
    assert not (first["decision"] == "improves log-loss").any()  # none significant alone
    final = steps.iloc[-1]
    assert final["step"] == "selected" and final["delta_ci_high"] >= 0  # as good as all
    assert not {"noise0", "noise1"} & set(selection.selected_)
