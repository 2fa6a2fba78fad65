"""Commands on one maze: maze show, vfield, animate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app, maze_app
from behavstats.cli.options import (
    Level,
    MaxSteps,
    Mode,
    PolicyOption,
    SamplingSeed,
    finite,
    load,
    output_path,
)


@maze_app.command("show")
def maze_show(
    level: Level,
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=output_path(".png", ".pdf", ".svg"),
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
def vfield(
    level: Level,
    policy: PolicyOption = "default",
    mode: Mode = "hard",
    out: Annotated[Path, typer.Option(dir_okay=False, callback=output_path(".parquet", ".png"),
                                      help=".parquet (one row per cell: x, y, p_left, p_down, "
                                           "p_noop, p_up, p_right) or .png")] =
    Path("field.parquet"),
) -> None:
    """The policy's move probabilities at every free cell of a level."""
    from behavstats.env import observe
    from behavstats.io import write_parquet
    from behavstats.maze.levels import maze_for_level
    from behavstats.vfield import vector_field

    net = load(policy)
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


@app.command()
def animate(
    level: Level,
    policy: PolicyOption = "default",
    mode: Mode = "hard",
    cheese_vector: Annotated[float | None, typer.Option(
        callback=finite, help="Add the level's cheese vector times this (e.g. -1).")] = None,
    top_right_vector: Annotated[float | None, typer.Option(
        callback=finite, help="Add the level's top-right vector times this (e.g. 1).")] =
    None,
    seed: SamplingSeed = 0,
    max_steps: MaxSteps = 200,
    out: Annotated[Path, typer.Option(dir_okay=False, callback=output_path(".gif", ".webp"),
                                      help="Animation to write (.gif or .webp).")] =
    Path("episode.gif"),
) -> None:
    """Animation of one episode of a level, beside the same episode seed under a vector
    edit when one is given."""
    from behavstats.animation import animate as write_animation
    from behavstats.maze.levels import maze_for_level

    net = load(policy)
    episodes = write_animation(net, maze_for_level(level, mode), out, cheese=cheese_vector,
                               top_right=top_right_vector, seed=seed, max_steps=max_steps)
    steps = ", ".join(f"{e.label} {len(e.path) - 1} steps"
                      f"{' to the cheese' if e.reached_cheese else ''}" for e in episodes)
    typer.echo(f"level {level}: {steps} -> {out}")

