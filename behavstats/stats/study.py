"""The whole behavioural study in one call: what predicts reaching the cheese.

The rows (decision mazes) are split once, stratified on the label, into a selection
half and an inference half. Everything that chooses (the L1 penalty C, the feature
selection steps, stability selection) sees only the selection half; the chosen
model's held-out scores, calibration and unregularised Logit come from the inference
half, which no choice saw, so its p-values and intervals keep their meaning. What
chooses nothing is fitted on all rows: the all-features L1 fit, the published
four-feature model (fixed before these data), single features, collinearity and sign
stability. Models are compared by log-loss (a proper scoring rule), with Brier score,
ROC AUC and accuracy beside it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from behavstats.errors import UserError
from behavstats.experiments import Regression
from behavstats.results import NAN, Result, quantity_row
from behavstats.stats.calibration import (
    CALIBRATION_COLUMNS,
    cross_fitted_probabilities,
    reliability_table,
)
from behavstats.stats.collinearity import Collinearity
from behavstats.stats.dataset import (
    LABEL,
    check_design,
    design_matrix,
    select_decision_mazes,
)
from behavstats.stats.errors import StudyDataError
from behavstats.stats.fitting import SCORE_TOL
from behavstats.stats.intervals import corrected_t_interval
from behavstats.stats.l1 import L1LogisticStudy, choose_C
from behavstats.stats.logit import LogitInference
from behavstats.stats.multiplicity import family_row
from behavstats.stats.selection import FeatureSelection
from behavstats.stats.signs import SignStability
from behavstats.stats.single import SingleFeatureAccuracy
from behavstats.stats.splits import selection_half
from behavstats.stats.stability import StabilitySelection, check_threshold
from behavstats.vocabulary import (
    CHEESE_IN_TR5,
    HAS_DSQ,
    KEY_FEATURES,
    PUBLISHED_FEATURES,
    PUBLISHED_MODEL,
)

# PUBLISHED_MODEL (the four features of the published L1 fit, refitted on the study's
# episodes so that its accuracy and coefficients stand beside the published ones) and
# KEY_FEATURES (the three whose VIFs the published study gave; the VIFs of all 16
# metrics are far larger, as the metrics nearly repeat each other) are the
# vocabulary's, importable from here as before.

SELECTION_SPLITS = 12
"""Most splits the feature selection uses. Its comparisons get the corrected resampled
t interval, whose width goes as sqrt(1/J + n_test/n_train): with 12 splits it is about
10% wider than with 50, for a quarter of the selection's cost (its hundreds of refits
are the largest part of the regression's time)."""
INFERENCE = ("split", "same_data")
"""How the selected model is inferred: "split" (the default) fits it on the inference
half; "same_data" selects and infers on all rows, as the published procedure did (its
p-values are too small: kept only to reproduce the published table)."""
ALL_ROWS, INFERENCE_HALF = "all", "inference half"
SINGLE_FEATURE_FAMILY = "single feature vs prior"
"""The family of the single-feature tests (each feature's log-loss gain over the prior)."""
SCORE_MODELS = ("all features", "selected features", "stable features", "published model")
"""The models scored on the inference half, on the same splits (paired)."""


