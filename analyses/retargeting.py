"""Retargeting by clamping cheese-tracking channels: find the channels that track the
cheese, then clamp one activation cell per target square and measure how often the
agent goes there."""

from _common import levels, parse, policy

from behavstats.interventions import run_channels, run_retarget

args = parse(__doc__, "analyses_out/retargeting", "0:10")
net = policy(args.policy)
channels = run_channels(net, range(1000, 1200), args.out / "channels", seed=args.seed,
                        progress=True)
result = run_retarget(net, levels(args.levels), args.out / "retarget",
                      discovery=channels, seed=args.seed, progress=True)
print(channels.summary().to_string(index=False))
print(result.summary().to_string(index=False))
