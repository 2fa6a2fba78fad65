"""Effect sizes and their intervals.

- `tv_distance`: total-variation distance between move distributions,
  0.5 * sum |p - q| over the five moves (0 = same, 1 = disjoint), per cell.
- `published_change`: the statistic of the published resampling table,
  ||A - B||_F / n / 2 with A, B the (n, 2) net probability vectors ("arrows",
  p_right - p_left and p_up - p_down) of the n positions of a maze.
- `bootstrap_ci`: percentile bootstrap interval of a statistic (default the mean)
  from a seeded numpy Generator; `mean_ci` / `ratio_ci` / `transfer_change` package it
  into an `Estimate` (`behavstats.vocabulary`: `.row(quantity, condition)` is its
  summary row, `.columns()` its effect-table columns), `estimate_ci` into table
  columns, `change_summary` into a dict of paired statistics whose mean change
  (`estimate`) carries its sign-flip p-value (`stats.multiplicity`), `change_rows` into
  summary rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from behavstats.experiments import N_BOOT
from behavstats.policy import net_vector
from behavstats.seeding import Purpose, stream
from behavstats.stats.multiplicity import sign_flip_p
from behavstats.vocabulary import Estimate, RenamedKeys

LEVEL = 0.95


def tv_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """0.5 * sum |p - q| over the last axis (move probabilities)."""
    return 0.5 * np.abs(np.asarray(p, dtype=float) - np.asarray(q, dtype=float)).sum(axis=-1)


def published_change(p: np.ndarray, q: np.ndarray) -> float:
    """Frobenius norm of the (n, 2) arrow-difference matrix, divided by the number of
    positions n and by 2 (the published resampling statistic)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    return float(np.linalg.norm(net_vector(p) - net_vector(q)) / len(p) / 2)


