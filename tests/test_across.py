"""Across agents: the likelihood-ratio test of differing coefficients on simulated agents
with a planted truth, and the whole comparison on the shipped agents, with and without
an executor."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy.special import expit, logit
from scipy.stats import chi2
from threadpoolctl import threadpool_limits

from behavstats.quantities import QUANTITIES
from behavstats.stats import select_decision_mazes
from behavstats.stats.compare import COEFFICIENT_TEST_COLUMNS, coefficient_test
from behavstats.stats.errors import StudyDataError
from behavstats.stats.study import PUBLISHED_MODEL
from behavstats.stats.synthetic import PUBLISHED_COEFFICIENTS, synthetic_episodes

FEATURES = list(PUBLISHED_MODEL)
OFFSETS = (-2.0, 0.0, 2.0)
"""Agent intercept shifts (base rates about 48%, 66% and 80%): the agents differ in how
often they take the cheese, which the test must not count as a difference of slopes."""


def _agents(n_agents: int, seed: int, rows: int = 700) -> dict:
    """`n_agents` agents sharing the published model's slopes: one synthetic table's
    decision mazes dealt out at random, each agent's labels redrawn from the true
    probability shifted by its `OFFSETS` entry (so only the intercepts differ)."""
    table = select_decision_mazes(synthetic_episodes(rows * n_agents, seed=seed))
    rng = np.random.default_rng(seed)
    agent = rng.integers(0, n_agents, len(table))
    shift = np.asarray(OFFSETS)[agent]
    y = rng.random(len(table)) < expit(logit(table["p_cheese"].to_numpy()) + shift)
    return {f"agent{i}": (table.loc[agent == i, FEATURES], y[agent == i])
            for i in range(n_agents)}


def _result(groups: dict) -> pd.Series:
    table = coefficient_test(groups)
    assert list(table.columns) == list(COEFFICIENT_TEST_COLUMNS) and len(table) == 1
    return table.iloc[0]


def test_statistic_is_twice_the_log_likelihood_gain_of_independent_formula_fits():
    groups = _agents(3, seed=11)
    frames = [X.assign(agent=name, y=np.asarray(y, int)) for name, (X, y) in groups.items()]
    data = pd.concat(frames, ignore_index=True)
    data[FEATURES] = (data[FEATURES] - data[FEATURES].mean()) / data[FEATURES].std()
    terms = " + ".join(FEATURES)
    full = smf.logit(f"y ~ C(agent) * ({terms})", data).fit(disp=0)
    restricted = smf.logit(f"y ~ C(agent) + {terms}", data).fit(disp=0)
    statistic = 2 * (full.llf - restricted.llf)
    found = _result(groups)
    assert found["lr_statistic"] == pytest.approx(statistic, rel=1e-6, abs=1e-8)
    assert found["df"] == 8 == full.df_model - restricted.df_model  # 4 features x (3 - 1)
    assert found["p_value"] == pytest.approx(chi2.sf(statistic, 8), rel=1e-6)
    assert found["llf_full"] == pytest.approx(full.llf, rel=1e-9)
    assert found["n_rows"] == len(data) and found["n_agents"] == 3
    assert found["agents"] == "agent0, agent1, agent2" and found["excluded"] == ""


def test_cluster_robust_wald_equals_an_independent_formula_fit():
    groups = _agents(3, seed=12)
    clusters = {name: np.arange(len(y)) // 2 for name, (_, y) in groups.items()}
    frames = [X.assign(agent=name, y=np.asarray(y, int), maze=clusters[name])
              for name, (X, y) in groups.items()]
    data = pd.concat(frames, ignore_index=True)
    data[FEATURES] = (data[FEATURES] - data[FEATURES].mean()) / data[FEATURES].std()
    codes = pd.factorize(data["maze"])[0]  # one id in two agents: one cluster
    full = smf.logit(f"y ~ C(agent) * ({' + '.join(FEATURES)})", data).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": codes})
    interactions = [name for name in full.params.index if ":" in name]
    expected = full.wald_test(", ".join(f"{name} = 0" for name in interactions), scalar=True)
    found = _result_with(groups, clusters)
    assert found["wald_statistic"] == pytest.approx(float(expected.statistic), rel=1e-6)
    assert found["wald_p_value"] == pytest.approx(float(expected.pvalue), rel=1e-5)
    assert found["n_clusters"] == codes.max() + 1


def _result_with(groups: dict, clusters: dict) -> pd.Series:
    return coefficient_test(groups, clusters=clusters).iloc[0]


def test_p_values_are_calibrated_when_the_agents_share_their_coefficients():
    """300 comparisons of 2 or 3 agents (350-500 decision mazes each) under the null:
    the share of p < 0.05 lies in [0.02, 0.09] (here 0.033; its Monte Carlo SE is 0.013,
    and 1000 such comparisons gave 0.047) and the share below 0.5 in [0.4, 0.6]."""
    with threadpool_limits(1):  # 35 ms a comparison on one thread, several times that on two
        p = np.array([_result(_agents(2 + rep % 2, seed=rep))["p_value"]
                      for rep in range(300)])
    assert not np.isnan(p).any()
    assert 0.02 <= (p < 0.05).mean() <= 0.09
    assert 0.4 <= (p < 0.5).mean() <= 0.6


def _same_mazes(n_agents: int, seed: int, maze_sd: float = 1.5) -> tuple[dict, dict]:
    """`n_agents` agents sharing the published slopes on the same mazes, whose outcomes
    also share an unmeasured maze effect (normal, `maze_sd` on the log-odds), and each
    row's maze."""
    table = select_decision_mazes(synthetic_episodes(900, seed=seed))
    rng = np.random.default_rng(seed)
    base = logit(table["p_cheese"].to_numpy()) + rng.normal(0, maze_sd, len(table))
    groups = {f"agent{i}": (table[FEATURES], rng.random(len(table)) < expit(base + OFFSETS[i]))
              for i in range(n_agents)}
    return groups, {name: table["level"].to_numpy() for name in groups}


