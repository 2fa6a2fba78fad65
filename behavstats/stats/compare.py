"""Do several agents share the coefficients of one logistic model? A likelihood-ratio
test in one pooled regression.

Both models have one intercept per agent (the agents' base rates differ, and that is
not the question). The restricted model gives every agent the same slopes; the full
one gives each agent its own (the agent x feature interactions). Features are z-scored
on the pooled rows, one scale for every agent, so a slope means the same in each. Twice
the log-likelihood gain is chi-square with k (m - 1) degrees of freedom under the null
(k features, m agents). An agent whose own Logit cannot be fitted (too few rows of one
outcome, separation, collinear features) would make the full model's likelihood
unbounded; it is left out, with the reason.

The likelihood treats every row as independent. When the agents ran the same mazes,
one maze's rows are not: whatever the features miss about a maze moves every agent the
same way, which makes the likelihood-ratio test conservative (simulated: 2% below 0.05
instead of 5%). Given each row's cluster (its level), a Wald test of the same
hypothesis with cluster-robust (sandwich) covariance is reported beside it; it needs
many clusters (hundreds of mazes).
"""

import itertools
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import chi2

from behavstats.stats.dataset import check_design
from behavstats.stats.errors import StudyDataError
from behavstats.stats.logit import LogitInference, _fit_logit, _problem

COEFFICIENT_TEST_COLUMNS = ("lr_statistic", "df", "p_value", "wald_statistic", "wald_p_value",
                            "n_clusters", "n_rows", "n_agents", "agents", "excluded",
                            "features", "llf_full", "llf_restricted", "note")
"""Columns of `coefficient_test`'s table (one row)."""


def coefficient_test(groups: Mapping[str, tuple[pd.DataFrame, Sequence | np.ndarray]],
                     clusters: Mapping[str, Sequence | np.ndarray] | None = None
                     ) -> pd.DataFrame:
    """Likelihood-ratio test that the agents (name -> (X, y), the same feature columns)
    share their slopes; one row of `COEFFICIENT_TEST_COLUMNS`:

    lr_statistic: 2 (llf_full - llf_restricted); df: k (m - 1); p_value: chi-square
    upper tail; wald_statistic, wald_p_value, n_clusters: the cluster-robust Wald test
    (chi-square, df) when `clusters` (name -> each row's cluster id, e.g. its level;
    one id in two agents is one cluster) is given, else NaN; n_rows, n_agents, agents
    (comma-separated): the rows and agents tested; excluded: "name (reason)" of each
    agent left out, "; "-separated; features; llf_full, llf_restricted: the two pooled
    fits' log-likelihoods; note: why no test was made (fewer than two usable agents),
    else empty. Raises StudyDataError when the groups' feature columns differ.
    """
    columns = {tuple(X.columns) for X, _ in groups.values()}
    if len(columns) > 1:
        raise StudyDataError(f"the agents' feature columns differ ({sorted(columns)}); "
                             "pass the same features for every agent")
    features = list(next(iter(columns), ()))
    usable, excluded = {}, []
    for name, (X, y) in groups.items():
        try:
            usable[name] = check_design(X, y)
            LogitInference(n_bootstrap=0).fit(*usable[name])
        except StudyDataError as exc:
            usable.pop(name, None)
            excluded.append(f"{name} ({_first_clause(exc)})")
    row = dict.fromkeys(COEFFICIENT_TEST_COLUMNS, np.nan) | {
        "n_rows": sum(len(y) for _, y in usable.values()), "n_agents": len(usable),
        "agents": ", ".join(usable), "excluded": "; ".join(excluded),
        "features": ", ".join(features), "note": ""}
    if len(usable) < 2:
        row["note"] = (f"{len(usable)} agent(s) with a usable fit; the test needs at least "
                       "two")
        return pd.DataFrame([row], columns=list(COEFFICIENT_TEST_COLUMNS))
    y = np.concatenate([y for _, y in usable.values()])
    restricted, full = _pooled_designs({name: X for name, (X, _) in usable.items()})
    fits = {}
    for model, exog in (("restricted", restricted), ("full", full)):
        fits[model] = _fit_logit(y, exog)
        if _problem(fits[model]):
            row["note"] = f"the pooled {model} model {_problem(fits[model])}"
            return pd.DataFrame([row], columns=list(COEFFICIENT_TEST_COLUMNS))
    statistic = 2 * (fits["full"].llf - fits["restricted"].llf)
    df = full.shape[1] - restricted.shape[1]
    row.update(lr_statistic=float(statistic), df=df, p_value=float(chi2.sf(statistic, df)),
               llf_full=float(fits["full"].llf), llf_restricted=float(fits["restricted"].llf))
    if clusters is not None:
        codes = pd.factorize(np.concatenate([np.asarray(clusters[n]) for n in usable]))[0]
        wald = _cluster_wald(y, full, fits["full"].params, codes, list(usable), features)
        row.update(wald_statistic=wald[0], wald_p_value=wald[1], n_clusters=codes.max() + 1)
    return pd.DataFrame([row], columns=list(COEFFICIENT_TEST_COLUMNS))


def _cluster_wald(y: np.ndarray, full: pd.DataFrame, params: pd.Series, codes: np.ndarray,
                  names: list[str], features: list[str]) -> tuple[float, float]:
    """Wald statistic and p-value that every agent's slopes equal the first agent's, with
    the full model's cluster-robust covariance (rows of one cluster may correlate)."""
    result = sm.Logit(y, full).fit(start_params=params, method="newton", maxiter=100,
                                   disp=0, cov_type="cluster", cov_kwds={"groups": codes})
    columns = list(full.columns)
    contrasts = np.zeros(((len(names) - 1) * len(features), len(columns)))
    for row, (name, feature) in enumerate(itertools.product(names[1:], features)):
        contrasts[row, columns.index(f"{feature}:agent[{name}]")] = 1
        contrasts[row, columns.index(f"{feature}:agent[{names[0]}]")] = -1
    test = result.wald_test(contrasts, scalar=True)
    return float(test.statistic), float(test.pvalue)


def _first_clause(exc: Exception) -> str:
    """The message up to its first '; ' or '. ' (what is wrong, without the advice)."""
    return re.split(r"; |\. ", str(exc), maxsplit=1)[0]


def _pooled_designs(groups: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The restricted design (one intercept column per agent, the pooled z-scored
    features) and the full one (the intercepts, then each agent's own copy of the
    features: zero on the other agents' rows)."""
    pooled = pd.concat(list(groups.values()), ignore_index=True)
    z = (pooled - pooled.mean()) / pooled.std(ddof=0)
    agent = np.repeat(list(groups), [len(X) for X in groups.values()])
    intercepts = pd.DataFrame({f"agent[{name}]": (agent == name).astype(float)
                               for name in groups})
    own = [z.mul(intercepts[f"agent[{name}]"], axis=0).add_suffix(f":agent[{name}]")
           for name in groups]
    return pd.concat([intercepts, z], axis=1), pd.concat([intercepts, *own], axis=1)
