"""Retargeting at Mini et al.'s protocol: find the channels that track the cheese, then
per target square compare no edit, the real cheese moved there and clamps of those
channels at its activation cell; success = geometric mean of P(move along the shortest
path), by distance to the path to the top-right and by maze size."""

from _common import levels, parse, policy

from behavstats.interventions import run_channels, run_retarget

args = parse(__doc__, "analyses_out/retargeting", "0:100")
net = policy(args.policy)
channels = run_channels(net, range(1000, 1200), args.out / "channels", seed=args.seed,
                        progress=True)
result = run_retarget(net, levels(args.levels), args.out / "retarget",
                      discovery=channels, seed=args.seed, progress=True)
print(channels.summary().to_string(index=False))
print(result.summary().to_string(index=False))
