"""Sign stability of L1 coefficients across random feature subsets.

A coefficient whose sign depends on which other features are in the model, or on
the sample, says little about the feature itself. Each random subset is fitted on
its own bootstrap resample of the rows (z-scored on that resample; no validation
rows are involved), so both the company a feature keeps and the sample vary: a pure
noise feature then shows both signs, while a feature with a real effect keeps its
sign. Positive, negative and zero (pruned by L1) coefficients are counted
separately, and every rate is per subset that included the feature, not per subset
drawn.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.preprocessing import StandardScaler

from behavstats.seeding import Purpose, stream
from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import l1_logistic


class SignStability(BaseEstimator):
    """Fit the L1 model on `n_subsets` seeded random feature subsets (size uniform in
    1..n_features, then features uniform without replacement), each on a bootstrap
    resample, and count signs.

    Attributes
    ----------
    subsets_ : DataFrame, one row per (subset, included feature): subset, n_features
        (subset size), feature, coef (per standard deviation).
    table_ : DataFrame, one row per feature: feature, n_included, n_pos, n_neg, n_zero,
        pos_rate, neg_rate, zero_rate (each count / n_included) and flip_rate (the
        minority sign's count / n_included: 0 when the sign never flips; NaN when the
        feature was never drawn).
    """

    def __init__(self, C: float = 1.0, n_subsets: int = 200, seed: int = 0):
        self.C = C
        self.n_subsets = n_subsets
        self.seed = seed

    def fit(self, X: pd.DataFrame | np.ndarray, y: Sequence | np.ndarray) -> "SignStability":
        """Fit every subset; returns self."""
        X, y = check_design(X, y)
        names = np.array(X.columns, dtype=object)
        self.feature_names_in_ = names
        values = X.to_numpy()
        draw = stream(self.seed, Purpose.SUBSETS)
        records = []
        for subset in range(self.n_subsets):
            size = int(draw.integers(1, len(names) + 1))
            columns = np.sort(draw.choice(len(names), size=size, replace=False))
            # A bootstrap resample as its distinct rows weighted by their counts: the
            # same scaling and the same L1 objective, fitted on ~63% of the rows.
            drawn, counts = np.unique(draw.integers(0, len(y), len(y)), return_counts=True)
            sample = values[np.ix_(drawn, columns)]
            z = StandardScaler().fit(sample, sample_weight=counts).transform(sample)
            model = l1_logistic(self.C, self.seed).fit(z, y[drawn], sample_weight=counts)
            records.extend({"subset": subset, "n_features": size, "feature": names[c],
                         "coef": float(b)}
                        for c, b in zip(columns, model.coef_[0], strict=True))
        self.subsets_ = pd.DataFrame(records, columns=["subset", "n_features", "feature", "coef"])
        self.table_ = sign_table(self.subsets_, names)
        return self


def sign_table(subsets: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """Per-feature sign counts and rates of a long (feature, coef) table; see
    `SignStability.table_` for the columns."""
    coef = subsets.groupby("feature")["coef"]
    counts = pd.DataFrame({"n_included": coef.size(),
                           "n_pos": coef.agg(lambda c: int((c > 0).sum())),
                           "n_neg": coef.agg(lambda c: int((c < 0).sum())),
                           "n_zero": coef.agg(lambda c: int((c == 0).sum()))})
    table = counts.reindex(list(features), fill_value=0).astype("int64")
    included = table["n_included"].where(table["n_included"] > 0)
    for sign in ("pos", "neg", "zero"):
        table[f"{sign}_rate"] = table[f"n_{sign}"] / included
    table["flip_rate"] = np.minimum(table["n_pos"], table["n_neg"]) / included
    return table.rename_axis("feature").reset_index()
