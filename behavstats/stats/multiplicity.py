"""Multiplicity control: a p-value per test, a Benjamini-Hochberg q-value per family.

`sign_flip_pvalues` tests "mean = 0" of paired per-level values (changes, or paired
differences) by flipping their signs: under the null each value is as likely to
have either sign, so the observed |mean| is compared with the |mean| of the values
under sign vectors. With at most `MAX_EXACT` values every one of the 2^n sign vectors
is enumerated (p = share of them whose statistic reaches the observed one, the
identity included); beyond that `n_perm` sign vectors are drawn from
`stream(seed, Purpose.SIGN_FLIPS, n)` and p = (1 + count) / (1 + n_perm). Either way
p is never 0 and P(p <= a) <= a under the null. Every test of n values under one
seed uses the same sign vectors, so a family shares one draw (a standard choice) and
a test's p-value does not depend on the other tests.

NaN values are dropped. No test can be made (p NaN, and so no place in the family)
of fewer than two values, nor of values that are all exactly 0 (e.g. ablating a
channel nothing reads): there is no sign to flip, every sign vector gives the same
statistic. Leaving such a test out of its family rather than counting it with p = 1
keeps Benjamini-Hochberg's false discovery rate: the test compares signs given the
values' sizes, and whether they are all 0 is a matter of their sizes alone, so under
the null the p-values of the tests kept are as valid as before (independent
filtering, Bourgon et al. 2010); counting them would only dilute the family.
Statistics within rounding of the observed one count as reaching it.

`bh_qvalues` gives statsmodels' Benjamini-Hochberg q-values over the non-NaN
p-values (a NaN stays NaN and does not count in the family's size); `with_tests`
adds p_value and q_value to a table whose rows are one family; `family_row` is the
summary row counting a family's tests significant at q <= `ALPHA`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from behavstats.results import quantity_row
from behavstats.seeding import Purpose, stream

N_PERM = 9_999
"""Random sign vectors per test: the smallest p is 1e-4, so Benjamini-Hochberg over
a few hundred tests can still reach q <= 0.05."""
MAX_EXACT = 16
"""Up to this many values, all 2^n sign vectors are enumerated."""
ALPHA = 0.05
"""The q-value (or, for a test outside a family, p-value) called significant."""
BLOCK = 2**20
"""Entries of a sign or statistic block held at a time (bounds the memory)."""
TOLERANCE = 1e-9
"""Relative to sum |values|: statistics this close to the observed one are ties."""
SIGNIFICANT = "significant_tests"
"""The summary quantity of `family_row`."""


def _sign_blocks(n: int, rows: int, seed: int, n_perm: int, max_exact: int
                 ) -> Iterator[np.ndarray]:
    """Blocks of sign vectors (rows of +-1.0) of length n: all 2^n of them when
    n <= max_exact, otherwise n_perm seeded random ones."""
    if n <= max_exact:
        bits = np.arange(n)
        for begin in range(0, 2**n, rows):
            codes = np.arange(begin, min(begin + rows, 2**n))
            yield 1.0 - 2.0 * ((codes[:, None] >> bits) & 1)
        return
    rng = stream(seed, Purpose.SIGN_FLIPS, n)
    for begin in range(0, n_perm, rows):
        yield 1.0 - 2.0 * rng.integers(0, 2, (min(rows, n_perm - begin), n), dtype=np.int8)


def _same_size(values: np.ndarray, seed: int, n_perm: int, max_exact: int,
               greater: bool) -> np.ndarray:
    """p-values of the rows of `values` (tests, n), all tests of n values."""
    tests, n = values.shape
    statistic = (lambda s: s) if greater else np.abs
    observed = statistic(values.sum(axis=1))
    reach = observed - TOLERANCE * np.abs(values).sum(axis=1)
    count = np.zeros(tests)
    for signs in _sign_blocks(n, max(1, BLOCK // max(tests, n)), seed, n_perm, max_exact):
        count += (statistic(values @ signs.T) >= reach[:, None]).sum(axis=1)
    return count / 2.0**n if n <= max_exact else (1 + count) / (1 + n_perm)


def sign_flip_pvalues(samples: Iterable[np.ndarray], *, seed: int = 0, n_perm: int = N_PERM,
                      max_exact: int = MAX_EXACT, greater: bool = False) -> np.ndarray:
    """The sign-flip p-value of each sample (one value per level) for mean = 0
    against mean != 0 (`greater`: against mean > 0, statistic the mean itself);
    NaN for a sample of fewer than two values or of zeros only (module docstring)."""
    clean = [v[~np.isnan(v)] for v in (np.asarray(s, dtype=float).ravel() for s in samples)]
    sizes = np.array([len(v) for v in clean], dtype=int)
    testable = (sizes >= 2) & np.array([bool(v.any()) for v in clean], dtype=bool)
    p = np.full(len(clean), np.nan)
    for n in np.unique(sizes[testable]):
        rows = np.flatnonzero(testable & (sizes == n))
        p[rows] = _same_size(np.stack([clean[i] for i in rows]), seed, n_perm, max_exact,
                             greater)
    return p


def sign_flip_p(values: np.ndarray, **options) -> float:
    """`sign_flip_pvalues` of one sample."""
    return float(sign_flip_pvalues([values], **options)[0])


def bh_qvalues(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (statsmodels' fdr_bh) of the non-NaN p-values, the
    family being those; NaN where p is NaN."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = multipletests(p[tested], method="fdr_bh")[1]
    return q


def with_tests(table: pd.DataFrame, p_values: np.ndarray) -> pd.DataFrame:
    """`table` with columns p_value and q_value, its rows with a p-value being one
    family."""
    return table.assign(p_value=p_values, q_value=bh_qvalues(p_values))


def significant(values: np.ndarray | pd.Series) -> np.ndarray:
    """Which q-values (or p-values) are at most `ALPHA` (NaN: not significant)."""
    return np.asarray(values, dtype=float) <= ALPHA


def family_row(family: str, q_values: np.ndarray | pd.Series) -> dict:
    """The summary row of a family of tests (condition: its name, e.g. 'channel x
    method'): estimate the number significant at q <= `ALPHA`, n the number of tests
    made (q not NaN)."""
    q = np.asarray(q_values, dtype=float)
    return quantity_row(SIGNIFICANT, family, float(significant(q).sum()),
                        n=float((~np.isnan(q)).sum()))
