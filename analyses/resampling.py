"""Resampling the cheese channels from mazes with the cheese at the same or another
location, against as many random other channels (causal-scrubbing style)."""

from _common import levels, parse, policy

from behavstats.interventions import run_resample

args = parse(__doc__, "analyses_out/resampling", "0:30")
result = run_resample(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                      progress=True)
print(result.summary().to_string(index=False))
