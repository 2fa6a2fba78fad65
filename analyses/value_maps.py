"""Value maps on seeds 0-99: the value head's output with the mouse on every free cell,
with the cheese present, removed and under the cheese vector (x -1), and the mean value
by steps to the cheese and to the top-right cell."""

from _common import levels, parse, policy

from behavstats.experiments import ValueMaps

args = parse(__doc__, "analyses_out/value_maps", "0:100")
result = ValueMaps(seed=args.seed).run(policy(args.policy), levels(args.levels), args.out,
                                       progress=True)
print(f"value head: {result.params['value_head']}")
print(result.summary().to_string(index=False))
