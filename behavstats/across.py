"""The same experiments across several policies (e.g. agents trained with different
cheese regions), side by side: success rates, where misses go, the cheese vector's
effect (coefficient -1, the published edit), and the published four-feature model on
each agent's decision mazes, scored by proper scoring rules, with a likelihood-ratio
test of whether its coefficients differ between the agents.

Accuracy says little for an agent that nearly always (or nearly never) takes the
cheese: it sits at the majority rate. Log-loss against the prior's, ROC AUC and the
Logit's coefficients per SD say whether, and how, the maze features still predict its
choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from behavstats.evaluation import EvaluationResult, evaluate
from behavstats.levelspec import format_levels
from behavstats.policy import Policy
from behavstats.results import SUMMARY_COLUMNS, Result, quantity_row
from behavstats.rollout import PROCGEN_STEP_LIMIT, RolloutConfig, level_episodes
from behavstats.stats import (
    L1LogisticStudy,
    LogitInference,
    StudyDataError,
    design_matrix,
    select_decision_mazes,
)
from behavstats.stats.compare import coefficient_test
from behavstats.stats.dataset import LABEL
from behavstats.stats.fitting import SCORES
from behavstats.stats.study import PUBLISHED_MODEL

MODEL = "published model"
SCORE_COLUMNS = ("n", "C", *(f"{score}_{part}" for score in SCORES
                             for part in ("mean", "ci_low", "ci_high")),
                 "baseline", "baseline_log_loss", "baseline_brier", "log_loss_gain_mean",
                 "log_loss_gain_ci_low", "log_loss_gain_ci_high")
"""The `L1LogisticStudy.accuracy_` keys the scores table keeps."""
LOGIT_COLUMNS = ("term", "coef", "std_err", "z", "p_value", "ci_low", "ci_high", "odds_ratio",
                 "or_ci_low", "or_ci_high", "boot_ci_low", "boot_ci_high", "n_bootstrap")
"""The `LogitInference.table_` columns the coefficients table keeps."""
SIGNIFICANCE = 0.05


@dataclass(frozen=True, eq=False)
class AcrossAgentsResult(Result):
    """What `across_agents` measured.

    agents: one row per policy: policy, region (its training distribution's),
        n_decision_mazes, n_reached_cheese (of them), cheese_vector_error (why the
        cheese vector could not run; empty if it ran).
    summaries: every policy's `EvaluationResult.summary()` and
        `CheeseVectorResult.summary()` rows and its published-model rows (held-out
        log_loss, auc, brier, accuracy, baseline, baseline_log_loss; the Logit's
        odds_ratio per term): policy, experiment (evaluation, cheese_vector,
        regression), then `SUMMARY_COLUMNS`.
    scores: one row per policy: policy, model, error (why the L1 study of
        `PUBLISHED_MODEL` on its decision mazes could not be fitted; empty if it was),
        then `SCORE_COLUMNS` (of `L1LogisticStudy.accuracy_`: held-out log-loss, Brier,
        ROC AUC, accuracy with corrected resampled t intervals, the majority baseline,
        the prior's log-loss and Brier; NaN when not fitted).
    coefficients: one row per policy and term ("const", then the features): policy,
        error (as in scores, for the Logit: e.g. separation), then `LOGIT_COLUMNS` (of
        `LogitInference.table_`: coefficients per SD with Wald and bootstrap intervals,
        odds ratios).
    design: one row per policy and decision maze: policy, level, the `PUBLISHED_MODEL`
        features, reached_cheese (the rows every fit and the test used).
    coefficient_test: `stats.compare.coefficient_test` of the agents' decision mazes,
        clustered by level (one row: lr_statistic, df, p_value, wald_statistic,
        wald_p_value, n_clusters, n_rows, n_agents, agents, excluded, ...).
    params: policies, levels, vector_levels (level specs), seed, max_steps, n_splits,
        n_bootstrap.
    """

    agents: pd.DataFrame
    summaries: pd.DataFrame
    scores: pd.DataFrame
    coefficients: pd.DataFrame
    design: pd.DataFrame
    coefficient_test: pd.DataFrame
    params: dict
    topic = "across_agents"
    csv_tables = ("scores", "coefficients", "coefficient_test")

    def _rows(self) -> list[dict]:
        """Every policy's rows, the condition prefixed by the policy's name, then the
        likelihood-ratio test's statistic and p-value."""
        table = self.summaries.assign(condition=self.summaries["policy"] + ": "
                                      + self.summaries["condition"])
        rows = table[list(SUMMARY_COLUMNS)].to_dict("records")
        test = self.coefficient_test.iloc[0]
        if np.isfinite(test["p_value"]):
            condition = f"{MODEL}: {test['agents']}"
            rows += [quantity_row("coefficient_difference_lr", condition, test["lr_statistic"],
                                  n=test["n_rows"]),
                     quantity_row("coefficient_difference_p", condition, test["p_value"],
                                  n=test["n_rows"]),
                     quantity_row("coefficient_difference_wald_p", condition,
                                  test["wald_p_value"], n=test["n_clusters"])]
        return rows

    def wide(self) -> pd.DataFrame:
        """Estimates side by side: one row per (experiment, quantity, condition), one
        column per policy."""
        return self.summaries.pivot_table(index=["experiment", "quantity", "condition"],
                                          columns="policy", values="estimate",
                                          sort=False).reset_index()

    def coefficient_sentence(self) -> str:
        """The likelihood-ratio test in one sentence."""
        test = self.coefficient_test.iloc[0]
        left_out = f" Left out: {test['excluded']}." if test["excluded"] else ""
        if not np.isfinite(test["p_value"]):
            return f"Whether the {MODEL}'s coefficients differ was not tested: " \
                   f"{test['note']}.{left_out}"
        verdict = ("differ between" if test["p_value"] < SIGNIFICANCE
                   else "show no detectable difference between")
        *rest, last = test["agents"].split(", ")
        return (f"The {MODEL}'s {len(PUBLISHED_MODEL)} coefficients {verdict} "
                f"{', '.join(rest)} and {last}: likelihood ratio {test['lr_statistic']:.1f} on "
                f"{test['df']:.0f} df, p = {test['p_value']:.2g} (chi-square; agent "
                f"intercepts in both models, features z-scored on the pooled "
                f"{test['n_rows']:,} decision-maze episodes); clustered by maze, the Wald "
                f"test gives chi-square {test['wald_statistic']:.1f}, p = "
                f"{test['wald_p_value']:.2g}.{left_out}")


class _AgentRun(NamedTuple):
    """One agent's measurements (what a worker sends back)."""

    evaluation: EvaluationResult
    vector: Result | None
    vector_error: str
    design: pd.DataFrame
    scores: pd.DataFrame
    coefficients: pd.DataFrame


def across_agents(policies: Mapping[str, Policy], levels: Sequence[int],
                  vector_levels: Sequence[int], *, seed: int = 0,
                  max_steps: int = PROCGEN_STEP_LIMIT, n_splits: int = 50,
                  n_bootstrap: int = 1000, out_dir: str | Path | None = None,
                  executor: Executor | None = None, progress: bool = False
                  ) -> AcrossAgentsResult:
    """Evaluate each policy (name -> policy) on `levels`, run the cheese vector
    (coefficient -1) on `vector_levels`, fit the published four-feature model on its
    decision mazes among `levels` (the evaluation's own vanilla episodes: L1 study over
    `n_splits` splits, Logit with `n_bootstrap` resamples), and test whether the
    agents' coefficients differ. With `executor` (e.g. a spawn-context
    ProcessPoolExecutor or dask's `Client(...).get_executor()`), each agent runs as one
    task, its weights shipped to the worker (on one torch thread); the results equal a
    run without one on one torch thread exactly, and on more threads up to the float
    rounding of forward passes. With `out_dir`, each cheese-vector run is written into
    out_dir/<name>."""
    levels, vector_levels = [int(v) for v in levels], [int(v) for v in vector_levels]
    settings = {"seed": seed, "max_steps": max_steps, "n_splits": n_splits,
                "n_bootstrap": n_bootstrap}
    if executor is None:
        runs = {name: _run_agent(policy, levels, vector_levels, settings, progress)
                for name, policy in policies.items()}
    else:
        futures = {executor.submit(_agent_task, {k: v.detach().cpu() for k, v in
                                                 policy.state_dict().items()},
                                   policy.scale, policy.metadata, levels, vector_levels,
                                   settings): name for name, policy in policies.items()}
        done = {futures[f]: f.result() for f in tqdm(as_completed(futures), total=len(futures),
                                                     disable=not progress, desc="agents")}
        runs = {name: done[name] for name in policies}
    if out_dir is not None:
        for name, run in runs.items():
            if run.vector is not None:
                run.vector.write(Path(out_dir) / name)
    return _assemble(runs, {"policies": list(policies), "levels": format_levels(levels),
                            "vector_levels": format_levels(vector_levels), **settings})


def _agent_task(state: dict, scale: int, metadata: dict, levels: list[int],
                vector_levels: list[int], settings: dict) -> _AgentRun:
    """Worker side of `across_agents`: rebuild the policy from its weights, run it."""
    import torch

    torch.set_num_threads(1)
    policy = Policy(scale, metadata)
    policy.load_state_dict(state)
    return _run_agent(policy.to(memory_format=torch.channels_last).eval(), levels,
                      vector_levels, settings, progress=False)


def _run_agent(policy: Policy, levels: list[int], vector_levels: list[int], settings: dict,
               progress: bool) -> _AgentRun:
    """Everything measured on one agent. The vanilla episodes are run once: the
    evaluation and the regression both use them."""
    from behavstats.interventions import NoUsableLevelsError, run_cheese_vector

    seed, max_steps = settings["seed"], settings["max_steps"]
    vanilla = level_episodes(policy, levels, RolloutConfig(seed=seed, max_steps=max_steps),
                             progress=progress)
    evaluation = evaluate(policy, levels, seed=seed, max_steps=max_steps, progress=progress,
                          vanilla=vanilla)
    vector, error = None, ""
    try:
        vector = run_cheese_vector(policy, vector_levels, coeffs=(-1.0,), seed=seed,
                                   progress=progress)
    except NoUsableLevelsError as exc:
        error = str(exc)
    design = select_decision_mazes(vanilla)[["level", *PUBLISHED_MODEL, LABEL]]
    design = design.reset_index(drop=True)
    return _AgentRun(evaluation, vector, error, design, *_published_fits(design, settings))


def _published_fits(design: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published model's L1 scores (one row: error, `SCORE_COLUMNS`) and Logit
    coefficients (a row per term: error, `LOGIT_COLUMNS`) on one agent's decision
    mazes; a fit the rows cannot support leaves NaNs and its reason in `error`."""
    seed = settings["seed"]

    def scores() -> pd.DataFrame:
        study = L1LogisticStudy(n_splits=settings["n_splits"], seed=seed, n_jobs=1)
        return pd.DataFrame([study.fit(*design_matrix(design, PUBLISHED_MODEL)).accuracy_])

    def logit() -> pd.DataFrame:
        inference = LogitInference(n_bootstrap=settings["n_bootstrap"], seed=seed)
        return inference.fit(*design_matrix(design, PUBLISHED_MODEL)).table_

    terms = pd.DataFrame({"term": ["const", *PUBLISHED_MODEL]})
    blank = pd.DataFrame(index=[0], columns=list(SCORE_COLUMNS), dtype=float)
    return (_or_error(scores, blank).assign(model=MODEL)[["model", "error", *SCORE_COLUMNS]],
            _or_error(logit, terms.reindex(columns=list(LOGIT_COLUMNS)))[
                ["error", *LOGIT_COLUMNS]])


def _or_error(fit, blank: pd.DataFrame) -> pd.DataFrame:
    """fit()'s table in `blank`'s columns with error "", or `blank` with the
    StudyDataError's message when the data cannot support the fit."""
    try:
        table, error = fit()[list(blank.columns)], ""
    except StudyDataError as exc:
        table, error = blank, str(exc)
    return table.reset_index(drop=True).assign(error=error)


def _assemble(runs: dict[str, _AgentRun], params: dict) -> AcrossAgentsResult:
    """The result's tables from every agent's run (in the policies' order)."""
    agents, summaries = [], []
    for name, run in runs.items():
        agents.append({"policy": name, "region": run.evaluation.params["region"],
                       "n_decision_mazes": len(run.design),
                       "n_reached_cheese": int(run.design[LABEL].sum()),
                       "cheese_vector_error": run.vector_error})
        parts = [("evaluation", run.evaluation.summary()),
                 ("cheese_vector", None if run.vector is None else run.vector.summary()),
                 ("regression", _regression_rows(run.scores, run.coefficients,
                                                 len(run.design)))]
        summaries += [s[list(SUMMARY_COLUMNS)].assign(policy=name, experiment=experiment)
                      for experiment, s in parts if s is not None and len(s)]
    table = pd.concat(summaries, ignore_index=True)

    def stacked(part: str) -> pd.DataFrame:
        frame = pd.concat([getattr(run, part).assign(policy=name) for name, run in runs.items()],
                          ignore_index=True)
        return frame[["policy", *frame.columns[:-1]]]

    test = coefficient_test({name: (run.design[list(PUBLISHED_MODEL)], run.design[LABEL])
                             for name, run in runs.items()},
                            clusters={name: run.design["level"] for name, run in runs.items()})
    scores, coefficients, design = stacked("scores"), stacked("coefficients"), stacked("design")
    return AcrossAgentsResult(pd.DataFrame(agents),
                              table[["policy", "experiment", *SUMMARY_COLUMNS]], scores,
                              coefficients, design, test, params)


def _regression_rows(scores: pd.DataFrame, coefficients: pd.DataFrame,
                     n: int) -> pd.DataFrame:
    """Summary rows of the published model's fits on one agent (none for a fit that
    failed)."""
    rows = []
    for r in scores[scores["error"] == ""].to_dict("records"):
        rows += [quantity_row(score, MODEL, r[f"{score}_mean"], r[f"{score}_ci_low"],
                              r[f"{score}_ci_high"], r["n"]) for score in SCORES]
        rows += [quantity_row(name, MODEL, r[name], n=r["n"])
                 for name in ("baseline", "baseline_log_loss")]
    fitted = coefficients[(coefficients["error"] == "") & (coefficients["term"] != "const")]
    rows += [quantity_row("odds_ratio", f"{MODEL}: {r.term}", r.odds_ratio, r.or_ci_low,
                          r.or_ci_high, n) for r in fitted.itertuples()]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
