"""95% intervals for quantities measured over repeated train/validation splits.

Repeated random splits share most of their training rows, so their accuracies are
correlated and the naive t interval (s / sqrt(J)) is far too narrow. The mean of a
held-out score gets the corrected resampled t interval of Nadeau & Bengio (2003),
which inflates the variance to s^2 (1/J + n_test/n_train). Coefficients get the
spread across splits (2.5th to 97.5th percentile), which says how much a fit moves
from split to split; the bootstrap of `LogitInference` gives their sampling interval.
"""

import numpy as np
from scipy import stats


def corrected_t_interval(values: np.ndarray, n_train: int, n_test: int,
                         level: float = 0.95) -> tuple[float, float, float]:
    """Mean of per-split scores (or paired score differences) and the corrected
    resampled t interval around it; the interval is NaN with fewer than two splits."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    variance = values.var(ddof=1) * (1 / len(values) + n_test / n_train)
    half = stats.t.ppf(0.5 + level / 2, df=len(values) - 1) * np.sqrt(variance)
    return mean, float(mean - half), float(mean + half)


def corrected_t_test(values: np.ndarray, n_train: int, n_test: int) -> float:
    """One-sided p-value of "the mean of the per-split differences is > 0" under the
    same corrected variance (Nadeau & Bengio's corrected resampled t test); NaN with
    fewer than two splits, 1 when every difference is 0 (no evidence)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    variance = values.var(ddof=1) * (1 / len(values) + n_test / n_train)
    if variance == 0:
        return 1.0 if values.mean() <= 0 else 0.0
    return float(stats.t.sf(values.mean() / np.sqrt(variance), df=len(values) - 1))


def percentile_interval(values: np.ndarray, level: float = 0.95,
                        axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` range of `values` along `axis` (low, high)."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail], axis=axis)
    return low, high
