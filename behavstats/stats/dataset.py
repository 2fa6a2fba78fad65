"""The data set of the study: which episodes enter it and the checked (X, y) design.

The published regression used the mazes that have a decision square and whose cheese
lies outside the top-right 5 x 5 region (elsewhere the agent need not choose, or the
cheese is where it goes anyway); the label is `reached_cheese`.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from behavstats.stats.errors import StudyDataError
from behavstats.vocabulary import LABEL, decision_mazes, missing_flags

MIN_ROWS = 40
"""Fewest rows the study accepts (repeated 80/20 splits and 5-fold CV need them)."""
MIN_PER_CLASS = 10
"""Fewest rows of each label value (every split and fold needs both classes)."""


def select_decision_mazes(episodes: pd.DataFrame, require_dsq: bool = True,
                          exclude_cheese_in_tr5: bool = True) -> pd.DataFrame:
    """The episodes of the published filter (`vocabulary.decision_mazes`): with a
    decision square (`has_dsq`) and the cheese outside the top-right 5x5
    (`cheese_in_tr5` False); each filter can be switched off. Unknown (NA) flags count
    as no decision square / cheese in tr5. Returns the kept rows with their original
    index; StudyDataError when the table lacks a flag the filter needs."""
    missing = missing_flags(episodes, require_dsq, exclude_cheese_in_tr5)
    if missing:
        raise StudyDataError(
            f"the episodes table lacks column(s) {missing}; build it with the rollout "
            "engine (which adds the maze features) or switch the filter off "
            "(require_dsq=False / exclude_cheese_in_tr5=False)")
    return decision_mazes(episodes, require_dsq, exclude_cheese_in_tr5)


def design_matrix(table: pd.DataFrame, features: Sequence[str],
                  label: str = LABEL) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature columns (float) and the 0/1 label of `table`, checked for the study.

    Raises StudyDataError naming the problem: missing or repeated columns, non-numeric
    or missing feature values, a label that is not boolean, too few rows, one class.
    """
    features = list(features)
    repeated = sorted({f for f in features if features.count(f) > 1})
    if repeated:
        raise StudyDataError(f"feature(s) {repeated} are listed more than once")
    if not features:
        raise StudyDataError("no features given: pass at least one feature column")
    missing = [c for c in [label, *features] if c not in table.columns]
    if missing:
        raise StudyDataError(
            f"the table lacks column(s) {missing}; it needs a {label!r} column and the "
            f"feature columns (choose them with features=[...] / --features a,b,c); it "
            f"has {list(table.columns)}")
    return check_design(table[features], table[label].to_numpy())


def check_design(X: pd.DataFrame | np.ndarray,
                 y: Sequence | np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """`X` as a float DataFrame (array columns are named x0, x1, ...) and `y` as 0/1
    ints, after the checks of `design_matrix` that need no table."""
    X = check_features(X)
    y = _binary_label(y)
    if len(y) != len(X):
        raise StudyDataError(f"X has {len(X)} rows but the label has {len(y)}")
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        raise StudyDataError(
            f"the label has only one value ({int(counts.argmax())} in all {len(y)} rows); "
            "predicting it needs episodes that reached the cheese and episodes that did "
            "not: collect more episodes or loosen the filter")
    if len(y) < MIN_ROWS or counts.min() < MIN_PER_CLASS:
        raise StudyDataError(
            f"too few rows: {len(y)} ({counts[1]} reached the cheese, {counts[0]} did not); "
            f"the study needs at least {MIN_ROWS} rows and {MIN_PER_CLASS} of each outcome: "
            "collect more episodes")
    return X, y


def check_features(X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """`X` as a float DataFrame of finite values (array columns are named x0, x1, ...);
    raises StudyDataError for non-numeric, missing or infinite values."""
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise StudyDataError(f"X must be 2-dimensional, got shape {X.shape}")
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    non_numeric = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c])
                                                or pd.api.types.is_bool_dtype(X[c]))]
    if non_numeric:
        raise StudyDataError(f"feature column(s) {non_numeric} are not numeric")
    X = X.astype("float64")
    values = X.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        columns = [c for c, b in zip(X.columns, bad.any(axis=0), strict=True) if b]
        raise StudyDataError(
            f"{int(bad.any(axis=1).sum())} row(s) have missing or infinite values in "
            f"{columns}; decision-square features are NaN in mazes without a decision "
            "square, so filter the table with select_decision_mazes(...) or drop those "
            "rows first")
    return X


def _binary_label(y: Sequence | np.ndarray) -> np.ndarray:
    """The label as 0/1 ints; raises StudyDataError unless it is boolean or 0/1."""
    series = pd.Series(np.asarray(y))
    if series.isna().any():
        raise StudyDataError(f"the label has {int(series.isna().sum())} missing value(s); "
                             "drop those episodes first")
    if not set(series.unique()) <= {0, 1}:
        raise StudyDataError(f"the label must be boolean or 0/1; it has values "
                             f"{sorted(map(str, series.unique()))[:5]}")
    return series.astype("int64").to_numpy()