@dataclass(frozen=True, eq=False)
class StudyResult(Result):
    """Everything `run_study` measured; the tables are those of the estimators.

    accuracy: the model scores, one row per model and row set: model (`SCORE_MODELS`),
        rows ("all": the all-features and published fits on every row; "inference
        half": every model at the selection half's C on the same inference-half
        splits), the keys of `L1LogisticStudy.accuracy_` (n, n_features, n_splits,
        n_train, n_test, C, log_loss_*, brier_*, auc_*, accuracy_*, baseline,
        baseline_log_loss, baseline_brier, gain_*, log_loss_gain_*, reference_*,
        interval) and log_loss_vs_all_mean / _ci_low / _ci_high (the model's log-loss
        minus the all-features model's on the same rows and splits; negative: better).
    coefficients: `L1LogisticStudy.coefficients_` of all features on all rows.
    single_feature: `SingleFeatureAccuracy.table_` (with p_value, q_value).
    correlation, vif: `Collinearity.correlation_` (indexed by feature), `.vif_`.
    selection: `FeatureSelection.steps_` (selection half).
    stability: `StabilitySelection.path_` (selection half).
    stable: `StabilitySelection.table_`.
    l1_path: `StabilitySelection.l1_path_` (coefficients per SD against C).
    calibration: one row per model (selected features, published model) and bin of the
        cross-fitted inference-half predictions: model, `calibration.CALIBRATION_COLUMNS`.
    sign_stability: `SignStability.table_`.
    logit: `LogitInference.table_` of the selected features, with fitted_on (the rows).
    published_logit: `LogitInference.table_` of `PUBLISHED_MODEL` on all rows (with
        fitted_on); None when the features lack one of them.
    split: one row per study row: level (or the table's index), half ("selection" /
        "inference"); None with inference="same_data".
    published_model: `L1LogisticStudy.coefficients_` of the fit on `PUBLISHED_MODEL`
        alone; None when the features lack one of them.
    key_vif: `Collinearity.vif_` of `KEY_FEATURES` alone; None likewise.
    params: the settings (`Regression`, with the features used), n_table (rows given),
        require_dsq and exclude_cheese_in_tr5 (which published filters were applied),
        n_selection, n_inference, C (chosen on the selection half), selected and
        still_improving (of `FeatureSelection`), stable, false_selection_bound,
        stability_q, selection_splits, collinear_relations.
    """

    accuracy: pd.DataFrame
    coefficients: pd.DataFrame
    single_feature: pd.DataFrame
    correlation: pd.DataFrame
    vif: pd.DataFrame
    selection: pd.DataFrame
    stability: pd.DataFrame
    stable: pd.DataFrame
    l1_path: pd.DataFrame
    calibration: pd.DataFrame
    sign_stability: pd.DataFrame
    logit: pd.DataFrame
    published_logit: pd.DataFrame | None
    split: pd.DataFrame | None
    published_model: pd.DataFrame | None
    key_vif: pd.DataFrame | None
    params: dict
    topic = "regression"
    settings_type = Regression

    def _rows(self) -> list[dict]:
        rows = []
        for r in self.accuracy.itertuples():
            model = r.model if r.rows == ALL_ROWS else f"{r.model}, {r.rows}"
            rows += [quantity_row(score, model, getattr(r, f"{score}_mean"),
                                  getattr(r, f"{score}_ci_low"), getattr(r, f"{score}_ci_high"),
                                  r.n) for score in ("log_loss", "auc", "brier", "accuracy")]
            rows += [quantity_row("baseline", model, r.baseline, n=r.n),
                     quantity_row("baseline_log_loss", model, r.baseline_log_loss, n=r.n)]
            if r.model != "all features":
                rows.append(quantity_row("log_loss_vs_all", model, r.log_loss_vs_all_mean,
                                         r.log_loss_vs_all_ci_low, r.log_loss_vs_all_ci_high,
                                         r.n))
        fits = [("all features", self.coefficients), ("published model", self.published_model)]
        rows += [quantity_row("coefficient", f"{model}: {r.feature}", r.coef_mean, r.ci_low,
                              r.ci_high) for model, table in fits if table is not None
                 for r in table.itertuples()]
        logits = [(selected_logit(self.params), self.logit),
                  ("published model (all rows)", self.published_logit)]
        rows += [quantity_row("odds_ratio", f"{model}: {r.term}", r.odds_ratio, r.or_ci_low,
                              r.or_ci_high) for model, table in logits if table is not None
                 for r in table.itertuples() if r.term != "const"]
        for r in self.single_feature.itertuples():
            rows += [quantity_row("single_feature_log_loss", r.feature, r.log_loss_mean,
                                  r.log_loss_ci_low, r.log_loss_ci_high, p_value=r.p_value,
                                  q_value=r.q_value),
                     quantity_row("single_feature_accuracy", r.feature, r.accuracy_mean,
                                  r.ci_low, r.ci_high)]
        rows.append(family_row(SINGLE_FEATURE_FAMILY, self.single_feature["q_value"]))
        rows += [quantity_row("selection_probability", r.feature, r.max_probability)
                 for r in self.stable.itertuples()]
        rows.append(quantity_row("false_selection_bound", "stable features",
                                 self.params["false_selection_bound"]))
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

        threshold = self.params["threshold"]
        return {"coefficients": lambda: plots.plot_coefficients(self.coefficients),
                "correlation": lambda: plots.plot_correlation(self.correlation),
                "sign_stability": lambda: plots.plot_sign_stability(self.sign_stability),
                "model_scores": lambda: plots.plot_model_scores(self.accuracy),
                "stability": lambda: plots.plot_stability_paths(self.stability, threshold),
                "l1_path": lambda: plots.plot_l1_path(self.l1_path),
                "calibration": lambda: plots.plot_calibration(self.calibration)}


def selected_logit(params: dict) -> str:
    """The summary condition prefix of the selected features' Logit rows ('<prefix>:
    <feature>'), naming the rows it was fitted on."""
    return f"selected features ({params.get('inference_rows', INFERENCE_HALF)})"


def run_study(table: pd.DataFrame, features: Sequence[str] | None = None, *,
              progress: bool = False, **settings: Any) -> StudyResult:
    """`Regression(features=features, **settings).fit(table)`."""
    return Regression(features=features, **settings).fit(table, progress=progress)


