"""The same experiments across several policies (e.g. agents trained with different
cheese regions): success rates, where misses go, and the cheese vector's effect
(coefficient -1, the published edit), side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from behavstats.evaluate import evaluate
from behavstats.policy import Policy
from behavstats.results import SUMMARY_COLUMNS, Result


@dataclass(frozen=True, eq=False)
class AcrossAgentsResult(Result):
    """What `across_agents` measured.

    agents: one row per policy: policy, region (its training distribution's), and
        cheese_vector_error (why the cheese vector could not run; empty if it ran).
    summaries: every policy's `EvaluationResult.summary()` and
        `CheeseVectorResult.summary()` rows: policy, experiment (evaluation,
        cheese_vector), then `SUMMARY_COLUMNS`.
    params: policies, levels, vector_levels, seed.
    """

    agents: pd.DataFrame
    summaries: pd.DataFrame
    params: dict
    topic = "across_agents"

    def _rows(self) -> list[dict]:
        """Every policy's rows, the condition prefixed by the policy's name."""
        table = self.summaries.assign(condition=self.summaries["policy"] + ": "
                                      + self.summaries["condition"])
        return table[list(SUMMARY_COLUMNS)].to_dict("records")

    def wide(self) -> pd.DataFrame:
        """Estimates side by side: one row per (experiment, quantity, condition), one
        column per policy."""
        return self.summaries.pivot_table(index=["experiment", "quantity", "condition"],
                                          columns="policy", values="estimate",
                                          sort=False).reset_index()


def across_agents(policies: Mapping[str, Policy], levels: Sequence[int],
                  vector_levels: Sequence[int], *, seed: int = 0,
                  out_dir: str | Path | None = None, progress: bool = False
                  ) -> AcrossAgentsResult:
    """Evaluate each policy (name -> policy) on `levels` and run the cheese vector
    (coefficient -1) on `vector_levels`; with `out_dir`, each cheese-vector run is
    written into out_dir/<name>."""
    from behavstats.interventions import NoUsableLevelsError, run_cheese_vector

    agents, summaries = [], []
    for name, policy in policies.items():
        evaluation = evaluate(policy, levels, seed=seed, progress=progress)
        parts, error = [("evaluation", evaluation.summary())], ""
        try:
            vector = run_cheese_vector(policy, vector_levels,
                                       None if out_dir is None else Path(out_dir) / name,
                                       coeffs=(-1.0,), seed=seed, progress=progress)
            parts.append(("cheese_vector", vector.summary()))
        except NoUsableLevelsError as exc:
            error = str(exc)
        agents.append({"policy": name, "region": evaluation.params["region"],
                       "cheese_vector_error": error})
        summaries += [s[list(SUMMARY_COLUMNS)].assign(policy=name, experiment=experiment)
                      for experiment, s in parts]
    table = pd.concat(summaries, ignore_index=True)
    table = table[["policy", "experiment", *SUMMARY_COLUMNS]]
    return AcrossAgentsResult(pd.DataFrame(agents), table,
                              {"policies": list(policies), "levels": list(levels),
                               "vector_levels": list(vector_levels), "seed": seed})
