"""Linear probes of every residual add and the embedder output on seeds 0-999: cheese
and mouse position, cheese in the top-right 5x5, reaching the cheese; held-out
accuracy beside the majority baseline, a control task and a random network."""

from _common import levels, parse, policy

from behavstats.sweeps import run_probes

args = parse(__doc__, "analyses_out/probes", "0:1000")
result = run_probes(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                    progress=True)
print(result.probes.to_string(index=False))
