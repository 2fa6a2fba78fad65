"""Feature selection as published: drop-one, keep, check each is needed, add-one.

The published procedure (Peli's footnote): fit all features; refit without each
feature and keep those whose removal loses accuracy; refit on the kept ones (as good
as all?); drop each kept feature in turn to check it is needed; add each unused
feature to check none adds accuracy. Here every comparison is paired on the same
seeded splits and called a loss (or gain) only when the 95% corrected resampled t
interval of the per-split accuracy difference lies above `min_delta`.

Two gaps of the published recipe are closed: when no feature is needed on its own
(every one has a substitute, e.g. Euclidean and taxicab versions of one distance),
the check starts from all features; and a kept feature that turns out not to be
needed is removed (the least useful first) and the check repeated, so the selected
features are each needed given the others.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import fit_on_splits
from behavstats.stats.intervals import corrected_t_interval
from behavstats.stats.splits import Split, standardised_splits


class FeatureSelection(BaseEstimator):
    """Select the features the L1 logistic model needs, reporting every step.

    Attributes
    ----------
    selected_ : list of str, the selected features (in the order of X's columns).
    adds_accuracy_ : list of str, unused features that would still add accuracy
        (empty when the selection is complete, as the published one was).
    steps_ : DataFrame, one row per fitted comparison: step ("full", "drop_one",
        "kept", "check", "selected", "add_one"), round (of the check), feature (the
        feature dropped or added; empty for whole-model rows), n_features (of the model
        scored in accuracy_mean), accuracy_mean, delta_mean, delta_ci_low,
        delta_ci_high and decision. For drop_one/check rows delta is the accuracy with
        the feature minus without it (positive: the feature helps); for add_one rows
        the accuracy with it minus the selected model's; for kept/selected rows the
        model's accuracy minus the full model's.
    """

    def __init__(self, C: float = 1.0, n_splits: int = 50, test_size: float = 0.2,
                 min_delta: float = 0.0, seed: int = 0):
        self.C = C
        self.n_splits = n_splits
        self.test_size = test_size
        self.min_delta = min_delta
        self.seed = seed

    def fit(self, X: pd.DataFrame | np.ndarray, y: Sequence | np.ndarray) -> "FeatureSelection":
        """Run the selection; returns self."""
        X, y = check_design(X, y)
        names = list(X.columns)
        self.feature_names_in_ = np.array(names, dtype=object)
        splits = standardised_splits(X.to_numpy(), y, self.n_splits, self.test_size,
                                     self.seed)
        score = _Scorer(splits, self.C, self.seed)
        rows: list[dict] = []

        def record(step: str, model: list[int], diff: np.ndarray, feature: str = "",
                   decision: str = "", round_: int = 0) -> bool:
            mean, low, high = score.interval(diff)
            rows.append({"step": step, "round": round_, "feature": feature,
                         "n_features": len(model), "accuracy_mean": score(model).mean(),
                         "delta_mean": mean, "delta_ci_low": low, "delta_ci_high": high,
                         "decision": decision})
            return low > self.min_delta

        full = list(range(len(names)))
        record("full", full, np.zeros(len(splits)))
        kept = []
        for j in full:
            without = [i for i in full if i != j]
            if record("drop_one", without, score(full) - score(without), names[j]):
                kept.append(j)
            rows[-1]["decision"] = "keep" if j in kept else "drop"
        note = ""
        if not kept:
            kept, note = full, "no feature is needed alone: the check starts from all"
        record("kept", kept, score(kept) - score(full), decision=note)

        current, round_ = kept, 1
        while current:
            losses = {}
            for j in current:
                without = [i for i in current if i != j]
                needed = record("check", without, score(current) - score(without), names[j],
                                round_=round_)
                rows[-1]["decision"] = "needed" if needed else "not needed"
                losses[j] = (needed, rows[-1]["delta_mean"])
            unneeded = [j for j, (needed, _) in losses.items() if not needed]
            if not unneeded:
                break
            weakest = min(unneeded, key=lambda j: losses[j][1])
            for row in rows[-len(current):]:
                if row["feature"] == names[weakest]:
                    row["decision"] = "not needed: removed"
            current = [j for j in current if j != weakest]
            round_ += 1
        record("selected", current, score(current) - score(full))

        self.adds_accuracy_ = []
        for j in full:
            if j in current:
                continue
            added = sorted([*current, j])
            if record("add_one", added, score(added) - score(current), names[j]):
                self.adds_accuracy_.append(names[j])
            rows[-1]["decision"] = "adds accuracy" if names[j] in self.adds_accuracy_ \
                else "no gain"
        self.selected_ = [names[j] for j in current]
        self.steps_ = pd.DataFrame(rows)
        return self


class _Scorer:
    """Per-split validation accuracies of feature sets, each fitted once."""

    def __init__(self, splits: list[Split], C: float, seed: int):
        self.splits, self.C, self.seed = splits, C, seed
        self.n_train, self.n_test = len(splits[0].train), len(splits[0].test)
        self.baseline = np.array([s.baseline for s in splits])
        self.cache: dict[tuple[int, ...], np.ndarray] = {}

    def __call__(self, columns: list[int]) -> np.ndarray:
        key = tuple(sorted(columns))
        if not key:  # no feature: the majority prediction
            return self.baseline
        if key not in self.cache:
            self.cache[key] = fit_on_splits(self.splits, key, self.C, self.seed).accuracy
        return self.cache[key]

    def interval(self, diff: np.ndarray) -> tuple[float, float, float]:
        return corrected_t_interval(diff, self.n_train, self.n_test)
