"""Calibration: do the model's predicted probabilities match the observed rates?

Every row gets a held-out probability by cross-fitting (each of `n_folds` stratified
folds predicted by the model fitted, standardised and all, on the other folds), and the
rows are binned by that probability into bins of equal count. A calibrated model's
bins lie on the diagonal: of the mazes where it predicts 30%, the agent goes to the
cheese in about 30%. Log-loss and Brier score reward this; accuracy at 0.5 does not
see it.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.proportion import proportion_confint

from behavstats.seeding import Purpose, random_state
from behavstats.stats.dataset import check_design
from behavstats.stats.fitting import COEF_TOL, l1_logistic

N_BINS = 10
N_FOLDS = 5
CALIBRATION_COLUMNS = ("bin", "n", "predicted_mean", "observed", "ci_low", "ci_high")


def cross_fitted_probabilities(X: pd.DataFrame | np.ndarray, y: Sequence | np.ndarray,
                               C: float, n_folds: int = N_FOLDS, seed: int = 0) -> np.ndarray:
    """Each row's P(label) from the L1 model (at C) fitted on the folds without it."""
    X, y = check_design(X, y)
    model = make_pipeline(StandardScaler(), l1_logistic(C, seed, COEF_TOL))
    folds = StratifiedKFold(n_folds, shuffle=True,
                            random_state=random_state(seed, Purpose.CALIBRATION_FOLDS))
    return cross_val_predict(model, X.to_numpy(), y, cv=folds, method="predict_proba")[:, 1]


def reliability_table(y: Sequence | np.ndarray, p: Sequence | np.ndarray,
                      n_bins: int = N_BINS) -> pd.DataFrame:
    """`CALIBRATION_COLUMNS`, one row per bin of equal count (rows ordered by their
    probability, ties by position): the bin's number, rows, mean predicted
    probability, observed rate of the label and its 95% Wilson interval."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), n_bins, labels=False)
    table = frame.groupby("bin").agg(n=("y", "size"), predicted_mean=("p", "mean"),
                                     observed=("y", "mean"), hits=("y", "sum")).reset_index()
    low, high = proportion_confint(table["hits"], table["n"], method="wilson")
    return table.assign(ci_low=low, ci_high=high)[list(CALIBRATION_COLUMNS)]
