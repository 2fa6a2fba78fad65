"""Repeated stratified train/validation splits, each standardised on its training rows,
and the one split of the study's rows into a selection half and an inference half.

The scaler of each split is fitted on that split's training rows only and then
applied to its validation rows, so nothing about the validation rows reaches the
fit (z-scoring the whole table before splitting would leak their mean and spread).
Every model of the study (all features, one feature, drop-one, add-one, random
subsets) is fitted on column subsets of these arrays: standardisation acts column
by column, so a column subset of a standardised split is exactly that subset
standardised, and one split serves every model without refitting the scaler.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from behavstats.seeding import Purpose, random_state


@dataclass(frozen=True)
class Split:
    """One split: row indices, standardised features and labels of both parts, and the
    training means and standard deviations used to standardise both."""

    train: np.ndarray
    test: np.ndarray
    z_train: np.ndarray
    z_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    scale: np.ndarray


def standardised_splits(X: np.ndarray, y: np.ndarray, n_splits: int, test_size: float,
                        seed: int) -> list[Split]:
    """`n_splits` seeded stratified splits of (X, y), `test_size` of the rows held out;
    the same arguments always give the same splits."""
    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=test_size,
                                      random_state=random_state(seed, Purpose.SPLITS))
    splits = []
    for train, test in splitter.split(X, y):
        scaler = StandardScaler().fit(X[train])
        splits.append(Split(train=train, test=test, z_train=scaler.transform(X[train]),
                            z_test=scaler.transform(X[test]), y_train=y[train],
                            y_test=y[test], mean=scaler.mean_, scale=scaler.scale_))
    return splits


def selection_half(y: np.ndarray, seed: int) -> np.ndarray:
    """Which rows are in the selection half (True) rather than the inference half: one
    seeded split, stratified on the label, half each. Whatever chooses (C, features)
    sees only the selection half; p-values and intervals of the chosen model come from
    the inference half, which the choice never saw."""
    rows = np.arange(len(y))
    chosen, _ = train_test_split(rows, test_size=0.5, stratify=y,
                                 random_state=random_state(seed, Purpose.INFERENCE_SPLIT))
    return np.isin(rows, chosen)
