"""The whole behavioural study in one call: what predicts reaching the cheese."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from behavstats.results import NAN, Result, quantity_row
from behavstats.stats.collinearity import Collinearity
from behavstats.stats.dataset import LABEL, design_matrix, select_decision_mazes
from behavstats.stats.l1 import L1LogisticStudy
from behavstats.stats.logit import LogitInference
from behavstats.stats.selection import FeatureSelection
from behavstats.stats.signs import SignStability
from behavstats.stats.single import SingleFeatureAccuracy

PUBLISHED_MODEL = ("euc_cheese_dsq", "steps_cheese_dsq", "euc_cheese_tr", "euc_dsq_tr5")
"""The four features of the published L1 fit, refitted on the study's episodes so that
its accuracy and coefficients stand beside the published ones."""
KEY_FEATURES = PUBLISHED_MODEL[:3]
"""The three predictive features whose VIFs the published study gave (1.05 / 4.64 /
4.66); the VIFs of all 16 metrics are far larger, as the metrics nearly repeat each
other."""
SELECTION_SPLITS = 20
"""Most splits the feature selection uses. Its comparisons get the corrected resampled
t interval, whose width goes as sqrt(1/J + n_test/n_train): with 20 splits it is only
about 5% wider than with 50, for 40% of the selection's cost (its hundreds of refits
are the largest part of the study's time)."""


@dataclass(frozen=True, eq=False)
class StudyResult(Result):
    """Everything `run_study` measured; the tables are those of the estimators.

    accuracy: one row per model ("all features", and "published model" when the
        features include `PUBLISHED_MODEL`): model plus the keys of
        `L1LogisticStudy.accuracy_` (n, n_features, n_splits, test_size, n_train,
        n_test, C, baseline, accuracy_mean / _ci_low / _ci_high, gain_*, reference_C,
        reference_accuracy_*, interval).
    coefficients: `L1LogisticStudy.coefficients_`.
    single_feature: `SingleFeatureAccuracy.table_`.
    correlation, vif: `Collinearity.correlation_` (indexed by feature), `.vif_`.
    selection: `FeatureSelection.steps_`.
    sign_stability: `SignStability.table_`.
    logit: `LogitInference.table_` (on the selected features).
    published_model: `L1LogisticStudy.coefficients_` of the fit on `PUBLISHED_MODEL`
        alone; None when the features lack one of them.
    key_vif: `Collinearity.vif_` of `KEY_FEATURES` alone; None likewise.
    params: n_table (rows given), require_dsq and exclude_cheese_in_tr5 (which
        published filters were applied), features, selected and adds_accuracy (of
        `FeatureSelection`), selection_splits, collinear_relations, seed, n_subsets,
        n_bootstrap.
    """

    accuracy: pd.DataFrame
    coefficients: pd.DataFrame
    single_feature: pd.DataFrame
    correlation: pd.DataFrame
    vif: pd.DataFrame
    selection: pd.DataFrame
    sign_stability: pd.DataFrame
    logit: pd.DataFrame
    published_model: pd.DataFrame | None
    key_vif: pd.DataFrame | None
    params: dict
    topic = "regression"

    def _rows(self) -> list[dict]:
        rows = []
        for r in self.accuracy.itertuples():
            rows += [quantity_row("accuracy", r.model, r.accuracy_mean, r.accuracy_ci_low,
                                  r.accuracy_ci_high, r.n),
                     quantity_row("baseline", r.model, r.baseline, n=r.n)]
        fits = [("all features", self.coefficients), ("published model", self.published_model)]
        rows += [quantity_row("coefficient", f"{model}: {r.feature}", r.coef_mean, r.ci_low,
                              r.ci_high) for model, table in fits if table is not None
                 for r in table.itertuples()]
        rows += [quantity_row("single_feature_accuracy", r.feature, r.accuracy_mean, r.ci_low,
                              r.ci_high) for r in self.single_feature.itertuples()]
        vifs = [("all features", self.vif), ("key features", self.key_vif)]
        rows += [quantity_row("vif", f"{model}: {r.feature}", r.vif)
                 for model, table in vifs if table is not None for r in table.itertuples()]
        pair = ("steps_cheese_dsq", "euc_cheese_dsq")
        if set(pair) <= set(self.correlation.columns):
            rows.append(quantity_row("correlation", " ~ ".join(pair),
                                     self.correlation.loc[pair[0], pair[1]]))
        rows += [quantity_row("sign_flip_share", r.feature,
                              min(r.n_pos, r.n_neg) / r.n_included if r.n_included else NAN,
                              n=r.n_included) for r in self.sign_stability.itertuples()]
        return rows

    def figures(self) -> dict[str, Callable[[], Any]]:
        from behavstats.plots import stats as plots  # matplotlib only when drawing

        return {"coefficients": lambda: plots.plot_coefficients(self.coefficients),
                "correlation": lambda: plots.plot_correlation(self.correlation),
                "sign_stability": lambda: plots.plot_sign_stability(self.sign_stability)}


