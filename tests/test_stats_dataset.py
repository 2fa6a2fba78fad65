"""The study's data set: the published filter and the checks with clear messages."""

import numpy as np
import pandas as pd
import pytest

from behavstats.stats import StudyDataError, design_matrix, select_decision_mazes
from behavstats.stats.dataset import MIN_PER_CLASS, MIN_ROWS, check_design


def _episodes() -> pd.DataFrame:
    return pd.DataFrame({
        "level": [0, 1, 2, 3, 4],
        "has_dsq": pd.array([True, True, False, True, None], dtype="boolean"),
        "cheese_in_tr5": [False, True, False, False, False],
        "reached_cheese": [True, False, True, False, True],
        "f": [1.0, 2.0, np.nan, 4.0, np.nan]})


def test_published_filter_keeps_decision_mazes_with_cheese_outside_tr5():
    kept = select_decision_mazes(_episodes())
    assert list(kept["level"]) == [0, 3]  # 1: cheese in tr5; 2: no dsq; 4: unknown dsq


def test_each_filter_can_be_switched_off():
    episodes = _episodes()
    assert list(select_decision_mazes(episodes, exclude_cheese_in_tr5=False)["level"]) == [0, 1, 3]
    assert list(select_decision_mazes(episodes, require_dsq=False)["level"]) == [0, 2, 3, 4]
    assert len(select_decision_mazes(episodes.drop(columns=["has_dsq", "cheese_in_tr5"]),
                                     require_dsq=False, exclude_cheese_in_tr5=False)) == 5


def test_filter_names_missing_columns():
    with pytest.raises(StudyDataError, match="has_dsq"):
        select_decision_mazes(_episodes().drop(columns="has_dsq"))


def _table(n: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 9, n),
                         "reached_cheese": np.arange(n) % 3 > 0})


def test_design_matrix_returns_float_features_and_int_label():
    X, y = design_matrix(_table(), ["a", "b"])
    assert list(X.columns) == ["a", "b"] and (X.dtypes == "float64").all()
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.drop(columns="b"), r"lacks column\(s\) \['b'\]"),
    (lambda t: t.drop(columns="reached_cheese"), "reached_cheese"),
    (lambda t: t.assign(a=np.where(np.arange(len(t)) < 3, np.nan, t["a"])),
     "3 row.*select_decision_mazes"),
    (lambda t: t.assign(a=np.inf), "infinite"),
    (lambda t: t.assign(b="x"), "not numeric"),
    (lambda t: t.assign(reached_cheese=True), "only one value"),
    (lambda t: t.assign(reached_cheese=np.arange(len(t)) % 3), "boolean or 0/1"),
    (lambda t: t.assign(reached_cheese=pd.array([None] + [True] * (len(t) - 1),
                                                dtype="boolean")), "missing"),
    (lambda t: t.iloc[: MIN_ROWS - 1], f"too few rows: {MIN_ROWS - 1}"),
    (lambda t: t.assign(reached_cheese=np.arange(len(t)) < MIN_PER_CLASS - 1),
     "too few rows.*9 reached the cheese"),
])
def test_bad_tables_raise_clear_errors(change, message):
    with pytest.raises(StudyDataError, match=message):
        design_matrix(change(_table()), ["a", "b"])


def test_repeated_or_no_features_are_rejected():
    with pytest.raises(StudyDataError, match="more than once"):
        design_matrix(_table(), ["a", "a"])
    with pytest.raises(StudyDataError, match="no features"):
        design_matrix(_table(), [])


def test_arrays_get_column_names():
    X, y = check_design(np.ones((60, 2)), np.arange(60) % 2)
    assert list(X.columns) == ["x0", "x1"]
