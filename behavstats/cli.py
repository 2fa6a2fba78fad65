"""The `behavstats` command line (also `python -m behavstats`)."""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from typer.core import TyperGroup

from behavstats.errors import UserError
from behavstats.levelspec import MAX_SEED, parse_levels

MODES = Literal["easy", "hard"]
"""The keys of `maze.model.WORLD_DIMS`, spelled out so that the command line starts
without numpy."""
PROCGEN_STEP_LIMIT = 500
"""`rollout.PROCGEN_STEP_LIMIT`, spelled out for the same reason."""
_click = importlib.import_module(typer.BadParameter.__module__)
"""click's exceptions, wherever this typer takes click from (its own copy since 0.2x)."""


def _fail(message: str) -> None:
    """Print `error: message` as one line on stderr and exit with status 2."""
    typer.secho(f"error: {' '.join(message.split())}", fg="red", err=True)
    raise typer.Exit(2)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A bad option (click's usage error) or a UserError of the package -> `_fail`."""
    try:
        yield
    except getattr(_click, "NoArgsIsHelpError", ()):  # shows the help; not in old click
        raise
    except _click.UsageError as exc:
        hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
        _fail(exc.format_message() + hint)
    except UserError as exc:
        _fail(str(exc))


class _Commands(TyperGroup):
    """The root command, where every user error of every subcommand ends as one line
    (not click's boxed usage message, nor a traceback)."""

    def make_context(self, *args, **kwargs) -> typer.Context:
        with _one_line_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context):
        with _one_line_errors():
            return super().invoke(ctx)


