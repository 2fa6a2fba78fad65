"""The `behavstats` command line (also `python -m behavstats`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Statistical behavioural analysis of maze-solving policy networks.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
maze_app = typer.Typer(help="Look at single mazes.", no_args_is_help=True)
app.add_typer(maze_app, name="maze")

Mode = Annotated[str, typer.Option(help="procgen distribution mode: hard (25x25 world, the "
                                        "published agents') or easy (15x15).")]
PolicyOption = Annotated[str, typer.Option(
    "--policy", help="Policy file (published Langosco checkpoint or ours), or the name of a "
                     "shipped policy: default, region1, region15.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]
Seed = Annotated[int, typer.Option(help="Seed of every random choice.")]
Workers = Annotated[int, typer.Option(help="Parallel processes.")]


def parse_levels(spec: str) -> list[int]:
    """'A:B' (B excluded), 'N', or 'A,B,C' -> level seeds."""
    try:
        if ":" in spec:
            start, stop = (int(p) for p in spec.split(":"))
            return list(range(start, stop))
        return [int(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"levels must look like 0:1000, 7 or 1,5,9 (got {spec!r})") \
            from exc


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(2)


@app.command()
def features(
    levels: Annotated[str, typer.Option(help="Level seeds, e.g. 0:1000.")] = "0:1000",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(help="Parquet file to write.")] = Path("features.parquet"),
    workers: Workers = 1,
    quiet: Quiet = False,
) -> None:
    """Decision-square and distance features of procgen levels, one row per level."""
    from behavstats.features import level_features
    from behavstats.io import write_parquet

    seeds = parse_levels(levels)
    with _executor(workers) as executor:
        table = level_features(seeds, mode, progress=not quiet, executor=executor)
    write_parquet(table, out)
    typer.echo(f"{len(table)} levels -> {out} ({int(table.has_dsq.sum())} with a decision "
               "square)")


@maze_app.command("show")
def maze_show(
    level: Annotated[int, typer.Option(help="Level seed.")],
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(help="Image file to write.")] = Path("maze.png"),
) -> None:
    """Picture of a level with cheese, start, top-right cell, both paths and the
    decision square marked."""
    from behavstats.env import observe
    from behavstats.maze.levels import maze_for_level
    from behavstats.plots import save_figure
    from behavstats.plots.maze import plot_maze

    maze = maze_for_level(level, mode)
    ax = plot_maze(maze, observation=observe([maze])[0])
    save_figure(ax.figure, out)
    typer.echo(f"level {level} ({mode}, maze {maze.maze_dim}x{maze.maze_dim}) -> {out}")


@app.command()
def regress(
    table: Annotated[Path, typer.Argument(help="Parquet table with reached_cheese and "
                                               "feature columns.")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    features: Annotated[str | None, typer.Option(
        help="Comma-separated feature columns (default: the 16 published metrics).")] = None,
    splits: Annotated[int, typer.Option(help="Repeated train/validation splits.")] = 50,
    seed: Seed = 0,
) -> None:
    """Which maze features predict that the agent reaches the cheese (L1 logistic
    study, VIF, selection, sign stability, inference)."""
    import pandas as pd

    from behavstats.stats import StudyDataError, run_study, write_study

    if not table.is_file():
        _fail(f"{table} does not exist")
    data = pd.read_parquet(table)
    names = features.split(",") if features else None
    try:
        result = run_study(data, names, n_splits=splits, seed=seed, progress=True)
    except StudyDataError as exc:
        _fail(str(exc))
    write_study(result, out)
    typer.echo(json.dumps(result.accuracy, indent=2, default=str))


@app.command()
def vfield(
    level: Annotated[int, typer.Option(help="Level seed.")],
    policy: PolicyOption = "default",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(help=".parquet (one row per cell: x, y, p_left, "
                                           "p_down, p_noop, p_up, p_right) or .png")] =
    Path("field.parquet"),
) -> None:
    """The policy's move probabilities at every free cell of a level."""
    from behavstats.env import observe
    from behavstats.io import write_parquet
    from behavstats.maze.levels import maze_for_level
    from behavstats.vfield import vector_field

    net = _load(policy)
    maze = maze_for_level(level, mode)
    field = vector_field(net, maze)
    if out.suffix == ".png":
        from behavstats.plots import save_figure
        from behavstats.plots.vfield import plot_vector_field

        ax = plot_vector_field(field, observation=observe([maze])[0])
        save_figure(ax.figure, out)
    elif out.suffix == ".parquet":
        write_parquet(field.to_frame(), out)
    else:
        _fail(f"--out must end in .parquet or .png, got {out}")
    typer.echo(f"level {level}: {len(field.cells)} cells -> {out}")


