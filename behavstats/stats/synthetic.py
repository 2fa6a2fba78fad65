"""Synthetic episodes tables with a known answer, for tests and benchmarks.

Cells are drawn at random on a 25 x 25 maze-frame grid; distances follow the
definitions of `behavstats.features` (tr = the top-right cell, tr5 = the nearest cell
of the top-right 5 x 5 region), and path lengths are taxicab distances plus random
even detours, with steps(cheese, tr) = steps(cheese, dsq) + steps(dsq, tr) exactly,
as in a tree maze. In mazes with a decision square the label is drawn from a logistic
model with known coefficients on the z-scored features; elsewhere the agent mostly
reaches the cheese.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from behavstats.seeding import Purpose, stream
from behavstats.vocabulary import CHEESE_IN_TR5, HAS_DSQ, LABEL, TOP_RIGHT_REGION, renamed

PUBLISHED_COEFFICIENTS: dict[str, float] = {
    "euc_cheese_dsq": -0.623, "steps_cheese_dsq": -1.084, "euc_cheese_tr": -2.786,
    "euc_dsq_tr5": 1.326}
"""The published four-feature L1 fit (per SD), used as the default true model."""
MAZE_DIM = 25
__getattr__ = renamed(__name__, {
    "REGION": ("behavstats.vocabulary.TOP_RIGHT_REGION", TOP_RIGHT_REGION)})


def synthetic_episodes(n: int, seed: int = 0,
                       coefficients: Mapping[str, float] = PUBLISHED_COEFFICIENTS,
                       intercept: float = 1.6, dsq_share: float = 0.55) -> pd.DataFrame:
    """An episodes table of `n` rows: level, has_dsq, cheese_in_tr5, reached_cheese, the
    16 published features (decision-square ones NaN without a decision square) and
    p_cheese, the true probability of the label (for the Bayes accuracy)."""
    draw = stream(seed, Purpose.SYNTHETIC)
    top = MAZE_DIM - 1
    cheese = draw.integers(0, MAZE_DIM, size=(n, 2)).astype(float)
    dsq = draw.integers(0, MAZE_DIM, size=(n, 2)).astype(float)
    tr = np.array([top, top], dtype=float)
    has_dsq = draw.random(n) < dsq_share

    def nearest_tr5(cell: np.ndarray) -> np.ndarray:
        return np.maximum(cell, top - TOP_RIGHT_REGION + 1)

    table = {"level": np.arange(n), HAS_DSQ: has_dsq,
             CHEESE_IN_TR5: np.all(cheese >= top - TOP_RIGHT_REGION + 1, axis=1)}
    ends = {"cheese_dsq": (cheese, dsq), "cheese_tr": (cheese, tr), "dsq_tr": (dsq, tr),
            "cheese_tr5": (cheese, nearest_tr5(cheese)), "dsq_tr5": (dsq, nearest_tr5(dsq))}
    for pair, (a, b) in ends.items():
        table[f"euc_{pair}"] = np.hypot(*(a - b).T)
        table[f"taxi_{pair}"] = np.abs(a - b).sum(axis=1)
    detour = {pair: 2.0 * draw.poisson(lam, n) for pair, lam in
              (("cheese_dsq", 3), ("dsq_tr", 4), ("cheese_tr5", 2), ("dsq_tr5", 2))}
    for pair in ("cheese_dsq", "dsq_tr", "cheese_tr5", "dsq_tr5"):
        table[f"steps_{pair}"] = table[f"taxi_{pair}"] + detour[pair]
    table["steps_cheese_tr"] = table["steps_cheese_dsq"] + table["steps_dsq_tr"]
    table["cheese_norm"] = np.hypot(*cheese.T)
    frame = pd.DataFrame(table)
    for column in frame.columns:
        if "dsq" in column and column != HAS_DSQ:
            frame.loc[~has_dsq, column] = np.nan

    decision = frame.loc[has_dsq]
    logit = np.full(n, intercept)
    for feature, beta in coefficients.items():
        values = decision[feature]
        logit[has_dsq] += beta * (values - values.mean()) / values.std(ddof=0)
    p_cheese = np.where(has_dsq, 1 / (1 + np.exp(-logit)), 0.9)
    frame["p_cheese"] = p_cheese
    frame[LABEL] = draw.random(n) < p_cheese
    return frame


def synthetic_logistic(n: int, coefficients: Mapping[str, float], intercept: float = 0.5,
                       n_noise: int = 0, seed: int = 0) -> pd.DataFrame:
    """A table of independent features with a known logistic model: each named feature
    is normal with a random mean and scale, and enters the log-odds with its
    coefficient per standard deviation; `n_noise` pure-noise features (noise0, ...)
    do not enter. Columns: the features, reached_cheese, p_cheese (true probability)."""
    draw = stream(seed, Purpose.SYNTHETIC)
    names = [*coefficients, *(f"noise{i}" for i in range(n_noise))]
    z = draw.standard_normal((n, len(names)))
    logit = intercept + z[:, : len(coefficients)] @ np.array(list(coefficients.values()))
    frame = pd.DataFrame(draw.uniform(-50, 50, len(names)) + z * draw.uniform(0.1, 20,
                                                                              len(names)),
                         columns=names)
    frame["p_cheese"] = 1 / (1 + np.exp(-logit))
    frame["reached_cheese"] = draw.random(n) < frame["p_cheese"]
    return frame
