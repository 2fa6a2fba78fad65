"""Correlation matrix and variance inflation factors, naming exact linear relations.

In a tree maze steps(cheese, tr) = steps(cheese, dsq) + steps(dsq, tr) exactly, so
those columns have an infinite VIF. Instead of printing a bare inf (or statsmodels'
round-off number like 4.5e15), exact relations are found from the null space of the
standardised design and written out in the features' own units.
"""

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import linalg
from sklearn.base import BaseEstimator
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from behavstats.stats.dataset import check_features


class Collinearity(BaseEstimator):
    """Pearson correlations and VIFs of the feature columns.

    VIF is statsmodels' `variance_inflation_factor` on `sm.add_constant(X)` (without
    the constant, the auxiliary regressions have no intercept and the numbers are
    wrong), skipping the constant's own row. A feature is exactly collinear when it
    enters a linear relation among the features (plus a constant): a singular value
    of the z-scored design, divided by sqrt(n), below `tol` (an auxiliary R^2 within
    about tol^2 of 1; well above float round-off, far below any real data). A constant
    column is collinear with the intercept.

    Attributes
    ----------
    correlation_ : DataFrame, feature x feature Pearson correlations.
    relations_ : list of str, each exact linear relation, e.g.
        "steps_cheese_tr = 1*steps_cheese_dsq + 1*steps_dsq_tr".
    vif_ : DataFrame, one row per feature: feature, vif (inf when collinear), r2 (of the
        feature on all others and a constant; 1 when collinear), collinear (bool), note
        (the relation(s) the feature is in; empty otherwise).
    """

    def __init__(self, tol: float = 1e-6):
        self.tol = tol

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> "Collinearity":
        """Compute correlations, relations and VIFs of `X` (y is ignored); returns self."""
        X = check_features(X)
        names = list(X.columns)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.correlation_ = X.corr()
        notes = self._relations(X)
        exog = sm.add_constant(X.to_numpy(), has_constant="add")
        rows = []
        with warnings.catch_warnings():
            if self.relations_:  # reported above; statsmodels' warnings would only repeat it
                warnings.filterwarnings("ignore", "The design matrix is poorly conditioned")
                warnings.simplefilter("ignore", SingularMatrixWarning)
            for j, name in enumerate(names):
                collinear = bool(notes[name])
                vif = np.inf if collinear else float(variance_inflation_factor(exog, j + 1))
                rows.append({"feature": name, "vif": vif, "r2": 1.0 - 1.0 / vif,
                             "collinear": collinear, "note": "; ".join(notes[name])})
        self.vif_ = pd.DataFrame(rows)
        return self

    def _relations(self, X: pd.DataFrame) -> dict[str, list[str]]:
        """Set `relations_`; return, per feature, the relations it enters."""
        notes: dict[str, list[str]] = {name: [] for name in X.columns}
        mean, scale = X.mean().to_numpy(), X.std(ddof=0).to_numpy()
        constant = scale == 0
        self.relations_ = []
        for name in X.columns[constant]:
            self.relations_.append(f"{name} = {X[name].iloc[0]:.6g} (constant)")
            notes[name].append(f"constant: collinear with the intercept ({self.relations_[-1]})")
        varying = np.flatnonzero(~constant)
        z = (X.to_numpy()[:, varying] - mean[varying]) / scale[varying] / np.sqrt(len(X))
        _, singular, vt = linalg.svd(z, full_matrices=False)
        null = vt[singular < self.tol]
        if len(null) == 0:
            return notes
        # Reduced echelon form of the null space: one relation per pivot feature, each
        # involving as few features as the relations allow.
        pivots = linalg.qr(null, mode="r", pivoting=True)[1][: len(null)]
        weights = linalg.solve(null[:, pivots], null)
        weights[np.abs(weights) < 1e-9] = 0.0
        names = X.columns[varying]
        for row, pivot in zip(weights, pivots, strict=True):
            # sum_c w_c (x_c - m_c) / s_c = 0, solved for the pivot feature.
            members = np.flatnonzero(row)
            others = [c for c in members if c != pivot]
            slopes = -row * scale[varying][pivot] / scale[varying]
            offset = mean[varying][pivot] - sum(slopes[c] * mean[varying][c] for c in others)
            relation = _format_relation(names[pivot], [(slopes[c], names[c]) for c in others],
                                        offset, scale[varying][pivot])
            self.relations_.append(relation)
            for c in members:
                notes[names[c]].append(f"exactly collinear: {relation}")
        return notes


def _format_relation(target: str, terms: list[tuple[float, str]], offset: float,
                     scale: float) -> str:
    """'target = a*x + b*y + c', dropping an offset that is round-off."""
    parts = [(a, f"{abs(a):.4g}*{name}") for a, name in terms]
    if abs(offset) > 1e-9 * max(scale, 1.0) or not parts:
        parts.append((offset, f"{abs(offset):.4g}"))
    text = ("-" if parts[0][0] < 0 else "") + parts[0][1]
    for value, part in parts[1:]:
        text += f" {'-' if value < 0 else '+'} {part}"
    return f"{target} = {text}"