def _load(policy: str):
    from behavstats.policy import CheckpointError, load_policy

    try:
        return load_policy(policy)
    except CheckpointError as exc:
        _fail(str(exc))


@contextmanager
def _executor(workers: int) -> Iterator:
    """A process pool of `workers` (None for one), shut down when the block ends."""
    if workers <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        yield pool


@app.command()
def gather(
    out: Annotated[Path, typer.Option(help="Output folder of parquet shards.")],
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds, e.g. 0:10000.")] = "0:10000",
    mode: Mode = "hard",
    seed: Annotated[int, typer.Option(help="Seed of the action sampling.")] = 0,
    workers: Workers = 1,
    max_steps: Annotated[int, typer.Option(help="Step limit per episode.")] = 500,
    argmax: Annotated[bool, typer.Option(help="Take the most probable move instead of "
                                              "sampling.")] = False,
    paths: Annotated[bool, typer.Option(help="Record each episode's path.")] = False,
    quiet: Quiet = False,
) -> None:
    """Run one episode per level and write the episodes table (joined with the maze
    features) as parquet shards; re-running resumes."""
    from behavstats.rollout import GatherMismatchError, RolloutConfig
    from behavstats.rollout import gather as gather_episodes

    net = _load(policy)
    config = RolloutConfig(seed=seed, mode=mode, sample=not argmax, max_steps=max_steps,
                           record_path=paths)
    try:
        with _executor(workers) as executor:
            table = gather_episodes(net, parse_levels(levels), out, config, executor=executor,
                                    progress=not quiet)
    except GatherMismatchError as exc:
        _fail(str(exc))
    chosen = table[table.has_dsq & ~table.cheese_in_tr5]
    typer.echo(f"{len(table)} episodes -> {out}: reached cheese {table.reached_cheese.mean():.1%}"
               f"; with a decision square and cheese outside the top-right 5x5: {len(chosen)} "
               f"levels, reached cheese {chosen.reached_cheese.mean():.1%}")


