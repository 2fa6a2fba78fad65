"""Sign stability: perfect for strong features, noisy for noise, rates per inclusion."""

import numpy as np
import pandas as pd
import pytest

from behavstats.stats import SignStability
from behavstats.stats.signs import sign_table
from behavstats.stats.synthetic import synthetic_logistic

TABLE_COLUMNS = ["feature", "n_included", "n_pos", "n_neg", "n_zero", "pos_rate",
                 "neg_rate", "zero_rate", "flip_rate"]


@pytest.fixture(scope="module")
def fitted():
    table = synthetic_logistic(1000, {"pos": 1.5, "neg": -1.5}, n_noise=4, seed=1)
    X = table.drop(columns=["reached_cheese", "p_cheese"])
    return SignStability(n_subsets=60, seed=0).fit(X, table["reached_cheese"]), X, table


def test_strong_features_never_flip_and_noise_features_do(fitted):
    signs = fitted[0].table_.set_index("feature")
    assert signs.loc["pos", "n_pos"] == signs.loc["pos", "n_included"] > 0
    assert signs.loc["neg", "n_neg"] == signs.loc["neg", "n_included"] > 0
    assert (signs.loc[["pos", "neg"], ["flip_rate", "zero_rate"]] == 0).all().all()
    noise = signs.loc[[f"noise{i}" for i in range(4)]]
    assert (noise[["pos_rate", "neg_rate"]].max(axis=1).mean()) < 0.8
    assert (noise["flip_rate"] > 0.1).sum() >= 3


def test_counts_are_per_subset_that_included_the_feature(fitted):
    signs, subsets = fitted[0].table_, fitted[0].subsets_
    assert list(signs.columns) == TABLE_COLUMNS
    included = subsets.groupby("feature").size()
    pd.testing.assert_series_equal(signs.set_index("feature")["n_included"],
                                   included.reindex(signs["feature"]), check_names=False)
    assert signs["n_included"].sum() == len(subsets) < 60 * 6  # not every subset has all
    assert (signs["n_pos"] + signs["n_neg"] + signs["n_zero"] == signs["n_included"]).all()
    np.testing.assert_allclose(signs["pos_rate"] * signs["n_included"], signs["n_pos"])
    assert subsets["subset"].nunique() == 60
    sizes = subsets.groupby("subset")["n_features"].agg(["first", "size"])
    assert (sizes["first"] == sizes["size"]).all()


def test_sign_table_counts_zero_separately_and_handles_absent_features():
    long = pd.DataFrame({"feature": ["a", "a", "a", "a", "b"],
                         "coef": [0.5, 0.2, -0.1, 0.0, 0.3]})
    table = sign_table(long, ["a", "b", "never"]).set_index("feature")
    assert list(table.loc["a", ["n_included", "n_pos", "n_neg", "n_zero"]]) == [4, 2, 1, 1]
    assert table.loc["a", "flip_rate"] == 0.25 and table.loc["a", "zero_rate"] == 0.25
    assert table.loc["b", "flip_rate"] == 0 and table.loc["b", "pos_rate"] == 1
    assert table.loc["never", "n_included"] == 0 and np.isnan(table.loc["never", "flip_rate"])


def test_seeded(fitted):
    _, X, table = fitted
    again = SignStability(n_subsets=60, seed=0).fit(X, table["reached_cheese"])
    pd.testing.assert_frame_equal(again.subsets_, fitted[0].subsets_)
    other = SignStability(n_subsets=60, seed=1).fit(X, table["reached_cheese"])
    assert not other.subsets_["coef"].equals(fitted[0].subsets_["coef"])
