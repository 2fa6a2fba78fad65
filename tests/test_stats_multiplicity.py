"""Sign-flip p-values and Benjamini-Hochberg q-values: uniform p-values under the null
(several symmetric distributions, exact small samples and random larger ones), power
under a planted shift, exact and random versions agreeing, q-values as statsmodels
gives them, and the edge cases (NaN, too few values, all zero)."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from behavstats.stats.multiplicity import (
    MAX_EXACT,
    N_PERM,
    bh_qvalues,
    family_row,
    sign_flip_p,
    sign_flip_pvalues,
    with_tests,
)

NULLS = {  # symmetric about 0, from light to heavy tails, one bimodal (up in some
    # mazes, down in others)
    "normal": lambda rng, size: rng.normal(size=size),
    "uniform": lambda rng, size: rng.uniform(-1, 1, size),
    "laplace": lambda rng, size: rng.laplace(size=size),
    "t3": lambda rng, size: rng.standard_t(3, size),
    "bimodal": lambda rng, size: rng.choice([-1, 1], size) * (1 + rng.exponential(size=size)),
}
SIZES = (8, 12, 16, 24, 50)
"""Up to `MAX_EXACT` the test enumerates every sign vector; above, it draws them."""
PER_CELL = 24
"""Tests per distribution and size: 5 x 5 x 24 = 600 null tests in all."""


def _null_pvalues() -> np.ndarray:
    rng = np.random.default_rng(20)
    return np.concatenate([sign_flip_pvalues(draw(rng, (PER_CELL, n)), seed=n)
                           for draw in NULLS.values() for n in SIZES])


def test_null_pvalues_are_uniform():
    """600 null tests: the share below 0.05 lies within [0.03, 0.07] (binomial standard
    error 0.009, so about +-2.2 of them) and the share below 0.5 within [0.43, 0.57].
    The smallest samples enumerate their 2^n sign vectors, whose p-values are
    multiples of 2^-n: at n = 8, P(p <= 0.05) = 12/256 = 0.047."""
    assert MAX_EXACT in SIZES and min(SIZES) <= MAX_EXACT < max(SIZES)
    p = _null_pvalues()
    assert len(p) >= 400 and (p > 0).all() and (p <= 1).all()
    assert 0.03 <= (p < 0.05).mean() <= 0.07
    assert 0.43 <= (p < 0.5).mean() <= 0.57


def test_a_planted_shift_is_found():
    rng = np.random.default_rng(21)
    for n, shift in ((12, 1.5), (30, 0.8), (80, 0.5)):
        p = sign_flip_pvalues(rng.normal(shift, 1, (100, n)), seed=n)
        assert (p < 0.05).mean() > 0.9, n
    p = sign_flip_pvalues(rng.normal(0.8, 1, (100, 30)), greater=True)
    assert (p < 0.05).mean() > 0.95
    assert (sign_flip_pvalues(rng.normal(-0.8, 1, (100, 30)), greater=True) > 0.5).all()


def test_exact_and_random_sign_vectors_agree():
    """At n = 12 and 14 the exact p-value (all 2^n sign vectors) and the one from
    `N_PERM` random vectors differ by the random one's sampling error only (at most
    0.005 standard error; 0.02 is four of them)."""
    rng = np.random.default_rng(22)
    for n in (12, 14):
        values = rng.normal(0.3, 1, (40, n))
        exact = sign_flip_pvalues(values)
        drawn = sign_flip_pvalues(values, max_exact=0)
        assert np.abs(exact - drawn).max() < 0.02
        assert not np.array_equal(exact, drawn)


def test_pvalues_are_valid_seeded_and_one_test_at_a_time():
    rng = np.random.default_rng(23)
    values = rng.normal(size=(5, 40))
    family = sign_flip_pvalues(values, seed=3)
    np.testing.assert_array_equal(family, [sign_flip_p(v, seed=3) for v in values])
    assert not np.array_equal(family, sign_flip_pvalues(values, seed=4))
    assert sign_flip_p(np.full(40, 2.0)) == 1 / (1 + N_PERM)  # never 0
    assert sign_flip_p(np.full(10, 2.0)) == 2 / 2**10  # the identity and its negation
    assert sign_flip_p(np.full(10, 2.0), greater=True) == 1 / 2**10


def test_nans_are_dropped_and_degenerate_samples_say_so():
    values = np.array([0.5, -0.1, np.nan, 0.9, 0.4, np.nan, 0.3])
    assert sign_flip_p(values) == sign_flip_p(values[~np.isnan(values)])
    assert np.isnan(sign_flip_p([np.nan, 0.4]))  # one value: no test
    assert np.isnan(sign_flip_p([]))
    assert np.isnan(sign_flip_p(np.zeros(30)))  # no sign to flip: no test
    assert sign_flip_p([0.0, 0.0, 0.0, 0.5]) == 1.0  # one nonzero value: no evidence
    p = sign_flip_pvalues([[1.0, 2.0, 3.0], [np.nan], np.zeros(20), [np.nan, 0.0, 0.0]])
    assert p[0] == 0.25 and np.isnan(p[1:]).all()


def test_qvalues_are_statsmodels_bh_over_the_tests_made():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    q = bh_qvalues(p)
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, np.nan, 0.16 / 3, 0.5])
    rng = np.random.default_rng(24)
    p = rng.uniform(size=300) ** 3
    p[rng.choice(300, 40, replace=False)] = np.nan
    tested = ~np.isnan(p)
    q = bh_qvalues(p)
    np.testing.assert_array_equal(np.isnan(q), ~tested)
    np.testing.assert_allclose(q[tested], multipletests(p[tested], method="fdr_bh")[1])
    assert np.isnan(bh_qvalues([np.nan, np.nan])).all() and len(bh_qvalues([])) == 0


def test_a_family_table_and_its_summary_row():
    table = with_tests(pd.DataFrame({"test": list("abcd")}), [0.001, 0.02, np.nan, 0.9])
    assert list(table.columns) == ["test", "p_value", "q_value"]
    np.testing.assert_allclose(table["q_value"], [0.003, 0.03, np.nan, 0.9])
    row = family_row("channel x method", table["q_value"])
    assert row["quantity"] == "significant_tests" and row["condition"] == "channel x method"
    assert (row["estimate"], row["n"]) == (2, 3)


@pytest.mark.parametrize("n", [16, 100])
def test_a_family_of_256_tests_is_fast(n):
    """256 tests (128 channels x 2 methods) share their sign vectors: well under a
    second."""
    import time

    values = np.random.default_rng(25).normal(size=(256, n))
    start = time.perf_counter()
    sign_flip_pvalues(values)
    assert time.perf_counter() - start < 2.0