app = typer.Typer(help="Statistical behavioural analysis of maze-solving policy networks.",
                  cls=_Commands, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown")
maze_app = typer.Typer(help="Look at single mazes.", no_args_is_help=True)
app.add_typer(maze_app, name="maze")


def _levels(spec: str) -> list[int]:
    """`parse_levels` for an option, so that its error names the option."""
    try:
        return parse_levels(spec)
    except UserError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _levels_option(help: str):
    return typer.Option(parser=_levels, metavar="LEVELS", help=f"{help} Spec: 0:1000 (1000 "
                        "excluded), 7 or 1,5,9.")


def _finite(value: float | None) -> float | None:
    """NaN and infinities are no value of any numeric option."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


def _output(*suffixes: str):
    """A callback for an output path, refusing before any work one that cannot be
    written: inside a file, or not ending in one of `suffixes` (when given)."""
    def check(path: Path | None) -> Path | None:
        if path is None:
            return None
        if suffixes and path.suffix not in suffixes:
            raise typer.BadParameter(f"must end in {' or '.join(suffixes)}, got {path}")
        folder = next(p for p in path.absolute().parents if p.exists())
        if not folder.is_dir():
            raise typer.BadParameter(f"{folder} is a file, not a folder")
        return path
    return check


Mode = Annotated[MODES, typer.Option(help="procgen distribution mode: hard (25x25 world, the "
                                         "published agents') or easy (15x15).")]
PolicyOption = Annotated[str, typer.Option(
    "--policy", help="Policy file (published Langosco checkpoint or ours), or the name of a "
                     "shipped policy: default, region1, region15.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]
Seed = Annotated[int, typer.Option(min=0, help="Seed of every random choice.")]
SamplingSeed = Annotated[int, typer.Option(min=0, help="Seed of the action sampling.")]
Workers = Annotated[int, typer.Option(min=1, help="Parallel processes.")]
Level = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Level seed.")]
MaxSteps = Annotated[int, typer.Option(min=1, max=PROCGEN_STEP_LIMIT,
                                       help="Step limit per episode.")]


def _folder(help: str):
    """An output folder option: a file of that name, or a path inside a file, is refused
    before any work."""
    return typer.Option(file_okay=False, callback=_output(), help=help)


@app.command()
def features(
    levels: Annotated[Sequence[int], _levels_option("Level seeds.")] = "0:1000",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=_output(),
                                      help="Parquet file to write.")] =
    Path("features.parquet"),
    workers: Workers = 1,
    quiet: Quiet = False,
) -> None:
    """Decision-square and distance features of procgen levels, one row per level."""
    from behavstats.features import level_features
    from behavstats.io import write_parquet

    with _executor(workers) as executor:
        table = level_features(levels, mode, progress=not quiet, executor=executor)
    write_parquet(table, out)
    typer.echo(f"{len(table)} levels -> {out} ({int(table.has_dsq.sum())} with a decision "
               "square)")


@maze_app.command("show")
def maze_show(
    level: Level,
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=_output(".png", ".pdf", ".svg"),
                                      help="Image file to write.")] = Path("maze.png"),
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
    table: Annotated[Path, typer.Argument(
        exists=True, help="Episodes: a parquet table with reached_cheese and feature "
                          "columns, the folder `behavstats gather` wrote, or a study folder.")],
    out: Annotated[Path, _folder("Output folder.")],
    features: Annotated[str | None, typer.Option(
        help="Comma-separated feature columns (default: the 16 published metrics).")] = None,
    splits: Annotated[int, typer.Option(min=1, help="Repeated train/validation splits.")] = 50,
    stability_pairs: Annotated[int, typer.Option(
        min=1, help="Complementary pairs of half-samples for stability selection.")] = 50,
    threshold: Annotated[float, typer.Option(
        min=0.5, max=1.0, help="Selection probability (above 0.5) at which stability "
                               "selection calls a feature stable.")] = 0.8,
    inference: Annotated[Literal["split", "same_data"], typer.Option(
        help="split: select on one half of the mazes and infer (Logit p-values, "
             "intervals) on the other; same_data: select and infer on all rows, as "
             "published (p-values too small: only to reproduce the published table).")
    ] = "split",
    seed: Seed = 0,
) -> None:
    """Which maze features predict that the agent reaches the cheese: held-out log-loss,
    AUC and accuracy of L1 logistic models, VIF, selection by log-loss, stability
    selection, sign stability and inference on rows the selection did not see."""
    from behavstats.episodes import load_episodes
    from behavstats.stats import run_study

    data = load_episodes(table)
    names = features.split(",") if features else None
    result = run_study(data, names, n_splits=splits, seed=seed, n_pairs=stability_pairs,
                       threshold=threshold, inference=inference, progress=True)
    result.write(out)
    _echo_summary(result, ("log_loss", "auc", "accuracy", "baseline"))
    params = result.params
    chosen_on = "selection half" if params["inference"] == "split" else "all rows"
    typer.echo(f"selected features (by log-loss, on the {chosen_on}): "
               f"{', '.join(params['selected']) or 'none'}\n"
               f"stable features (probability >= {params['threshold']:g}): "
               f"{', '.join(params['stable']) or 'none'}; expected false selections <= "
               f"{params['false_selection_bound']:.2g}\n-> {out}")


@app.command()
def vfield(
    level: Level,
    policy: PolicyOption = "default",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=_output(".parquet", ".png"),
                                      help=".parquet (one row per cell: x, y, p_left, p_down, "
                                           "p_noop, p_up, p_right) or .png")] =
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
    else:
        write_parquet(field.to_frame(), out)
    typer.echo(f"level {level}: {len(field.cells)} cells -> {out}")


def _load(policy: str):
    from behavstats.policy import load_policy

    return load_policy(policy)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one,
    as on Linux; else every core), evaluated when a command runs, never at import."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def _executor(workers: int) -> Iterator:
    """A process pool of `workers` (None for one), shut down when the block ends. Its
    processes are spawned, not forked: a forked worker inherits the parent's procgen
    envs without their threads, and garbage-collecting one there crashes the worker
    (seen: a segmentation fault in `libenv close` when the tests ran a study)."""
    if workers <= 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@app.command()
def gather(
    out: Annotated[Path, _folder("Output folder of parquet shards.")],
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Level seeds.")] = "0:10000",
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

    net = _load(policy)
    config = RolloutConfig(seed=seed, mode=mode, sample=not argmax, max_steps=max_steps,
                           record_path=paths)
    with _executor(workers) as executor:
        table = gather_episodes(net, levels, out, config, executor=executor,
                                progress=not quiet)
    chosen = table[table.has_dsq & ~table.cheese_in_tr5]
    typer.echo(f"{len(table)} episodes -> {out}: reached cheese {table.reached_cheese.mean():.1%}"
               f"; with a decision square and cheese outside the top-right 5x5: {len(chosen)} "
               f"levels, reached cheese {chosen.reached_cheese.mean():.1%}")


@app.command()
def evaluate(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Held-out level seeds.")] = "0:1000",
    region: Annotated[int | None, typer.Option(
        min=1, help="Training region size n (cheese in the top-right n x n); default: the "
                    "policy's own, else 5.")] = None,
    mode: Mode = "hard",
    seed: SamplingSeed = 0,
    max_steps: MaxSteps = PROCGEN_STEP_LIMIT,
    workers: Workers = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    card: Annotated[Path | None, typer.Option(
        dir_okay=False, callback=_output(), help="Also write the policy's model card "
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

    from behavstats.evaluation import evaluate as run_evaluation
    from behavstats.train.card import cloning_logs, write_model_card

    cloning_logs(card_curve or [])  # before the evaluation, not after it
    net = _load(policy)
    with _executor(workers) as executor, tempfile.TemporaryDirectory() as tmp:
        result = run_evaluation(net, levels, region=region, seed=seed, mode=mode,
                                max_steps=max_steps, progress=not quiet, executor=executor,
                                out_dir=tmp if executor else None)
    if card:
        write_model_card(net, result, card, name=f"{Path(policy).stem} policy", notes=card_notes,
                         stage_runs=card_curve or [])
    if as_json:
        typer.echo(result.to_json())
        return
    typer.echo(result.table().to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\nvanilla mazes with a decision square and the cheese outside the top-right "
               "5x5 (decision mazes), and their misses:")
    _echo_summary(result, ("decision_share", "reached_cheese", "reached_top_right",
                           "reached_tr5"))


@app.command()
def train(
    out: Annotated[Path, _folder("Run folder (resumed if it has a checkpoint).")],
    config: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="JSON file of overrides: {\"ppo\": {...}, "
                                          "\"cloning\": {...}}.")] = None,
    n_region: Annotated[int, typer.Option(min=1, help="Cheese drawn into the top-right n x n "
                                                      "region.")] = 5,
    scale: Annotated[int, typer.Option(min=1, help="IMPALA width multiplier.")] = 1,
    steps: Annotated[int | None, typer.Option(min=0, help="PPO environment steps (0: only "
                                                          "the warm start).")] = None,
    warm_start: Annotated[bool, typer.Option(help="Clone a shortest-path expert first.")] =
    False,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Train a maze agent with PPO (optionally from a cloning warm start)."""
    from behavstats.train.cloning import CloningConfig
    from behavstats.train.ppo import PPOConfig
    from behavstats.train.run import load_config_file
    from behavstats.train.run import train as run_training

    if steps == 0 and not warm_start:
        _fail("--steps 0 trains nothing without --warm-start")
    ppo_overrides, cloning_overrides = load_config_file(config) if config else ({}, {})
    common = {"region": n_region, "scale": scale, "seed": seed}
    budget = {} if steps is None else {"total_steps": steps}
    ppo = PPOConfig(**{**common, **budget, **ppo_overrides})
    cloning = CloningConfig(**{**common, **cloning_overrides}) if warm_start else None
    run_training(out, ppo, cloning, progress=not quiet)
    typer.echo(f"policy -> {out / 'policy.pt'}")


# --- interventions (cheese / top-right vectors, channels, retargeting, resampling) ---

VECTOR_LAYER_NAME = "embedder.block2.res1.resadd"
"""`hooks.VECTOR_LAYER`, spelled out so that the command line starts without torch."""
Layer = Annotated[str, typer.Option(help="Layer (module name) to edit.")]
Out = Annotated[Path, _folder("Output folder (parquet tables, params.json, figures).")]


@app.command()
def animate(
    level: Level,
    policy: PolicyOption = "default",
    mode: Mode = "hard",
    cheese_vector: Annotated[float | None, typer.Option(
        callback=_finite, help="Add the level's cheese vector times this (e.g. -1).")] = None,
    top_right_vector: Annotated[float | None, typer.Option(
        callback=_finite, help="Add the level's top-right vector times this (e.g. 1).")] =
    None,
    seed: SamplingSeed = 0,
    max_steps: MaxSteps = 200,
    out: Annotated[Path, typer.Option(dir_okay=False, callback=_output(".gif", ".webp"),
                                      help="Animation to write (.gif or .webp).")] =
    Path("episode.gif"),
) -> None:
    """Animation of one episode of a level, beside the same episode seed under a vector
    edit when one is given."""
    from behavstats.animation import animate as write_animation
    from behavstats.maze.levels import maze_for_level

    net = _load(policy)
    episodes = write_animation(net, maze_for_level(level, mode), out, cheese=cheese_vector,
                               top_right=top_right_vector, seed=seed, max_steps=max_steps)
    steps = ", ".join(f"{e.label} {len(e.path) - 1} steps"
                      f"{' to the cheese' if e.reached_cheese else ''}" for e in episodes)
    typer.echo(f"level {level}: {steps} -> {out}")


@app.command()
def report(
    study_dir: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                              help="A folder written by behavstats study.")],
    markdown: Annotated[bool, typer.Option(
        help="Print the results table (the README's) as Markdown instead.")] = False,
) -> None:
    """Re-render STUDY_DIR/report.html from the saved results, or print its results
    table as Markdown."""
    from behavstats.report import markdown_table, write_report

    if markdown:
        typer.echo(markdown_table(study_dir), nl=False)
    else:
        typer.echo(f"-> {write_report(study_dir)}")


