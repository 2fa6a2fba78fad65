"""The published behavioural statistics: 10,000 vanilla episodes, decision mazes with the
cheese outside the top-right 5x5, L1 logistic regression on the 16 distance features,
VIF, feature selection, sign stability and Logit inference."""

from _common import levels, parse, policy

from behavstats.rollout import RolloutConfig, gather
from behavstats.stats import run_study

args = parse(__doc__, "analyses_out/regression", "0:10000")
episodes = gather(policy(args.policy), levels(args.levels), args.out / "episodes",
                  RolloutConfig(seed=args.seed), progress=True)
result = run_study(episodes, seed=args.seed, progress=True)
result.write(args.out)
print(result.summary().to_string(index=False))