def test_on_shared_mazes_the_clustered_wald_test_is_calibrated_and_the_lr_conservative():
    """200 comparisons of agents that ran the same ~470 mazes, with a shared maze
    effect: the cluster-robust Wald test keeps its level (share of p < 0.05 in
    [0.02, 0.09]; here 3%); the likelihood-ratio test, which takes the rows as
    independent, rejects less often (here 1.5%)."""
    with threadpool_limits(1):
        p = np.array([_result_with(*_same_mazes(2 + rep % 2, seed=rep))[["p_value",
                                                                          "wald_p_value"]]
                      for rep in range(200)], dtype=float)
    lr, wald = (p < 0.05).mean(axis=0)
    assert 0.02 <= wald <= 0.09
    assert lr < 0.05 and lr <= wald


def test_an_agent_with_other_coefficients_gives_a_tiny_p_value():
    groups = _agents(2, seed=3)
    other = dict(PUBLISHED_COEFFICIENTS, euc_cheese_tr=0.0, euc_dsq_tr5=-1.326)
    table = select_decision_mazes(synthetic_episodes(700, seed=4, coefficients=other))
    groups["other"] = (table[FEATURES], table["reached_cheese"].to_numpy())
    found = _result(groups)
    assert found["p_value"] < 1e-6 and found["df"] == 8
    assert np.isnan(found["wald_p_value"])  # no clusters given
    assert _result({k: v for k, v in groups.items() if k != "other"})["p_value"] > 1e-3


def test_agents_whose_fit_separates_or_lacks_an_outcome_are_left_out_with_the_reason():
    groups = _agents(2, seed=5)
    X, _ = groups["agent0"]
    groups["separated"] = (X, X["euc_cheese_tr"] < X["euc_cheese_tr"].median())
    groups["few"] = (X, np.arange(len(X)) < 5)  # 5 rows reached the cheese
    found = _result(groups)
    assert found["agents"] == "agent0, agent1" and found["df"] == 4
    assert np.isfinite(found["p_value"])
    assert "separated (the Logit on" in found["excluded"]
    assert "few (too few rows" in found["excluded"]
    alone = _result({"agent0": groups["agent0"], "few": groups["few"]})
    assert np.isnan(alone["p_value"]) and "needs at least two" in alone["note"]