def _floats(spec: str) -> list[float]:
    """'-1,0.5' -> [-1.0, 0.5]: finite numbers, at least one."""
    try:
        values = [float(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"must be comma-separated numbers, got {spec!r}") from exc
    return [_finite(v) for v in values]


def _channels(spec: str) -> list[int]:
    """'55,42' -> [55, 42]; whether they are channels of the layer is checked with it."""
    try:
        return [int(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"channels must look like 55,42 (got {spec!r})") from exc


def _numbers_option(help: str):
    return typer.Option(parser=_floats, metavar="NUMBERS", help=help)


def _channels_option(help: str):
    return typer.Option(parser=_channels, metavar="CHANNELS", help=help)


def _experiment(run, policy: str, levels: Sequence[int], out: Path, *, quiet: bool,
                layer: str | None = None, **kwargs):
    """`run(policy, levels, out, progress=not quiet, layer=layer, **kwargs)`, an
    intervention experiment, with the policy file loaded and the layer checked before
    any work (no layer: an experiment over many layers, a sweep)."""
    from behavstats.policy import get_module

    net = _load(policy)
    if layer is None:
        return run(net, levels, out, progress=not quiet, **kwargs)
    get_module(net, layer)
    return run(net, levels, out, progress=not quiet, layer=layer, **kwargs)


def _echo_summary(result, quantities: tuple[str, ...]) -> None:
    """Print the result's summary rows of `quantities`, one line each: condition,
    label, estimate [95% interval] (n), and the published figure where one exists."""
    import math

    from behavstats.quantities import label

    table = result.summary()
    for row in table[table["quantity"].isin(quantities)].to_dict("records"):
        text = f"{row['condition']}: {label(row['quantity'])} {row['estimate']:.3f}"
        if not math.isnan(row["ci_low"]):
            text += f" [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
        if not math.isnan(row["n"]):
            text += f" (n={row['n']:.0f})"
        if not math.isnan(row.get("published", math.nan)):
            text += f"; published {row['published']:.3g}"
        typer.echo(text)


@app.command("cheese-vector")
def cheese_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Level seeds (those with a decision "
                                                    "square are used).")] = "0:100",
    out: Out = Path("cheese-vector"),
    coeffs: Annotated[Sequence[float], _numbers_option(
        "Coefficients, comma-separated: activation + coeff * vector (-1 = published).")] =
    "-2,-1,-0.5,0.5,1,2",
    layer: Layer = VECTOR_LAYER_NAME,
    near: Annotated[int, typer.Option(min=0, help="Transfer: 'near' = cheeses at most this many "
                                           "cells apart (Chebyshev).")] = 2,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Cheese vector: P(step towards the cheese) at the decision square before / after
    adding coeff x vector, with random-vector and cheese-absent controls and transfer."""
    from behavstats.interventions import run_cheese_vector

    result = _experiment(run_cheese_vector, policy, levels, out, quiet=quiet,
                         coeffs=coeffs, layer=layer, near=near, mode=mode,
                         seed=seed)
    typer.echo(f"{result.params['n_used']} of {result.params['n_levels']} levels have a "
               "decision square")
    _echo_summary(result, ("p_cheese_median_before", "p_cheese_median_after",
                           "p_cheese_share_decreased", "p_cheese_change"))
    typer.echo(f"-> {out}")


@app.command("top-right-vector")
def top_right_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option(
        "Level seeds (those with a decision square and a maze smaller than the world are "
        "used).")] = "0:100",
    out: Out = Path("top-right-vector"),
    coeffs: Annotated[Sequence[float], _numbers_option("Coefficients, comma-separated.")] =
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
                         coeffs=coeffs, layer=layer, mode=mode, seed=seed)
    p = result.params
    typer.echo(f"{p['n_used']} of {p['n_levels']} levels used ({p['n_corridor_empty']} fill "
               "the world: no corridor, skipped)")
    _echo_summary(result, ("p_topright_median_before", "p_topright_median_after",
                           "p_topright_change", "field_toward_tr_change",
                           "p_topright_interaction"))
    typer.echo(f"-> {out}")


@app.command("channels")
def channels_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Level seeds.")] = "0:200",
    out: Out = Path("channels"),
    placements: Annotated[int, typer.Option(min=1, help="Random cheese cells per maze.")] = 4,
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
    typer.echo(f"tracked: {result.tracked}")
    _echo_summary(result, ("tracked_channels", "chance_hit"))
    typer.echo(f"-> {out}")


@app.command("retarget")
def retarget_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Level seeds (cheese removed).")] =
    "0:100",
    out: Out = Path("retarget"),
    channels: Annotated[Sequence[int] | None, _channels_option(
        "Channels to clamp, e.g. 55,42 (default: the top channel, the tracked set and every "
        "channel scoring at least --min-score, from a discovery run).")] = None,
    value: Annotated[float | None, typer.Option(
        callback=_finite, help="Clamp value for every channel (default: value-scale x the "
                               "channel's max at the cheese).")] = None,
    value_scale: Annotated[float, typer.Option(
        callback=_finite, help="Multiple of the channel's max activation at the cheese.")] =
    5.0,
    fill: Annotated[float | None, typer.Option(
        callback=_finite, help="Set the rest of the clamped channels to this value.")] = None,
    max_targets: Annotated[int, typer.Option(
        min=0, help="Target squares drawn per maze (0: every reachable square).")] = 20,
    min_score: Annotated[float, typer.Option(
        callback=_finite, help="Tracking score of the widest default channel set.")] = 0.3,
    discovery_levels: Annotated[Sequence[int], _levels_option(
        "Levels of the channel discovery.")] = "1000:1100",
    layer: Layer = VECTOR_LAYER_NAME,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Retargeting (Mini et al.'s protocol): per target square, no edit, the real cheese
    moved there, and clamps of cheese channels at its activation cell; success = geometric
    mean of P(move along the shortest path), by distance from the path to the top-right
    cell and by maze size, with the ratio to the unedited agent."""
    from behavstats.interventions import run_retarget

    result = _experiment(run_retarget, policy, levels, out, quiet=quiet,
                         channel_sets=None if channels is None else {"given": channels},
                         layer=layer, value=value, value_scale=value_scale, fill=fill,
                         max_targets=max_targets or None, min_score=min_score,
                         discovery=discovery_levels, mode=mode, seed=seed)
    for name, channels in result.channel_sets.items():
        typer.echo(f"clamp {name}: channels {channels}")
    _echo_summary(result, ("p_path", "p_path_ratio"))
    typer.echo(f"-> {out}")


@app.command("resample")
def resample_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], _levels_option("Level seeds (>= 30 recommended).")] =
    "0:40",
    out: Out = Path("resample"),
    channels: Annotated[Sequence[int] | None, _channels_option(
        "Cheese channels, best first (default: from a discovery run).")] = None,
    source_levels: Annotated[Sequence[int], _levels_option(
        "Pool of levels to draw sources from.")] = "10000:11000",
    discovery_levels: Annotated[Sequence[int], _levels_option(
        "Levels of the channel discovery.")] = "1000:1100",
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
                         channels=channels, layer=layer, source_levels=source_levels,
                         discovery=discovery_levels, mode=mode,
                         seed=seed)
    typer.echo(f"channels {result.params['channels']}")
    _echo_summary(result, ("tv", "published_change"))
    typer.echo(f"-> {out}")