def compute(settings: Regression, table: pd.DataFrame, *, progress: bool = False
            ) -> StudyResult:
    """The regression (`Regression.fit`) on `table` (a `reached_cheese` column plus
    feature columns; default features: the 16 published metrics).

    When the table has `has_dsq` / `cheese_in_tr5` columns (an episodes table), the
    published filter is applied first (`select_decision_mazes`); a table without them
    is taken as already filtered. The rows are then split into a selection and an
    inference half (module docstring); `inference="same_data"` instead selects and
    infers on all rows, as published (biased: for reproducing the published table
    only). All parts with the same seed share the same splits. Raises StudyDataError
    for a table the study cannot use.
    """
    features, inference, threshold = settings.features, settings.inference, settings.threshold
    n_splits, test_size, seed = settings.n_splits, settings.test_size, settings.seed
    n_subsets, n_bootstrap, n_pairs = settings.n_subsets, settings.n_bootstrap, settings.n_pairs
    if inference not in INFERENCE:
        raise UserError(f"inference must be one of {INFERENCE}, got {inference!r}")
    check_threshold(threshold)
    features = list(PUBLISHED_FEATURES if features is None else features)
    filters = {"require_dsq": HAS_DSQ in table.columns,
               "exclude_cheese_in_tr5": CHEESE_IN_TR5 in table.columns}
    selected_rows = select_decision_mazes(table, **filters)
    X, y = design_matrix(selected_rows, features, LABEL)
    if inference == "split":
        chosen = selection_half(y, seed)
        ids = (selected_rows["level"] if "level" in selected_rows.columns
               else selected_rows.index.to_series()).to_numpy()
        split = pd.DataFrame({"level": ids,
                              "half": np.where(chosen, "selection", "inference")})
        halves = (X[chosen], y[chosen]), (X[~chosen], y[~chosen])
        for name, half in zip(("selection", "inference"), halves, strict=True):
            try:
                check_design(*half)
            except StudyDataError as exc:
                raise StudyDataError(
                    f"the {name} half of the {len(y)} decision mazes is too small for the "
                    f"study ({exc}); collect about twice as many episodes, or pass "
                    "inference='same_data' (--inference same_data) to select and infer on "
                    "all rows as published") from None
    else:
        split, halves = None, ((X, y), (X, y))
    common = {"n_splits": n_splits, "test_size": test_size, "seed": seed}
    published = set(PUBLISHED_MODEL) <= set(features)
    inferring_models = {"all features": features,
                        "published model": list(PUBLISHED_MODEL) if published else []}
    with tqdm(total=2, desc="regress", disable=not progress) as bar:
        bar.set_postfix_str("collinearity, C")
        collinearity = Collinearity().fit(X)
        C, _ = choose_C(halves[0][0].to_numpy(), halves[0][1], seed=seed)
        bar.update()
        bar.set_postfix_str("fits")
        # independent and deterministic: five tasks (longest first) in two processes (not
        # threads, see `L1LogisticStudy`), each fitting one model at a time
        chosen_part, signs, l1, fixed_part, inferring_scores = Parallel(
                n_jobs=2, backend="loky")([
            delayed(_select_and_infer)(*halves, C, common, n_pairs, threshold, n_bootstrap,
                                       published),
            delayed(SignStability(C=C, n_subsets=n_subsets, seed=seed).fit)(X, y),
            delayed(L1LogisticStudy(**common, C=C, n_jobs=1).fit)(X, y),
            delayed(_fixed_models)(X, y, C, common, published),
            delayed(_scores)(*halves[1], inferring_models, C, common)])
        bar.update()
    selection, stability, logit, chosen_scores, calibration = chosen_part
    single, published_fit, published_logit, key_vif = fixed_part
    inference_rows = (INFERENCE_HALF if inference == "split"
                      else "same rows as the selection")
    params = {**settings.to_dict(), "n_table": len(table), **filters, "features": features,
              "inference": inference, "inference_rows": inference_rows,
              "n_selection": len(halves[0][1]), "n_inference": len(halves[1][1]), "C": C,
              "selected": selection.selected_, "still_improving": selection.still_improving_,
              "stable": stability.stable_, "threshold": threshold,
              "false_selection_bound": stability.false_selection_bound_,
              "stability_q": stability.q_, "n_pairs": n_pairs,
              "selection_splits": selection.n_splits,
              "collinear_relations": collinearity.relations_, "seed": seed,
              "n_subsets": n_subsets, "n_bootstrap": n_bootstrap}
    on_all_rows = {"all features": l1} | ({"published model": published_fit} if published
                                          else {})
    by_model = {**inferring_scores, **chosen_scores}
    inference_scores = {name: by_model[name] for name in SCORE_MODELS if name in by_model}
    accuracy = pd.concat([_score_table(on_all_rows, ALL_ROWS),
                          _score_table(inference_scores, inference_rows)], ignore_index=True)
    if published_logit is not None:
        published_logit = published_logit.assign(fitted_on="all rows")
    return StudyResult(accuracy=accuracy, coefficients=l1.coefficients_,
                       single_feature=single.table_, correlation=collinearity.correlation_,
                       vif=collinearity.vif_, selection=selection.steps_,
                       stability=stability.path_, stable=stability.table_,
                       l1_path=stability.l1_path_, calibration=calibration,
                       sign_stability=signs.table_,
                       logit=logit.table_.assign(fitted_on=inference_rows),
                       published_logit=published_logit, split=split,
                       published_model=published_fit.coefficients_ if published else None,
                       key_vif=key_vif, params=params)


