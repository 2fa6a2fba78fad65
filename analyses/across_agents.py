"""The same study across several policies (e.g. agents trained with different cheese
regions): success rates, where misses go, and the cheese vector's effect, side by side.

    python analyses/across_agents.py --policies a.pt b.pt c.pt --out across/
"""

import argparse
from pathlib import Path

import pandas as pd

from behavstats.evaluate import evaluate
from behavstats.interventions import run_cheese_vector
from behavstats.io import write_csv
from behavstats.policy import load_policy

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--policies", nargs="+", required=True)
parser.add_argument("--out", type=Path, default=Path("analyses_out/across_agents"))
parser.add_argument("--levels", type=int, default=500, help="evaluation levels 0..N-1")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

rows = []
for spec in args.policies:
    policy = load_policy(spec)
    name = Path(spec).stem
    evaluation = evaluate(policy, range(args.levels), seed=args.seed, progress=True)
    vector = run_cheese_vector(policy, range(100), args.out / name, seed=args.seed,
                               progress=True)
    rows.append({"policy": spec, "region": policy.training_region,
                 "success_training": evaluation["training"]["all"],
                 "success_vanilla": evaluation["vanilla"]["all"],
                 **{f"decision_{k}": v for k, v in evaluation["decision"].items()},
                 **{f"cheese_vector_{k}": v for k, v in vector.summary.items()
                    if isinstance(v, int | float)}})
table = pd.DataFrame(rows)
write_csv(table, args.out / "across_agents.csv")
print(table.to_string())