def run_study(table: pd.DataFrame, features: Sequence[str] | None = None, *,
              n_splits: int = 50, test_size: float = 0.2, seed: int = 0,
              n_subsets: int = 200, n_bootstrap: int = 1000,
              progress: bool = False) -> StudyResult:
    """Run the study on `table` (a `reached_cheese` column plus feature columns;
    default features: the 16 published metrics).

    When the table has `has_dsq` / `cheese_in_tr5` columns (an episodes table), the
    published filter is applied first (`select_decision_mazes`); a table without them
    is taken as already filtered. Then: collinearity, the L1 fit (choosing C), single
    feature accuracies, feature selection (on at most `SELECTION_SPLITS` of the
    splits) and sign stability at that C, and the unregularised Logit on the selected
    features; when the features include them, the published four-feature model and
    the VIFs of its three key features. All parts with the same seed share the same
    splits. Raises StudyDataError for a table the study cannot use.
    """
    if features is None:
        from behavstats.features import PUBLISHED_FEATURES  # pulls in procgen: import late

        features = PUBLISHED_FEATURES
    features = list(features)
    filters = {"require_dsq": "has_dsq" in table.columns,
               "exclude_cheese_in_tr5": "cheese_in_tr5" in table.columns}
    selected_rows = select_decision_mazes(table, **filters)
    X, y = design_matrix(selected_rows, features, LABEL)
    common = {"n_splits": n_splits, "test_size": test_size, "seed": seed}
    published = set(PUBLISHED_MODEL) <= set(features)
    with tqdm(total=3, desc="regress", disable=not progress) as bar:
        bar.set_postfix_str("collinearity")
        collinearity = Collinearity().fit(X)
        bar.update()
        bar.set_postfix_str("L1 fit")
        l1 = L1LogisticStudy(**common).fit(X, y)
        bar.update()
        bar.set_postfix_str("selection, signs, single features, logit")
        # independent and deterministic: two halves of the work in two processes (not
        # threads, see `L1LogisticStudy`), each fitting one model at a time
        (selection, logit), (single, signs, published_fit, key_vif) = Parallel(
                n_jobs=2, backend="loky")([
            delayed(_selection_and_logit)(X, y, l1.C_, common, n_bootstrap),
            delayed(_singles_and_signs)(X, y, l1.C_, common, n_subsets, published)])
        bar.update()
    params = {"n_table": len(table), **filters, "features": features,
              "selected": selection.selected_, "adds_accuracy": selection.adds_accuracy_,
              "selection_splits": selection.n_splits,
              "collinear_relations": collinearity.relations_, "seed": seed,
              "n_subsets": n_subsets, "n_bootstrap": n_bootstrap}
    accuracy = [{"model": "all features", **l1.accuracy_}]
    if published:
        accuracy.append({"model": "published model", **published_fit.accuracy_})
    return StudyResult(accuracy=pd.DataFrame(accuracy), coefficients=l1.coefficients_,
                       single_feature=single.table_, correlation=collinearity.correlation_,
                       vif=collinearity.vif_, selection=selection.steps_,
                       sign_stability=signs.table_, logit=logit.table_,
                       published_model=published_fit.coefficients_ if published else None,
                       key_vif=key_vif, params=params)


def _selection_and_logit(X: pd.DataFrame, y: np.ndarray, C: float, common: dict,
                         n_bootstrap: int) -> tuple[FeatureSelection, LogitInference]:
    """Feature selection (on at most `SELECTION_SPLITS` splits) and the unregularised
    Logit on the features it selects."""
    selection = FeatureSelection(C=C, **{
        **common, "n_splits": min(common["n_splits"], SELECTION_SPLITS)}).fit(X, y)
    logit = LogitInference(n_bootstrap=n_bootstrap, seed=common["seed"]).fit(
        X[selection.selected_], y)
    return selection, logit


def _singles_and_signs(X: pd.DataFrame, y: np.ndarray, C: float, common: dict,
                       n_subsets: int, published: bool) -> tuple:
    """Single-feature accuracies, sign stability and, when the features include it, the
    published four-feature model's fit and its key features' VIFs (else None)."""
    single = SingleFeatureAccuracy(C=C, **common).fit(X, y)
    signs = SignStability(C=C, n_subsets=n_subsets, seed=common["seed"]).fit(X, y)
    if not published:
        return single, signs, None, None
    return (single, signs,
            L1LogisticStudy(**common, n_jobs=1).fit(X[list(PUBLISHED_MODEL)], y),
            Collinearity().fit(X[list(KEY_FEATURES)]).vif_)