def bootstrap_ci(values: np.ndarray, *, seed: int = 0, n_boot: int = N_BOOT,
                 level: float = LEVEL, statistic: Callable = np.mean) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(values)` (it must take `axis`);
    NaN values are dropped; (nan, nan) with fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = stream(seed, Purpose.BOOTSTRAP)
    draws = statistic(values[rng.integers(0, len(values), (n_boot, len(values)))], axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def mean_ci(values: np.ndarray, *, seed: int = 0, n_boot: int = N_BOOT) -> Estimate:
    """The mean of the non-NaN values with its bootstrap interval (n: their number)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    low, high = bootstrap_ci(values, seed=seed, n_boot=n_boot)
    mean = float(values.mean()) if len(values) else float("nan")
    return Estimate(mean, low, high, int(len(values)))


def estimate_ci(values: np.ndarray, *, seed: int = 0, n_boot: int = N_BOOT) -> dict:
    """`mean_ci` as the columns of a tidy effect table: estimate, ci_low, ci_high, n."""
    return mean_ci(values, seed=seed, n_boot=n_boot).columns()


def ratio_ci(numerator: np.ndarray, denominator: np.ndarray, *, seed: int = 0,
             n_boot: int = N_BOOT) -> Estimate:
    """The ratio of means, mean(numerator) / mean(denominator), over paired units (e.g.
    levels, n of them) with its bootstrap interval, which resamples units."""
    num, den = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)

    def ratio(draws: np.ndarray, axis: int) -> np.ndarray:
        drawn = draws.astype(int)
        return num[drawn].mean(axis=axis) / den[drawn].mean(axis=axis)

    low, high = bootstrap_ci(np.arange(len(num), dtype=float), seed=seed, n_boot=n_boot,
                             statistic=ratio)
    mean = float(num.mean() / den.mean()) if len(num) else float("nan")
    return Estimate(mean, low, high, len(num))


def change_summary(before: np.ndarray, after: np.ndarray, *, seed: int = 0,
                   n_boot: int = N_BOOT) -> dict:
    """Paired before/after values (one per level): n, medians, shares that fell / rose,
    the largest rise, and the mean change (`estimate`) with its bootstrap interval
    (ci_low, ci_high) and the p-value of a two-sided sign-flip test of no mean change.
    The old key of the mean change, "mean_change", still answers (with a warning)."""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    change = after - before
    if not len(change):
        return RenamedKeys(n=0)
    stats = mean_ci(change, seed=seed, n_boot=n_boot)
    return RenamedKeys(
        n=int(len(change)), median_before=float(np.median(before)),
        median_after=float(np.median(after)), share_decreased=float((change < 0).mean()),
        share_increased=float((change > 0).mean()), max_increase=float(change.max()),
        estimate=stats.estimate, ci_low=stats.ci_low, ci_high=stats.ci_high,
        p_value=sign_flip_p(change, seed=seed))


CHANGE_STATS = ("median_before", "median_after", "share_decreased", "share_increased",
                "max_increase")


def change_rows(metric: str, condition: str, before: np.ndarray, after: np.ndarray, *,
                seed: int = 0, n_boot: int = N_BOOT) -> list[dict]:
    """`change_summary` as summary rows: <metric>_<stat> for `CHANGE_STATS` and
    <metric>_change (the mean change with its interval and p-value, a test on its
    own: no q-value); none without values."""
    s = change_summary(before, after, seed=seed, n_boot=n_boot)
    if not s["n"]:
        return []
    return [*(Estimate(s[k], n=s["n"]).row(f"{metric}_{k}", condition) for k in CHANGE_STATS),
            Estimate(s["estimate"], s["ci_low"], s["ci_high"], s["n"], s["p_value"]
                     ).row(f"{metric}_change", condition)]


def transfer_change(transfer: pd.DataFrame, before: str, after: str, *, seed: int = 0,
                    n_boot: int = N_BOOT) -> Estimate:
    """Transfer rows (one per source level_a and target level_b): `mean_ci` of the
    per-target-level mean of after - before (pairs sharing a target level are not
    independent, so the bootstrap runs over target levels; n: those levels)."""
    change = (transfer[after] - transfer[before]).groupby(transfer["level_b"]).mean()
    return mean_ci(change.to_numpy(), seed=seed, n_boot=n_boot)


def row_means_ci(values: np.ndarray, *, seed: int = 0, n_boot: int = N_BOOT,
                 level: float = LEVEL, chunk: int = 4096) -> pd.DataFrame:
    """`estimate_ci` of every row of `values` (rows, units), NaN where a row has no value
    for a unit, in one vectorised bootstrap: the units (levels) are drawn with
    replacement once per resample, as `bootstrap_ci` draws them, and every row's
    resampled mean is the mean of its values among the units drawn (a weighted sum:
    drawn counts times values). A row with a value for every unit gets exactly
    `estimate_ci`'s interval; a row with gaps resamples the same units, so the rows of
    one table share their draws. Columns estimate, ci_low, ci_high, n (the row's
    values); intervals NaN with fewer than two."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    rows, units = values.shape
    has = ~np.isnan(values)
    n = has.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(n > 0, np.nansum(values, axis=1) / n, np.nan)
    low, high = np.full(rows, np.nan), np.full(rows, np.nan)
    if units >= 2 and (n >= 2).any():
        draws = stream(seed, Purpose.BOOTSTRAP).integers(0, units, (n_boot, units))
        offset = (draws + units * np.arange(n_boot)[:, None]).ravel()
        counts = np.bincount(offset, minlength=n_boot * units).reshape(n_boot, units).T
        filled, tail = np.where(has, values, 0.0), 100 * (1 - level) / 2
        for begin in range(0, rows, chunk):
            part = slice(begin, begin + chunk)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = (filled[part] @ counts) / (has[part] @ counts)
            testable = n[part] >= 2
            if testable.any():
                bounds = np.nanpercentile(means[testable], [tail, 100 - tail], axis=1)
                low[part][testable], high[part][testable] = bounds
    return pd.DataFrame({"estimate": estimate, "ci_low": low, "ci_high": high, "n": n})
