"""Effect sizes and intervals on hand-computed cases."""

import numpy as np
import pytest

from behavstats.interventions.effects import (
    bootstrap_ci,
    change_summary,
    mean_ci,
    published_change,
    tv_distance,
)

LEFT, DOWN, NOOP, UP, RIGHT = np.eye(5)


def test_tv_distance():
    assert tv_distance(RIGHT, RIGHT) == 0
    assert tv_distance(RIGHT, LEFT) == 1
    p = np.array([0.5, 0.0, 0.0, 0.0, 0.5])
    assert tv_distance(p, RIGHT) == pytest.approx(0.5)
    np.testing.assert_allclose(tv_distance(np.stack([p, UP]), np.stack([RIGHT, UP])), [0.5, 0])


def test_published_statistic_is_frobenius_over_positions_over_two():
    # arrows (p_right - p_left, p_up - p_down): (1, 0) vs (-1, 0) differ by (2, 0)
    assert published_change(np.stack([RIGHT]), np.stack([LEFT])) == pytest.approx(1.0)
    # a second, unchanged position halves it (divided by n = 2)
    assert published_change(np.stack([RIGHT, UP]), np.stack([LEFT, UP])) == pytest.approx(0.5)
    # two changed positions: sqrt(2^2 + 2^2) / 2 / 2
    assert published_change(np.stack([RIGHT, UP]), np.stack([LEFT, DOWN])) == pytest.approx(
        np.sqrt(8) / 4)
    # NOOP moves no arrow, while TV sees the change
    assert published_change(np.stack([NOOP]), np.stack([np.full(5, 0.2)])) == 0
    assert tv_distance(NOOP, np.full(5, 0.2)) == pytest.approx(0.8)


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    values = np.random.default_rng(0).normal(1.0, 1.0, 200)
    low, high = bootstrap_ci(values, seed=3)
    assert (low, high) == bootstrap_ci(values, seed=3)
    assert (low, high) != bootstrap_ci(values, seed=4)
    assert low < values.mean() < high
    # about mean +- 1.96 sd / sqrt(n)
    assert high - low == pytest.approx(2 * 1.96 * values.std() / np.sqrt(200), rel=0.15)
    assert np.isnan(bootstrap_ci(np.array([1.0]))[0])
    stats = mean_ci(np.array([1.0, np.nan, 3.0]), seed=0)
    assert stats.n == 2 and stats.estimate == 2.0
    assert stats.row("q", "c") == {"quantity": "q", "condition": "c", "estimate": 2.0,
                                   "ci_low": stats.ci_low, "ci_high": stats.ci_high, "n": 2,
                                   "p_value": stats.p_value, "q_value": stats.q_value}
    # scripts written for the dict it returned up to version 0.2 still read it, warned
    assert stats["n"] == 2 and stats["ci_low"] == stats.ci_low
    with pytest.warns(DeprecationWarning, match="estimate"):
        assert stats["mean"] == 2.0
    with pytest.raises(KeyError):
        stats["median"]


def test_change_summary_counts():
    before = np.array([0.8, 0.6, 0.5, 0.9])
    after = np.array([0.1, 0.7, 0.5, 0.2])
    s = change_summary(before, after, n_boot=500)
    assert s["n"] == 4
    assert s["share_decreased"] == 0.5 and s["share_increased"] == 0.25
    assert s["max_increase"] == pytest.approx(0.1)
    assert s["median_before"] == pytest.approx(0.7) and s["median_after"] == pytest.approx(0.35)
    assert s["estimate"] == pytest.approx(np.mean(after - before))
    assert s["ci_low"] <= s["estimate"] <= s["ci_high"]
    with pytest.warns(DeprecationWarning, match="'mean_change' is now 'estimate'"):
        assert s["mean_change"] == s["estimate"]
    with pytest.raises(KeyError):
        s["median"]