@app.command()
def evaluate(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Held-out level seeds.")] = "0:1000",
    region: Annotated[int | None, typer.Option(
        help="Training region size n (cheese in the top-right n x n); default: the "
             "policy's own, else 5.")] = None,
    mode: Mode = "hard",
    seed: Annotated[int, typer.Option(help="Seed of the action sampling.")] = 0,
    max_steps: Annotated[int, typer.Option(help="Step limit per episode.")] = 500,
    workers: Workers = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    card: Annotated[Path | None, typer.Option(help="Also write the policy's model card "
                                                   "(Markdown) with this evaluation.")] = None,
    card_notes: Annotated[str, typer.Option(help="Notes section of the model card.")] = "",
    card_curve: Annotated[list[Path] | None, typer.Option(
        help="Training run directory of a cloning stage of this policy (repeat, first stage "
             "first): the card shows their curves end to end.")] = None,
    quiet: Quiet = False,
) -> None:
    """Success on the training distribution and vanilla levels by maze size, and where
    the agent goes on vanilla mazes with a decision square."""
    import tempfile

    from behavstats.evaluate import evaluate as run_evaluation
    from behavstats.evaluate import evaluation_table

    net = _load(policy)
    with _executor(workers) as executor, tempfile.TemporaryDirectory() as tmp:
        result = run_evaluation(net, parse_levels(levels), region=region, seed=seed, mode=mode,
                                max_steps=max_steps, progress=not quiet, executor=executor,
                                out_dir=tmp if executor else None)
    if card:
        from behavstats.train.card import write_model_card

        write_model_card(net, result, card, name=f"{Path(policy).stem} policy", notes=card_notes,
                         stage_runs=card_curve or [])
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(evaluation_table(result).to_string(float_format=lambda v: f"{v:.3f}"))
    d = result["decision"]
    typer.echo(f"\nvanilla, decision square and cheese outside the top-right 5x5 (n={d['n']}): "
               f"cheese {d['reached_cheese']:.1%}, top-right cell {d['reached_top_right']:.1%}, "
               f"top-right 5x5 {d['reached_tr5']:.1%}; of the {d['misses']} misses, "
               f"{d['misses_reached_top_right']:.1%} reached the top-right cell and "
               f"{d['misses_reached_tr5']:.1%} the top-right 5x5")


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Run folder (resumed if it has a checkpoint).")],
    config: Annotated[Path | None, typer.Option(help="JSON file of overrides: {\"ppo\": "
                                                     "{...}, \"cloning\": {...}}.")] = None,
    n_region: Annotated[int, typer.Option(help="Cheese drawn into the top-right n x n "
                                               "region.")] = 5,
    scale: Annotated[int, typer.Option(help="IMPALA width multiplier.")] = 1,
    steps: Annotated[int | None, typer.Option(help="PPO environment steps.")] = None,
    warm_start: Annotated[bool, typer.Option(help="Clone a shortest-path expert first.")] =
    False,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Train a maze agent with PPO (optionally from a cloning warm start)."""
    from behavstats.train.cloning import CloningConfig
    from behavstats.train.ppo import PPOConfig
    from behavstats.train.run import load_config_file
    from behavstats.train.run import train as run_training

    ppo_overrides, cloning_overrides = load_config_file(config) if config else ({}, {})
    common = {"region": n_region, "scale": scale, "seed": seed}
    ppo = PPOConfig(**{**common, **({"total_steps": steps} if steps else {}), **ppo_overrides})
    cloning = CloningConfig(**{**common, **cloning_overrides}) if warm_start else None
    run_training(out, ppo, cloning, progress=not quiet)
    typer.echo(f"policy -> {out / 'policy.pt'}")


# --- interventions (cheese / top-right vectors, channels, retargeting, resampling) ---

VECTOR_LAYER_NAME = "embedder.block2.res1.resadd"
"""`hooks.VECTOR_LAYER`, spelled out so that the command line starts without torch."""
Layer = Annotated[str, typer.Option(help="Layer (module name) to edit.")]
Out = Annotated[Path, typer.Option(help="Output folder (CSV tables, summary.json, figures).")]


def _floats(spec: str, what: str) -> list[float]:
    try:
        return [float(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"{what} must be comma-separated numbers (got {spec!r})") \
            from exc


def _channel_list(spec: str | None) -> list[int] | None:
    if spec is None:
        return None
    try:
        return [int(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"channels must look like 55,42 (got {spec!r})") from exc


def _experiment(run, policy: str, levels: str, out: Path, *, quiet: bool, **kwargs):
    """`run(policy, levels, out, progress=not quiet, **kwargs)`, an intervention
    experiment, with the policy file loaded and the level seeds parsed; input errors
    become CLI errors."""
    from behavstats.hooks import UnknownLayerError
    from behavstats.interventions import ChannelError, NoUsableLevelsError
    from behavstats.maze import MazeStateError

    net, seeds = _load(policy), parse_levels(levels)
    try:
        return run(net, seeds, out, progress=not quiet, **kwargs)
    except (NoUsableLevelsError, ChannelError, UnknownLayerError, MazeStateError) as exc:
        _fail(str(exc))


def _ci(entry: dict, key: str = "mean") -> str:
    return f"{entry[key]:+.3f} [{entry['ci_low']:+.3f}, {entry['ci_high']:+.3f}]"


@app.command("cheese-vector")
def cheese_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds (those with a decision square "
                                             "are used).")] = "0:100",
    out: Out = Path("cheese-vector"),
    coeffs: Annotated[str, typer.Option(help="Coefficients, comma-separated: activation + "
                                             "coeff * vector (-1 = published).")] =
    "-2,-1,-0.5,0.5,1,2",
    layer: Layer = VECTOR_LAYER_NAME,
    near: Annotated[int, typer.Option(help="Transfer: 'near' = cheeses at most this many "
                                           "cells apart (Chebyshev).")] = 2,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Cheese vector: P(step towards the cheese) at the decision square before / after
    adding coeff x vector, with random-vector and cheese-absent controls and transfer."""
    from behavstats.interventions import run_cheese_vector

    result = _experiment(run_cheese_vector, policy, levels, out, quiet=quiet,
                         coeffs=_floats(coeffs, "coeffs"), layer=layer, near=near, mode=mode,
                         seed=seed)
    s = result.summary
    typer.echo(f"{s['n_used']} of {s['n_levels']} levels have a decision square")
    for entry in s["by_coeff"]:
        p = entry["p_cheese"]
        typer.echo(f"coeff {entry['coeff']:+g}: median P(cheese) {p['median_before']:.3f} -> "
                   f"{p['median_after']:.3f}, fell in {p['share_decreased']:.0%} of levels, "
                   f"mean change {_ci(p, 'mean_change')}; random vector "
                   f"{_ci(entry['p_cheese_random'], 'mean_change')}")
    for name, t in s["transfer"].items():
        typer.echo(f"transfer, {name} cheese: mean change {_ci(t)} ({t['n']} target levels)")
    typer.echo(f"-> {out}")


