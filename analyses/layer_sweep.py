"""Layer sweep: the cheese vector (x -1, +1) and the top-right vector (x +1, +2), each
computed and added at every residual add, on seeds 0-99; where each vector steers and
where it only breaks the policy."""

from _common import levels, parse, policy

from behavstats.sweeps import run_layer_sweep

args = parse(__doc__, "analyses_out/layer_sweep", "0:100")
result = run_layer_sweep(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                         progress=True)
print(result.summary().to_string(index=False))