def _select_and_infer(selecting: tuple, inferring: tuple, C: float, common: dict,
                      n_pairs: int, threshold: float, n_bootstrap: int,
                      published: bool) -> tuple:
    """On the selection half: feature selection (on at most `SELECTION_SPLITS` splits)
    and stability selection. On the inference half: the Logit of the selected features,
    the held-out scores of the selected and the stable features at C, and the
    calibration of the selected and published models."""
    X, y = selecting
    selection = FeatureSelection(C=C, **{
        **common, "n_splits": min(common["n_splits"], SELECTION_SPLITS)}).fit(X, y)
    stability = StabilitySelection(n_pairs=n_pairs, threshold=threshold,
                                   seed=common["seed"]).fit(X, y)
    X, y = inferring
    logit = LogitInference(n_bootstrap=n_bootstrap, seed=common["seed"]).fit(
        X[selection.selected_], y)
    models = {"selected features": selection.selected_, "stable features": stability.stable_,
              "published model": list(PUBLISHED_MODEL) if published else []}
    scores = _scores(X, y, {name: models[name] for name in ("selected features",
                                                           "stable features")}, C, common)
    calibrated = [name for name in ("selected features", "published model") if models[name]]
    calibration = pd.DataFrame(
        [{"model": name, **row} for name in calibrated
         for row in reliability_table(y, cross_fitted_probabilities(
             X[models[name]], y, C, seed=common["seed"])).to_dict("records")],
        columns=["model", *CALIBRATION_COLUMNS])
    return selection, stability, logit, scores, calibration


def _fixed_models(X: pd.DataFrame, y: np.ndarray, C: float, common: dict,
                  published: bool) -> tuple:
    """On all rows, what no selection chose: single features and, when the features
    include it, the published four-feature model's L1 fit, its Logit (Wald intervals
    only: 5,000 rows and four features are where the normal approximation holds, and its
    bootstrap would be the study's slowest part) and its key features' VIFs (else
    None)."""
    single = SingleFeatureAccuracy(C=C, **common).fit(X, y)
    if not published:
        return single, None, None, None
    features = list(PUBLISHED_MODEL)
    return (single, L1LogisticStudy(**common, n_jobs=1).fit(X[features], y),
            LogitInference(n_bootstrap=0).fit(X[features], y).table_,
            Collinearity().fit(X[list(KEY_FEATURES)]).vif_)


def _scores(X: pd.DataFrame, y: np.ndarray, models: dict[str, list[str]], C: float,
            common: dict) -> dict[str, L1LogisticStudy]:
    """Held-out scores at C of each model (name -> features; none: left out) on the same
    splits of (X, y); only the scores are read, so fits stop at `SCORE_TOL`."""
    return {name: L1LogisticStudy(**common, C=C, reference_C=C, n_jobs=1,
                                  tol=SCORE_TOL).fit(X[columns], y)
            for name, columns in models.items() if columns}


def _score_table(studies: dict[str, L1LogisticStudy], rows: str) -> pd.DataFrame:
    """One row per fitted study: model, rows, its `accuracy_` and its log-loss minus the
    all-features model's, paired by split (the studies share their splits)."""
    reference = studies["all features"]
    out = []
    for model, study in studies.items():
        diff = (study.split_scores_["log_loss"].to_numpy()
                - reference.split_scores_["log_loss"].to_numpy())
        vs_all = corrected_t_interval(diff, study.accuracy_["n_train"],
                                      study.accuracy_["n_test"])
        out.append({"model": model, "rows": rows, **study.accuracy_,
                    **dict(zip(("log_loss_vs_all_mean", "log_loss_vs_all_ci_low",
                                "log_loss_vs_all_ci_high"), vs_all, strict=True))})
    return pd.DataFrame(out)
