"""The `behavstats` command line (also `python -m behavstats`)."""

from __future__ import annotations

import json
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
    "--policy", help="Policy file (published Langosco checkpoint or ours), or 'default'.")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]


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
    workers: Annotated[int, typer.Option(help="Parallel processes.")] = 1,
    quiet: Quiet = False,
) -> None:
    """Decision-square and distance features of procgen levels, one row per level."""
    from concurrent.futures import ProcessPoolExecutor

    from behavstats.features import level_features
    from behavstats.io import write_parquet

    seeds = parse_levels(levels)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            table = level_features(seeds, mode, progress=not quiet, executor=pool)
    else:
        table = level_features(seeds, mode, progress=not quiet)
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
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
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
