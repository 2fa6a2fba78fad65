"""Stability selection: how often each feature is selected when the data change.

Complementary-pairs stability selection (Meinshausen & Bühlmann 2010; Shah & Samworth
2013): the rows are split `n_pairs` times into two disjoint halves (stratified on the
label), and L1 logistic regression is fitted on every half at every C of a grid. A
feature's selection probability at C is the share of the 2 `n_pairs` half-sample fits
that give it a non-zero coefficient; its stability is the largest of those over the
grid's region Λ, and the stable set is the features whose stability reaches the
threshold τ.

The error bound: if q is the mean number of features selected anywhere in Λ by one
half-sample fit, the expected number of falsely selected features is at most
q² / ((2τ - 1) p) for p features (Meinshausen & Bühlmann's Theorem 1, which Shah &
Samworth show holds for complementary pairs under the same conditions; they give
tighter bounds under more). Λ is the longest run of the grid from the strongest
penalty whose q keeps this bound at or below `expected_false`. The bound assumes
that noise features are exchangeable and that the fit is no worse than random
guessing; with near-duplicate features (Euclidean, taxicab and step versions of one
distance) L1 spreads its choices over the duplicates, so a group's members can each
stay below τ where the group as a whole is stable.

Also the L1 regularisation path: coefficients (per SD) of one fit on all rows at
each C of the grid.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.preprocessing import StandardScaler
from sklearn.svm import l1_min_c

from behavstats.errors import UserError
from behavstats.seeding import Purpose, stream
from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import COEF_TOL, INTERCEPT_SCALING, SCORE_TOL, l1_logistic

GRID_DECADES = 3.5
"""The default grid runs from the smallest C at which L1 selects any feature to this
many decades above it (where most of the 16 maze features are in)."""


def check_threshold(threshold: float) -> None:
    """Raise UserError unless the threshold is in (0.5, 1], where the bound holds."""
    if not 0.5 < threshold <= 1:
        raise UserError(f"the stability threshold must be in (0.5, 1] (the error bound "
                        f"needs more than half), got {threshold}")


class StabilitySelection(BaseEstimator):
    """Selection probabilities of every feature over a grid of L1 penalties.

    Parameters: `Cs` (None: `n_Cs` log-spaced values from scikit-learn's `l1_min_c`
    of the standardised data up `GRID_DECADES` decades), `n_pairs` complementary pairs
    of half-samples, the threshold τ in (0.5, 1], `expected_false` (the bound the
    region Λ is chosen to keep) and the seed of the halves.

    Attributes
    ----------
    Cs_ : the grid, ascending (strongest penalty first).
    path_ : DataFrame, one row per feature and C: feature, C, selection_probability,
        in_region (C in Λ).
    table_ : DataFrame, one row per feature: feature, max_probability (over Λ),
        selected (max_probability >= threshold).
    stable_ : list of str, the stable features (in the order of X's columns).
    q_ : mean number of features a half-sample fit selects anywhere in Λ.
    false_selection_bound_ : q_² / ((2τ - 1) p), the bound on the expected number of
        falsely selected features (NaN when Λ is empty: even the strongest penalty
        selects too many).
    region_C_max_ : the largest C of Λ (NaN when empty).
    l1_path_ : DataFrame, one row per feature and C: feature, C, coef (per SD, one fit
        on all rows).
    """

    def __init__(self, Cs: Sequence[float] | None = None, n_Cs: int = 16, n_pairs: int = 50,
                 threshold: float = 0.8, expected_false: float = 1.0, seed: int = 0):
        self.Cs = Cs
        self.n_Cs = n_Cs
        self.n_pairs = n_pairs
        self.threshold = threshold
        self.expected_false = expected_false
        self.seed = seed

    def fit(self, X: pd.DataFrame | np.ndarray,
            y: Sequence | np.ndarray) -> "StabilitySelection":
        """Fit every half at every C; returns self."""
        check_threshold(self.threshold)
        X, y = check_design(X, y)
        names = np.array(X.columns, dtype=object)
        self.feature_names_in_ = names
        values = X.to_numpy()
        z = StandardScaler().fit_transform(values)
        self.Cs_ = np.sort(np.asarray(self.Cs, dtype=float)) if self.Cs is not None else (
            l1_min_c(z, y, loss="log", intercept_scaling=INTERCEPT_SCALING)
            * np.logspace(0, GRID_DECADES, self.n_Cs))
        chosen = self._half_sample_selections(values, y)  # (halves, Cs, features)
        probability = chosen.mean(axis=0)
        # union over the first k Cs of each half's selected set, for every k
        q_by_prefix = np.logical_or.accumulate(chosen, axis=1).sum(axis=2).mean(axis=0)
        p, tau = len(names), self.threshold
        in_region = q_by_prefix ** 2 / ((2 * tau - 1) * p) <= self.expected_false
        in_region = np.logical_and.accumulate(in_region)  # a run from the strongest penalty
        n_region = int(in_region.sum())
        self.q_ = float(q_by_prefix[n_region - 1]) if n_region else float("nan")
        self.false_selection_bound_ = self.q_ ** 2 / ((2 * tau - 1) * p)
        self.region_C_max_ = float(self.Cs_[n_region - 1]) if n_region else float("nan")
        stability = (probability[:n_region].max(axis=0) if n_region
                     else np.zeros(p))
        self.path_ = pd.DataFrame({
            "feature": np.tile(names, len(self.Cs_)), "C": np.repeat(self.Cs_, p),
            "selection_probability": probability.ravel(),
            "in_region": np.repeat(in_region, p)})
        self.table_ = pd.DataFrame({"feature": names, "max_probability": stability,
                                    "selected": stability >= tau})
        self.stable_ = list(names[stability >= tau])
        self.l1_path_ = pd.DataFrame({
            "feature": np.tile(names, len(self.Cs_)), "C": np.repeat(self.Cs_, p),
            "coef": np.concatenate([l1_logistic(C, self.seed, COEF_TOL).fit(z, y).coef_[0]
                                    for C in self.Cs_])})
        return self

    def _half_sample_selections(self, values: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether each half-sample fit selects each feature: (2 n_pairs, Cs, features).
        Each pair splits every class's rows at random into two halves of equal size
        (an odd row out is left out), so both halves keep the label's rate."""
        draw = stream(self.seed, Purpose.STABILITY_HALVES)
        classes = [np.flatnonzero(y == label) for label in (0, 1)]
        chosen = np.zeros((2 * self.n_pairs, len(self.Cs_), values.shape[1]), dtype=bool)
        for pair in range(self.n_pairs):
            shuffled = [draw.permutation(rows) for rows in classes]
            halves = [np.concatenate([rows[h * (len(rows) // 2):(h + 1) * (len(rows) // 2)]
                                      for rows in shuffled]) for h in (0, 1)]
            for h, rows in enumerate(halves):
                z = StandardScaler().fit_transform(values[rows])
                for k, C in enumerate(self.Cs_):
                    coef = l1_logistic(C, self.seed, SCORE_TOL).fit(z, y[rows]).coef_[0]
                    chosen[2 * pair + h, k] = coef != 0
        return chosen