@app.command()
def study(
    out: Annotated[Path, _folder("Study folder (re-running reuses finished parts).")],
    policy: PolicyOption = "default",
    quick: Annotated[bool, typer.Option(help="Shrink every size: a ~2-minute smoke run.")] =
    False,
    workers: Annotated[int | None, typer.Option(
        min=1, show_default=False,
        help="Parallel processes for episodes (one torch thread each; on 2 cores the "
             "default agent's episodes run 1.3x faster than in one process with two "
             "threads). At scale 4 each holds up to 1.5 GB of base activations. Default: "
             "the cores this process may use, at most 4.")] = None,
    seed: Seed = 0,
    mode: Mode = "hard",
    quiet: Quiet = False,
) -> None:
    """The whole study of a policy: evaluation, episodes, behavioural regression, cheese
    and top-right vectors, channels, retargeting, resampling, layer sweep, channel
    ablation, probes -> OUT/report.html."""
    from behavstats.report import write_report
    from behavstats.study import StudyConfig, quick_config, run_full_study

    net = _load(policy)
    config = quick_config(seed, mode) if quick else StudyConfig(seed=seed, mode=mode)
    with _executor(workers or min(usable_cores(), 4)) as executor:
        outcomes = run_full_study(net, policy, out, config, executor=executor,
                                  progress=not quiet, log=typer.echo)
    total = sum(o.seconds for o in outcomes if not o.reused)
    typer.echo(f"report -> {write_report(out)} ({total:.0f} s computed, "
               f"{sum(o.reused for o in outcomes)} parts reused)")


@app.command()
def explore(
    policy: PolicyOption = "default",
    host: Annotated[str, typer.Option(help="Address to bind (any other than 127.0.0.1 "
                                           "exposes the explorer to the network).")] =
    "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] =
    False,
) -> None:
    """Interactive explorer: edit a maze in the browser and watch the vector field, the
    decision-square probabilities and the activations change under interventions."""
    from behavstats.explore.engine import Engine
    from behavstats.explore.server import Server

    server = Server(Engine(_load(policy), name=policy), host=host, port=port)
    try:
        server.start()
    except RuntimeError as exc:
        _fail(str(exc))
    typer.echo(f"behavstats explorer: {server.url} (Ctrl-C stops it)")
    if not no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


# --- sweeps over layers and channels, and probes ---

DsqLevels = Annotated[Sequence[int], _levels_option("Level seeds (those with a decision "
                                                    "square are used).")]


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
    every residual add and the embedder output: change of P(cheese) / P(top-right) at
    the decision square and field TV -> OUT/layer_sweep.csv."""
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
    levels: Annotated[Sequence[int], _levels_option("Level seeds (split by level into train "
                                                    "and test).")] = "0:1000",
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
