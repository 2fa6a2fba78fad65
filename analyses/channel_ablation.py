"""Channel ablation: each channel of embedder.block2.res1.resadd zero- and mean-ablated
on seeds 0-99, the change of P(cheese) at the decision square beside channel
discovery's tracking score."""

from _common import levels, parse, policy

from behavstats.sweeps import run_ablation

args = parse(__doc__, "analyses_out/channel_ablation", "0:100")
result = run_ablation(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                      progress=True)
print(result.ablation.head(12).to_string(index=False))
