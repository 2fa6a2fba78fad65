"""The cheese vector: subtract (and add) the with-cheese minus without-cheese activations
at embedder.block2.res1.resadd on seeds 0-99; P(cheese) at the decision square before
and after, the random-vector and cheese-absent controls, and transfer across mazes."""

from _common import levels, parse, policy

from behavstats.interventions import run_cheese_vector

args = parse(__doc__, "analyses_out/cheese_vector", "0:100")
result = run_cheese_vector(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                           progress=True)
print(result.summary().to_string(index=False))
