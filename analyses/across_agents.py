"""The same study across several policies (e.g. agents trained with different cheese
regions): success rates, where misses go, and the cheese vector's effect, side by side.

    python analyses/across_agents.py --policies default region1 region15 --out across/
"""

import argparse
from pathlib import Path

from behavstats.across import across_agents
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

policies = {Path(spec).stem: load_policy(spec) for spec in args.policies}
result = across_agents(policies, range(args.levels), range(args.vector_levels),
                       seed=args.seed, out_dir=args.out, progress=True)
result.save(args.out)
table = result.wide()
write_csv(table, args.out / "across_agents.csv")
print(result.agents.to_string(index=False))
print(table.to_string(index=False))