@app.command("top-right-vector")
def top_right_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds (those with a decision square and "
                                             "a maze smaller than the world are used).")] =
    "0:100",
    out: Out = Path("top-right-vector"),
    coeffs: Annotated[str, typer.Option(help="Coefficients, comma-separated.")] =
    "-1,0.5,1,2,5,10",
    layer: Layer = VECTOR_LAYER_NAME,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Top-right vector: P(step towards the top-right) at the decision square and the
    change of the whole field per coefficient; transfer; composition with the cheese
    vector."""
    from behavstats.interventions import run_top_right_vector

    result = _experiment(run_top_right_vector, policy, levels, out, quiet=quiet,
                         coeffs=_floats(coeffs, "coeffs"), layer=layer, mode=mode, seed=seed)
    s = result.summary
    typer.echo(f"{s['n_used']} of {s['n_levels']} levels used ({s['n_corridor_empty']} fill "
               "the world: no corridor, skipped)")
    for entry in s["by_coeff"]:
        p = entry["p_topright"]
        typer.echo(f"coeff {entry['coeff']:+g}: median P(top-right) {p['median_before']:.3f} "
                   f"-> {p['median_after']:.3f}, mean change {_ci(p, 'mean_change')}; field "
                   f"P(towards top-right) {_ci(entry['field_toward_tr_change'])}")
    typer.echo(f"transfer: mean change {_ci(s['transfer']['all'])}; interaction "
               f"(both - cheese - top_right + none) on P(top-right) "
               f"{_ci(s['interaction']['p_topright'])}")
    typer.echo(f"-> {out}")


@app.command("channels")
def channels_command(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds.")] = "0:200",
    out: Out = Path("channels"),
    placements: Annotated[int, typer.Option(help="Random cheese cells per maze.")] = 4,
    layer: Layer = VECTOR_LAYER_NAME,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Rank a layer's channels by how well their activation maps track the cheese."""
    from behavstats.interventions import run_channels

    result = _experiment(run_channels, policy, levels, out, quiet=quiet, layer=layer,
                         placements=placements, mode=mode, seed=seed)
    columns = ["channel", "score", "argmax_corr", "mass_corr", "argmax_hit", "cheese_max"]
    typer.echo(result.table[columns].head(12).to_string(index=False,
                                                       float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"tracked (score >= {result.summary['track_threshold']}): "
               f"{result.summary['tracked']}; chance hit rate "
               f"{result.summary['chance_hit']:.3f}\n-> {out}")


@app.command("retarget")
def retarget_command(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds (cheese removed).")] = "0:10",
    out: Out = Path("retarget"),
    channels: Annotated[str | None, typer.Option(help="Channels to clamp, e.g. 55,42 (default: "
                                                      "top-1, top-k and tracked channels of a "
                                                      "discovery run).")] = None,
    value: Annotated[float | None, typer.Option(help="Clamp value for every channel (default: "
                                                     "value-scale x the channel's max at the "
                                                     "cheese).")] = None,
    value_scale: Annotated[float, typer.Option(help="Multiple of the channel's max activation "
                                                    "at the cheese.")] = 5.0,
    fill: Annotated[float | None, typer.Option(help="Set the rest of the clamped channels to "
                                                    "this value.")] = None,
    rollouts: Annotated[int, typer.Option(help="Sampled episodes per target square.")] = 4,
    step_budget: Annotated[float, typer.Option(help="An episode reaches the target if within "
                                                    "this many times its path length.")] = 2.0,
    discovery_levels: Annotated[str, typer.Option(help="Levels of the channel discovery.")] =
    "1000:1100",
    layer: Layer = VECTOR_LAYER_NAME,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Retargeting: clamp the target square's activation cell in cheese channels; success
    per target square (path probability, reached share) and by distance from the path to
    the top-right cell."""
    from behavstats.interventions import run_retarget

    chosen = _channel_list(channels)
    result = _experiment(run_retarget, policy, levels, out, quiet=quiet,
                         channel_sets=None if chosen is None else {"given": chosen},
                         layer=layer, value=value, value_scale=value_scale, fill=fill,
                         n_rollouts=rollouts, step_budget=step_budget,
                         discovery_levels=parse_levels(discovery_levels), mode=mode,
                         seed=seed)
    for name, entry in result.summary["by_set"].items():
        typer.echo(f"{name} {result.channel_sets[name]}: P(path) {_ci(entry['p_path'])}, "
                   f"reached {_ci(entry['reach'])}, lift over no clamp "
                   f"{_ci(entry['p_path_lift'])}")
    typer.echo(f"-> {out}")


@app.command("resample")
def resample_command(
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds (>= 30 recommended).")] = "0:40",
    out: Out = Path("resample"),
    channels: Annotated[str | None, typer.Option(help="Cheese channels, best first (default: "
                                                      "from a discovery run).")] = None,
    source_levels: Annotated[str, typer.Option(help="Pool of levels to draw sources from.")] =
    "10000:11000",
    discovery_levels: Annotated[str, typer.Option(help="Levels of the channel discovery.")] =
    "1000:1100",
    layer: Layer = VECTOR_LAYER_NAME,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Resampling: replace cheese channels (vs random channels) with those of a maze whose
    cheese is at the same / a different place; mean per-cell TV distance and the
    published statistic."""
    from behavstats.interventions import run_resample

    result = _experiment(run_resample, policy, levels, out, quiet=quiet,
                         channels=_channel_list(channels), layer=layer,
                         source_levels=parse_levels(source_levels),
                         discovery_levels=parse_levels(discovery_levels), mode=mode,
                         seed=seed)
    typer.echo(f"channels {result.summary['channels']}")
    for key, entry in result.summary["effects"].items():
        typer.echo(f"{key}: TV {_ci(entry['tv'])}, published {_ci(entry['published'])} "
                   f"(n={entry['tv']['n']})")
    typer.echo(f"-> {out}")


@app.command()
def study(
    out: Annotated[Path, typer.Option(help="Study folder (re-running reuses finished parts).")],
    policy: PolicyOption = "default",
    quick: Annotated[bool, typer.Option(help="Shrink every size: a ~2-minute smoke run.")] =
    False,
    workers: Annotated[int, typer.Option(help="Parallel processes for episodes.")] = 1,
    seed: Seed = 0,
    mode: Mode = "hard",
    quiet: Quiet = False,
) -> None:
    """The whole study of a policy: evaluation, episodes, behavioural regression, cheese
    and top-right vectors, channels, retargeting, resampling -> OUT/report.html."""
    from behavstats.study import StudyConfig, quick_config, run_full_study

    net = _load(policy)
    config = quick_config(seed, mode) if quick else StudyConfig(seed=seed, mode=mode)
    with _executor(workers) as executor:
        outcomes = run_full_study(net, policy, out, config, executor=executor,
                                  progress=not quiet, log=typer.echo)
    total = sum(o.seconds for o in outcomes if not o.reused)
    typer.echo(f"report -> {out / 'report.html'} ({total:.0f} s computed, "
               f"{sum(o.reused for o in outcomes)} parts reused)")


# --- sweeps over layers and channels, and probes ---

DsqLevels = Annotated[str, typer.Option(help="Level seeds (those with a decision square are "
                                             "used).")]


@app.command("layer-sweep")
def layer_sweep_command(
    policy: PolicyOption = "default",
    levels: DsqLevels = "0:100",
    out: Out = Path("layer-sweep"),
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Cheese vector (x -1, +1) and top-right vector (x +1, +2) computed and added at
    every residual add: change of P(cheese) / P(top-right) at the decision square and
    field TV -> OUT/layer_sweep.csv."""
    from behavstats.sweeps import run_layer_sweep

    result = _experiment(run_layer_sweep, policy, levels, out, quiet=quiet, mode=mode,
                         seed=seed)
    table = result.layer_sweep
    best = table[(table.vector == "cheese") & (table.coeff == -1)
                 & (table.target == "p_cheese")].sort_values("estimate").iloc[0]
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    typer.echo(f"cheese vector x -1 steers most at {best.layer}: P(cheese) "
               f"{best.estimate:+.3f} [{best.ci_low:+.3f}, {best.ci_high:+.3f}] (n={best.n})"
               f"\n-> {out}")


@app.command("ablate")
def ablate_command(
    policy: PolicyOption = "default",
    layer: Layer = VECTOR_LAYER_NAME,
    levels: DsqLevels = "0:100",
    placements: Annotated[int, typer.Option(help="Random cheese cells per maze of the "
                                                 "channel discovery (tracking score).")] = 4,
    out: Out = Path("ablation"),
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Zero- and mean-ablate (leave-one-maze-out mean) each channel of a layer: change
    of P(cheese) at the decision square beside the tracking score ->
    OUT/ablation.csv."""
    from behavstats.sweeps import run_ablation

    result = _experiment(run_ablation, policy, levels, out, quiet=quiet, layer=layer,
                         placements=placements, mode=mode, seed=seed)
    for method, part in result.ablation.groupby("method", sort=False):
        typer.echo(f"{method}-ablation, largest effects:")
        typer.echo(part.head(8).to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    typer.echo(f"-> {out}")


PerEpisode = Annotated[int, typer.Option(help="Observations per episode (cells of its path).")]


@app.command("probe")
def probe_command(
    out: Out = Path("probes"),
    policy: PolicyOption = "default",
    levels: Annotated[str, typer.Option(help="Level seeds (split by level into train and "
                                             "test).")] = "0:1000",
    per_episode: PerEpisode = 4,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Linear probes of every residual add and the embedder output for cheese and mouse
    position, cheese in the top-right 5x5 and reaching the cheese, with baselines,
    control tasks and a random network -> OUT/probes.csv."""
    from behavstats.sweeps import run_probes

    if per_episode < 1:
        _fail(f"--per-episode must be at least 1, got {per_episode}")
    result = _experiment(run_probes, policy, levels, out, quiet=quiet, per_episode=per_episode,
                         mode=mode, seed=seed)
    typer.echo(result.probes.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"-> {out}")
