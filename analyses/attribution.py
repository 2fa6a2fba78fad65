"""Integrated gradients at the decision square on seeds 0-49: P(towards cheese) and the
log-odds of the cheese move against the top-right move, attributed to the input pixels
and to the channels and cells of embedder.block2.res1.resadd, against the maze without
its cheese and the open maze; steps doubled until the attributions sum to the output
difference within 5%."""

from _common import levels, parse, policy

from behavstats.experiments import Attribution

args = parse(__doc__, "analyses_out/attribution", "0:50")
result = Attribution(seed=args.seed).run(policy(args.policy), levels(args.levels), args.out,
                                         progress=True)
summary = result.summary()
print(summary[summary["quantity"] != "channel_attribution"].to_string(index=False))
