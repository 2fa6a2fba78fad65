"""Commands on many levels' episodes and features: features, gather, evaluate, regress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import typer

from behavstats.cli.app import app
from behavstats.cli.options import (
    MaxSteps,
    Mode,
    PolicyOption,
    Quiet,
    SamplingSeed,
    Seed,
    Workers,
    echo_summary,
    folder,
    levels_option,
    load,
    output_path,
    process_pool,
)
from behavstats.experiments import Evaluation, Regression
from behavstats.vocabulary import (
    DECISION_GROUP,
    DECISION_MAZES,
    HAS_DSQ,
    LABEL,
    PROCGEN_STEP_LIMIT,
    REACHED,
    TOP_RIGHT_REGION,
    decision_mazes,
)

REGRESSION, EVALUATION = Regression(), Evaluation()
"""The settings' defaults, shown by the options."""

@app.command()
def features(
    levels: Annotated[Sequence[int], levels_option("Level seeds.")] = "0:1000",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=output_path(),
                                      help="Parquet file to write.")] =
    Path("features.parquet"),
    workers: Workers = 1,
    quiet: Quiet = False,
) -> None:
    """Decision-square and distance features of procgen levels, one row per level."""
    from behavstats.features import level_features
    from behavstats.io import write_parquet

    with process_pool(workers) as executor:
        table = level_features(levels, mode, progress=not quiet, executor=executor)
    write_parquet(table, out)
    typer.echo(f"{len(table)} levels -> {out} ({int(table[HAS_DSQ].sum())} with a decision "
               "square)")


@app.command()
def gather(
    out: Annotated[Path, folder("Output folder of parquet shards.")],
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds.")] = "0:10000",
    mode: Mode = "hard",
    seed: SamplingSeed = 0,
    workers: Workers = 1,
    max_steps: MaxSteps = PROCGEN_STEP_LIMIT,
    argmax: Annotated[bool, typer.Option(help="Take the most probable move instead of "
                                              "sampling.")] = False,
    paths: Annotated[bool, typer.Option(help="Record each episode's path.")] = False,
    quiet: Quiet = False,
) -> None:
    """Run one episode per level and write the episodes table (joined with the maze
    features) as parquet shards; re-running resumes."""
    from behavstats.rollout import RolloutConfig
    from behavstats.rollout import gather as gather_episodes

    net = load(policy)
    config = RolloutConfig(seed=seed, mode=mode, sample=not argmax, max_steps=max_steps,
                           record_path=paths)
    with process_pool(workers) as executor:
        table = gather_episodes(net, levels, out, config, executor=executor,
                                progress=not quiet)
    chosen = decision_mazes(table)
    typer.echo(f"{len(table)} episodes -> {out}: reached cheese {table[LABEL].mean():.1%}; "
               f"{DECISION_MAZES}: {len(chosen)} levels, reached cheese "
               f"{chosen[LABEL].mean():.1%}")


@app.command()
def evaluate(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Held-out level seeds.")] = "0:1000",
    region: Annotated[int | None, typer.Option(
        min=1, help="Training region size n (cheese in the top-right n x n); default: the "
                    f"policy's own, else {TOP_RIGHT_REGION}.")] = EVALUATION.region,
    mode: Mode = EVALUATION.mode,
    seed: SamplingSeed = EVALUATION.seed,
    max_steps: MaxSteps = EVALUATION.max_steps,
    workers: Workers = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    card: Annotated[Path | None, typer.Option(
        dir_okay=False, callback=output_path(), help="Also write the policy's model card "
                                                 "(Markdown) with this evaluation.")] = None,
    card_notes: Annotated[str, typer.Option(help="Notes section of the model card.")] = "",
    card_curve: Annotated[list[Path] | None, typer.Option(
        exists=True, file_okay=False, help="Training run directory of a cloning stage of "
                                           "this policy (repeat, first stage first): the card "
                                           "shows their curves end to end.")] = None,
    quiet: Quiet = False,
) -> None:
    """Success on the training distribution and vanilla levels by maze size, and where
    the agent goes on vanilla mazes with a decision square."""
    import tempfile

    from behavstats.train.card import cloning_logs, write_model_card

    cloning_logs(card_curve or [])  # before the evaluation, not after it
    net = load(policy)
    with process_pool(workers) as executor, tempfile.TemporaryDirectory() as tmp:
        settings = Evaluation(region=region, seed=seed, mode=mode, max_steps=max_steps)
        result = settings.run(net, levels, progress=not quiet, executor=executor,
                              episodes_dir=tmp if executor else None)
    if card:
        write_model_card(net, result, card, name=f"{Path(policy).stem} policy", notes=card_notes,
                         stage_runs=card_curve or [])
    if as_json:
        typer.echo(result.to_json())
        return
    typer.echo(result.table().to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"\nvanilla {DECISION_MAZES} ({DECISION_GROUP}), and their misses:")
    echo_summary(result, ("decision_share", *REACHED))


@app.command()
def regress(
    table: Annotated[Path, typer.Argument(
        exists=True, help="Episodes: a parquet table with reached_cheese and feature "
                          "columns, the folder `behavstats gather` wrote, or a study folder.")],
    out: Annotated[Path, folder("Output folder.")],
    features: Annotated[str | None, typer.Option(
        help="Comma-separated feature columns (default: the 16 published metrics).")] = None,
    splits: Annotated[int, typer.Option(min=1, help="Repeated train/validation splits.")] =
    REGRESSION.n_splits,
    stability_pairs: Annotated[int, typer.Option(
        min=1, help="Complementary pairs of half-samples for stability selection.")] =
    REGRESSION.n_pairs,
    threshold: Annotated[float, typer.Option(
        min=0.5, max=1.0, help="Selection probability (above 0.5) at which stability "
                               "selection calls a feature stable.")] = REGRESSION.threshold,
    inference: Annotated[Literal["split", "same_data"], typer.Option(
        help="split: select on one half of the mazes and infer (Logit p-values, "
             "intervals) on the other; same_data: select and infer on all rows, as "
             "published (p-values too small: only to reproduce the published table).")
    ] = REGRESSION.inference,
    seed: Seed = REGRESSION.seed,
) -> None:
    """Which maze features predict that the agent reaches the cheese: held-out log-loss,
    AUC and accuracy of L1 logistic models, VIF, selection by log-loss, stability
    selection, sign stability and inference on rows the selection did not see."""
    from behavstats.episodes import load_episodes

    settings = Regression(features=features.split(",") if features else None,
                          n_splits=splits, seed=seed, n_pairs=stability_pairs,
                          threshold=threshold, inference=inference)
    result = settings.fit(load_episodes(table), progress=True)
    result.write(out)
    echo_summary(result, ("log_loss", "auc", "accuracy", "baseline"))
    params = result.params
    chosen_on = "selection half" if params["inference"] == "split" else "all rows"
    typer.echo(f"selected features (by log-loss, on the {chosen_on}): "
               f"{', '.join(params['selected']) or 'none'}\n"
               f"stable features (probability >= {params['threshold']:g}): "
               f"{', '.join(params['stable']) or 'none'}; expected false selections <= "
               f"{params['false_selection_bound']:.2g}\n-> {out}")

