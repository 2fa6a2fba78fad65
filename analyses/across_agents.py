"""The same study across several policies (e.g. agents trained with different cheese
regions): success rates, where misses go, the cheese vector's effect, and the published
four-feature model on each agent's decision mazes (held-out log-loss, AUC, accuracy
beside the majority baseline; Logit coefficients per SD), with a likelihood-ratio test
of whether its coefficients differ between the agents.

    python analyses/across_agents.py --policies region1 default region15 --out across/
"""

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from behavstats.across import across_agents
from behavstats.io import write_csv
from behavstats.policy import load_policy

SCORES = ["policy", "n", "log_loss_mean", "log_loss_ci_low", "log_loss_ci_high",
          "baseline_log_loss", "auc_mean", "auc_ci_low", "auc_ci_high", "accuracy_mean",
          "baseline", "error"]
COEFFICIENTS = ["policy", "term", "coef", "ci_low", "ci_high", "boot_ci_low", "boot_ci_high",
                "odds_ratio", "p_value", "error"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policies", nargs="+", required=True,
                        help="policy files or names of shipped policies")
    parser.add_argument("--out", type=Path, default=Path("analyses_out/across_agents"))
    parser.add_argument("--levels", type=int, default=500, help="evaluation levels 0..N-1")
    parser.add_argument("--vector-levels", type=int, default=100,
                        help="cheese-vector levels 0..N-1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="agents run in this many (spawned) processes")
    args = parser.parse_args()

    policies = {Path(spec).stem: load_policy(spec) for spec in args.policies}
    pool = (ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
            if args.workers > 1 else nullcontext())
    with pool as executor:
        result = across_agents(policies, range(args.levels), range(args.vector_levels),
                               seed=args.seed, out_dir=args.out, executor=executor,
                               progress=True)
    result.write(args.out)
    table = result.wide()
    write_csv(table, args.out / "across_agents.csv")
    print(result.agents.to_string(index=False))
    print(table.to_string(index=False))
    print("\nThe published model on each agent's decision mazes (held-out, 95% intervals):")
    print(_brief(result.scores[SCORES]))
    print("\nIts Logit coefficients per SD (Wald and bootstrap 95% intervals):")
    print(_brief(result.coefficients[COEFFICIENTS]))
    print()
    print(result.coefficient_test.to_string(index=False))
    print(result.coefficient_sentence())


def _brief(table) -> str:
    """A table as text, three decimals, each error message up to its advice."""
    table = table.assign(error=table["error"].str.split(";").str[0])
    return table.to_string(index=False, float_format="{:.3f}".format)


if __name__ == "__main__":  # not when a spawned worker imports this script
    main()
