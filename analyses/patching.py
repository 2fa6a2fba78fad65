"""Activation patching maps: seeds 0-99, each maze's decision-square run clean and with
the cheese moved, the cheese removed, the mouse at the start and a wall opened; one
channel or one cell of embedder.block2.res1.resadd patched between the runs in both
directions; the channels that restore most of P(cheese) beside their tracking scores
and ablation effects, and the cell map's mass near the cheese."""

from _common import levels, parse, policy

from behavstats.maps.patching import run_patching

args = parse(__doc__, "analyses_out/patching", "0:100")
result = run_patching(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                      progress=True)
channels = result.patching.query("unit == 'channel' and corruption == 'cheese_moved' and "
                                 "metric == 'p_cheese'")
columns = ["direction", "channel", "estimate", "ci_low", "ci_high", "n", "q_value",
           "tracking_score", "ablation_effect"]
print(channels.groupby("direction").head(5)[columns].to_string(index=False))
mass = result.summary().query("quantity in ['cell_mass_near_cheese', 'cell_share_near_cheese']")
print(mass[["quantity", "condition", "estimate", "ci_low", "ci_high", "n"]].to_string(index=False))