def test_agents_with_other_features_are_refused():
    X, y = _agents(2, seed=6)["agent0"]
    with pytest.raises(StudyDataError, match="feature columns differ"):
        coefficient_test({"a": (X, y), "b": (X.iloc[:, :3], y)})


def test_a_separating_agent_is_reported_in_the_tables_not_fatal():
    from behavstats.across import _published_fits

    table = select_decision_mazes(synthetic_episodes(400, seed=7))
    design = table.assign(reached_cheese=table["euc_cheese_tr"] > table["euc_cheese_tr"].median())
    scores, coefficients = _published_fits(design, {"seed": 0, "n_splits": 3,
                                                    "n_bootstrap": 10})
    assert scores["error"].iloc[0] == "" and scores["log_loss_mean"].iloc[0] < 0.3
    assert coefficients["term"].tolist() == ["const", *FEATURES]
    assert coefficients["error"].str.contains("separated").all()
    assert coefficients["coef"].isna().all()


AGENTS = ("default", "region15")
SETTINGS = {"max_steps": 100, "n_splits": 5, "n_bootstrap": 50}
"""Small and short: 130 levels give each agent about 57 decision mazes, enough for the
fits (>= 10 of each outcome)."""


@pytest.fixture(scope="module")
def policies():
    from behavstats.policy import load_policy

    return {name: load_policy(name) for name in AGENTS}


@pytest.fixture(scope="module")
def result(policies, one_thread):
    from behavstats.across import across_agents

    return across_agents(policies, range(130), [3, 6], **SETTINGS)


@pytest.mark.slow
def test_shipped_agents_get_scores_coefficients_and_the_test(result, tmp_path):
    from behavstats.across import AcrossAgentsResult

    assert result.agents["policy"].tolist() == list(AGENTS)
    assert (result.scores["error"] == "").all() and result.scores["n"].tolist() == \
        result.agents["n_decision_mazes"].tolist()
    assert ((result.scores["log_loss_mean"] > 0) & (result.scores["auc_mean"] > 0.5)).all()
    assert len(result.coefficients) == 5 * len(AGENTS)
    assert (result.design.groupby("policy", sort=False).size().tolist()
            == result.agents["n_decision_mazes"].tolist())
    test = result.coefficient_test.iloc[0]
    assert test["agents"] == ", ".join(AGENTS) and test["df"] == 4
    assert 0 <= test["p_value"] <= 1 and 0 <= test["wald_p_value"] <= 1
    assert test["n_clusters"] == result.agents["n_decision_mazes"].iloc[0]  # the same mazes
    assert "default and region15: likelihood ratio" in result.coefficient_sentence()
    summary = result.summary()  # registered, unique and ordered as test_results checks
    assert {"coefficient_difference_lr", "coefficient_difference_p", "log_loss",
            "odds_ratio"} <= set(summary["quantity"]) <= set(QUANTITIES)
    assert not summary.duplicated(["quantity", "condition"]).any()
    rows = summary.dropna(subset=["ci_low"])
    assert ((rows["ci_low"] <= rows["estimate"]) & (rows["estimate"] <= rows["ci_high"])).all()
    result.save(tmp_path)
    assert AcrossAgentsResult.load(tmp_path) == result


@pytest.mark.slow
def test_an_executor_gives_the_same_result(policies, result):
    from behavstats.across import across_agents

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parallel = across_agents(policies, range(130), [3, 6], executor=pool, **SETTINGS)
    for name, table in result.tables().items():  # exactly: one torch thread on both sides
        pd.testing.assert_frame_equal(getattr(parallel, name), table, check_exact=True,
                                      obj=name)
    assert parallel == result
