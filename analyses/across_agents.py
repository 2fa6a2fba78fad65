"""The same study across several policies (e.g. agents trained with different cheese
regions): success rates, where misses go, and the cheese vector's effect, side by side.

    python analyses/across_agents.py --policies default region1 region15 --out across/
"""

import argparse
from pathlib import Path

import pandas as pd

from behavstats.evaluate import evaluate
from behavstats.interventions import NoUsableLevelsError, run_cheese_vector
from behavstats.io import write_csv
from behavstats.policy import load_policy

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--policies", nargs="+", required=True,
                    help="policy files or names of shipped policies")
parser.add_argument("--out", type=Path, default=Path("analyses_out/across_agents"))
parser.add_argument("--levels", type=int, default=500, help="evaluation levels 0..N-1")
parser.add_argument("--vector-levels", type=int, default=100, help="cheese-vector levels 0..N-1")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def cheese_vector_columns(policy, out: Path) -> dict:
    """P(cheese) at the decision square before and after subtracting the cheese vector
    (coefficient -1, the published edit), and its transfer to near / far mazes."""
    try:
        summary = run_cheese_vector(policy, range(args.vector_levels), out, coeffs=(-1.0,),
                                    seed=args.seed, progress=True).summary
    except NoUsableLevelsError as exc:
        return {"cheese_vector_error": str(exc)}
    (entry,) = summary["by_coeff"]
    p = entry["p_cheese"]
    return {"cheese_vector_levels": p["n"], "p_cheese_median_before": p["median_before"],
            "p_cheese_median_after": p["median_after"], "p_cheese_mean_change": p["mean_change"],
            "p_cheese_change_ci": f"[{p['ci_low']:.3f}, {p['ci_high']:.3f}]",
            "share_decreased": p["share_decreased"],
            **{f"transfer_{group}_change": summary["transfer"].get(group, {}).get("mean")
               for group in ("near", "far")}}


rows = []
for spec in args.policies:
    policy = load_policy(spec)
    name = Path(spec).stem
    evaluation = evaluate(policy, range(args.levels), seed=args.seed, progress=True)
    rows.append({"policy": spec, "region": evaluation["region"],
                 "success_training": evaluation["training"]["all"],
                 "success_vanilla": evaluation["vanilla"]["all"],
                 **{f"decision_{k}": v for k, v in evaluation["decision"].items()},
                 **cheese_vector_columns(policy, args.out / name)})
table = pd.DataFrame(rows)
write_csv(table, args.out / "across_agents.csv")
print(table.T.to_string())
