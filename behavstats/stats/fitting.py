"""The one model of the study, L1 logistic regression, fitted over standardised splits
and scored on each split's held-out rows by proper scoring rules.

Accuracy at a 0.5 threshold is not a proper scoring rule: a feature that carries real
information can lower it while it sharpens every predicted probability. Models are
therefore compared by log-loss (primary), with the Brier score and ROC AUC beside it;
accuracy stays because the published study reported it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

from behavstats.seeding import Purpose, random_state
from behavstats.stats.intervals import corrected_t_interval
from behavstats.stats.splits import Split

INTERCEPT_SCALING = 10.0
"""liblinear penalises the intercept like a coefficient of a constant feature of this
value; 10 (instead of 1) makes that penalty ten times weaker, so strong
regularisation does not drag predictions towards 50/50."""


COEF_TOL = 1e-4
"""Solver tolerance of fits whose coefficients are reported (scikit-learn's default).
The maze features come in near-duplicate groups (Euclidean, taxicab and step versions
of one distance; r up to 0.99), along which the L1 objective is nearly flat, so
coefficients need a tight tolerance and each such fit is slow."""
SCORE_TOL = 1e-3
"""Solver tolerance of fits that are only scored (choosing C, single features,
feature selection): about 10x faster on the 16 features, and its predictions agree
with the exact optimum's on more than 99.5% of rows, while its coefficients within a
near-duplicate group can be off by more than 1."""
SCORES = ("log_loss", "brier", "auc", "accuracy")
"""Held-out scores of every fit, the primary (log-loss) first. Lower is better for
log-loss and Brier, higher for AUC and accuracy."""
PROBABILITY_FLOOR = 1e-15
"""Predicted probabilities are clipped to [floor, 1 - floor] for the log-loss, as
scikit-learn's `log_loss` does, so a confident miss costs a large but finite loss."""


def l1_logistic(C: float, seed: int = 0, tol: float = COEF_TOL) -> LogisticRegression:
    """An unfitted L1 logistic regression (scikit-learn >= 1.8 spelling: l1_ratio=1,
    no `penalty=`), solved by liblinear (the fastest scikit-learn L1 solver for a few
    thousand rows and <= 16 features; deterministic given the seed)."""
    return LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", tol=tol,
                              intercept_scaling=INTERCEPT_SCALING,
                              random_state=random_state(seed, Purpose.SOLVER))


def held_out_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """`SCORES` of predicted probabilities `p` of the label `y` (0/1): mean log-loss,
    Brier score, ROC AUC (0.5 for constant predictions, NaN with one class) and accuracy
    at 0.5. The same numbers as scikit-learn's `log_loss`, `brier_score_loss`,
    `roc_auc_score` and `accuracy_score`, computed directly because the selection scores
    thousands of fits and scikit-learn's input checks cost 5 ms per split."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    clipped = np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    positives = y == 1
    n_pos = int(positives.sum())
    n_neg = len(y) - n_pos
    if n_pos and n_neg:  # Mann-Whitney: the share of (positive, negative) pairs ranked right
        ranks = rankdata(p)
        auc = (ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    else:
        auc = np.nan
    return {"log_loss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))),
            "brier": float(np.mean((p - y) ** 2)), "auc": float(auc),
            "accuracy": float(np.mean((p > 0.5) == positives))}


@dataclass(frozen=True)
class SplitFits:
    """Per-split results of one feature set: its held-out `SCORES` (`scores[name]`, one
    value per split), those of the prior (the training rows' rate of the label predicted
    for every row: the no-feature model) in `prior[name]`, and the coefficients
    (standardised features; shape n_splits x n_columns)."""

    scores: dict[str, np.ndarray]
    prior: dict[str, np.ndarray]
    coef: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        return self.scores["accuracy"]

    @property
    def baseline(self) -> np.ndarray:
        """The majority baseline's accuracy per split (the prior's accuracy)."""
        return self.prior["accuracy"]


def fit_on_splits(splits: Sequence[Split], columns: Sequence[int], C: float,
                  seed: int = 0, tol: float = COEF_TOL) -> SplitFits:
    """Fit the L1 model on the training part of every split using `columns` of the
    standardised features, and score it on that split's validation part (no columns:
    the prior alone)."""
    columns = list(columns)
    scores, prior, coef = [], [], []
    for split in splits:
        rate = np.full(len(split.y_test), split.y_train.mean())
        prior.append(held_out_scores(split.y_test, rate))
        if not columns:
            scores.append(prior[-1])
            coef.append(np.empty(0))
            continue
        model = l1_logistic(C, seed, tol).fit(split.z_train[:, columns], split.y_train)
        scores.append(held_out_scores(split.y_test,
                                      model.predict_proba(split.z_test[:, columns])[:, 1]))
        coef.append(model.coef_[0])
    return SplitFits({k: np.array([s[k] for s in scores]) for k in SCORES},
                     {k: np.array([s[k] for s in prior]) for k in SCORES}, np.array(coef))


def score_columns(fits: SplitFits, n_train: int, n_test: int) -> dict[str, float]:
    """Each score's mean over the splits with its corrected resampled t interval
    (`<score>_mean`, `_ci_low`, `_ci_high`), and the prior's mean log-loss and Brier
    score (`baseline_log_loss`, `baseline_brier`) beside the majority `baseline`."""
    columns: dict[str, float] = {}
    for name in SCORES:
        interval = corrected_t_interval(fits.scores[name], n_train, n_test)
        columns.update(zip((f"{name}_mean", f"{name}_ci_low", f"{name}_ci_high"), interval,
                           strict=True))
    columns.update(baseline=float(fits.baseline.mean()),
                   baseline_log_loss=float(fits.prior["log_loss"].mean()),
                   baseline_brier=float(fits.prior["brier"].mean()))
    return columns
