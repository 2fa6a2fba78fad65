"""The top-right vector: activations of the maze with a corridor to the world's top-right
minus the original maze; coefficient sweep, transfer and composition with the cheese
vector."""

from _common import levels, parse, policy

from behavstats.interventions import run_top_right_vector

args = parse(__doc__, "analyses_out/top_right_vector", "0:100")
result = run_top_right_vector(policy(args.policy), levels(args.levels), args.out,
                              seed=args.seed, progress=True)
print(result.summary().to_string(index=False))
