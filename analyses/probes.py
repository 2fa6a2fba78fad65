"""Linear probes of every residual add and the embedder output on seeds 0-999:
flattened (cheese and mouse position, cheese in the top-right 5x5, reaching the cheese;
held-out accuracy beside the majority baseline, a control task and a random network),
spatial (one classifier shared over a layer's cells: the cheese's cell and the path to
it) and early-decision (is reaching the cheese readable from the first observation, as
at the decision square, beside the published maze features?)."""

from _common import levels, parse, policy

from behavstats.sweeps import run_probes

args = parse(__doc__, "analyses_out/probes", "0:1000")
result = run_probes(policy(args.policy), levels(args.levels), args.out, seed=args.seed,
                    progress=True)
columns = ["layer", "target", "score", "accuracy", "ci_low", "ci_high", "baseline",
           "control_accuracy", "q_value", "random_network_accuracy", "n_test"]
for kind, table in result.probes.groupby("kind", sort=False):
    print(f"\n{kind} probes:")
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
early = result.probes[result.probes["kind"].isin(["first_observation", "decision_square"])]
if not early.empty:
    auc = early.pivot(index="layer", columns="kind", values="accuracy")
    features = result.probes.loc[result.probes["kind"] == "maze_features", "accuracy"]
    print(f"\nHow early is the decision readable? AUC of 'reaches the cheese' by layer "
          f"({result.params['n_decision_mazes']} decision mazes; the published maze "
          f"features give {features.iloc[0]:.3f}):")
    print(auc.reindex(result.params["layers"]).to_string(float_format=lambda v: f"{v:.3f}"))
