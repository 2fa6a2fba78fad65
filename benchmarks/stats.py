"""Speed of the whole behavioural study (`run_study`) on a 10,000-episode table.

Baseline, measured in the same run on the same table: the same study without reuse,
i.e. every fit standardises its own training rows in a fresh
Pipeline(StandardScaler, LogisticRegression) instead of slicing the split's cached
standardised arrays, and the feature selection refits a feature set every time a
comparison needs it instead of scoring each set once. The study runs its independent
halves in two processes, which a patch in this process cannot reach, so the two are
compared in one process each (`in_one_process`); the headline, printed last, is the
study's own wall time (two processes). All must give the same results (checked, up
to float rounding).

    python benchmarks/stats.py [--episodes 10000] [--all-rows] [--seed 0]

--all-rows builds a table whose rows all enter the study (already filtered, as a
`behavstats regress` table may be), instead of an episodes table of which about 54%
pass the published decision-square filter.
"""

import argparse
import os
import time
from contextlib import ExitStack
from unittest import mock

import numpy as np
import pandas as pd
from joblib import Parallel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from behavstats.features import PUBLISHED_FEATURES
from behavstats.stats import design_matrix, run_study, select_decision_mazes
from behavstats.stats.fitting import COEF_TOL, SCORES, SplitFits, held_out_scores, l1_logistic
from behavstats.stats.selection import _Scorer
from behavstats.stats.synthetic import synthetic_episodes


def table_for(episodes: int, all_rows: bool, seed: int) -> pd.DataFrame:
    if not all_rows:
        return synthetic_episodes(episodes, seed=seed)
    decision = select_decision_mazes(synthetic_episodes(2 * episodes, seed=seed))
    return decision.head(episodes).drop(columns=["has_dsq", "cheese_in_tr5"])


def without_reuse(raw: np.ndarray) -> ExitStack:
    """Patch the study's two reuse points with their naive versions."""

    def fit_on_splits(splits, columns, C, seed=0, tol=COEF_TOL):
        columns = list(columns)
        scores, prior, coef = [], [], []
        for split in splits:
            prior.append(held_out_scores(split.y_test,
                                         np.full(len(split.test), split.y_train.mean())))
            if not columns:
                scores.append(prior[-1])
                coef.append(np.empty(0))
                continue
            model = make_pipeline(StandardScaler(), l1_logistic(C, seed, tol))
            model.fit(raw[split.train][:, columns], split.y_train)
            scores.append(held_out_scores(
                split.y_test, model.predict_proba(raw[split.test][:, columns])[:, 1]))
            coef.append(model[-1].coef_[0])
        return SplitFits({k: np.array([s[k] for s in scores]) for k in SCORES},
                         {k: np.array([s[k] for s in prior]) for k in SCORES}, np.array(coef))

    def score_every_time(self, columns):
        return fit_on_splits(self.splits, columns, self.C, self.seed, 1e-3)

    stack = ExitStack()
    for module in ("l1", "single", "selection"):
        stack.enter_context(mock.patch(f"behavstats.stats.{module}.fit_on_splits",
                                       fit_on_splits))
    stack.enter_context(mock.patch.object(_Scorer, "__call__", score_every_time))
    return stack


def in_one_process() -> ExitStack:
    """Run the study's parallel parts one after the other in this process."""
    stack = ExitStack()
    for module in ("study", "l1"):
        stack.enter_context(mock.patch(f"behavstats.stats.{module}.Parallel",
                                       lambda **_: Parallel(n_jobs=1)))
    return stack


def timed(table: pd.DataFrame, seed: int):
    """The study's result, wall seconds and CPU seconds of this process."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run_study(table, seed=seed)
    return result, time.perf_counter() - start, time.process_time() - cpu


def largest_difference(a, b) -> float:
    """Largest absolute difference between two studies' numbers (inf when their
    shapes, labels or selected features differ). Refitting from raw rows rounds the
    standardisation differently in the last bit, which can move a prediction sitting
    on the decision boundary: expect ~1e-12 in coefficients, ~1e-3 in accuracies."""
    if a.params["selected"] != b.params["selected"]:
        return np.inf
    gaps = []
    for name in ("accuracy", "coefficients", "single_feature", "vif", "selection", "sign_stability",
                 "logit", "stability", "stable", "calibration", "published_logit"):
        x, y = getattr(a, name), getattr(b, name)
        text = x.select_dtypes(exclude="number")
        if x.shape != y.shape or not text.equals(y.select_dtypes(exclude="number")):
            return np.inf
        numbers = x.select_dtypes("number").columns
        xs, ys = x[numbers].to_numpy(float), y[numbers].to_numpy(float)
        with np.errstate(invalid="ignore"):  # inf - inf where a VIF is infinite in both
            gaps.append(np.nanmax(np.where(xs == ys, 0.0, np.abs(xs - ys)), initial=0.0))
    return float(max(gaps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--all-rows", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = table_for(args.episodes, args.all_rows, args.seed)
    study_rows = table if args.all_rows else select_decision_mazes(table)
    X, _ = design_matrix(study_rows, PUBLISHED_FEATURES)
    print(f"table: {len(table)} rows, {len(X)} in the study; 16 features, 50 splits, "
          "200 subsets, 1000 bootstrap resamples")

    result, seconds, _ = timed(table, args.seed)
    print(f"the study (two processes): {seconds:.1f} s wall (C = {result.params['C']:g}, "
          f"selected {result.params['selected']})", flush=True)
    with in_one_process():
        reused, reuse_seconds, _ = timed(table, args.seed)
        print(f"one process: {reuse_seconds:.1f} s", flush=True)
        with without_reuse(X.to_numpy()):
            naive, naive_seconds, _ = timed(table, args.seed)
    print(f"one process without reuse: {naive_seconds:.1f} s", flush=True)
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    gap = max(largest_difference(result, naive), largest_difference(result, reused))
    if gap > 0.005:
        raise SystemExit(f"the studies gave different results (largest difference "
                         f"{gap:g}): the comparison is void")
    print(f"same results: largest difference {gap:.2g}")
    name = f"regress_study_{len(table) // 1000}k_{'rows' if args.all_rows else 'episodes'}"
    print(f"{name}: {seconds:.1f} s; in one process {naive_seconds / reuse_seconds:.2f}x "
          "faster than the same study without reuse")


if __name__ == "__main__":
    main()
