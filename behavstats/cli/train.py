"""Training a maze agent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app, fail
from behavstats.cli.options import (
    Quiet,
    Seed,
    folder,
)


@app.command()
def train(
    out: Annotated[Path, folder("Run folder (resumed if it has a checkpoint).")],
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
        fail("--steps 0 trains nothing without --warm-start")
    ppo_overrides, cloning_overrides = load_config_file(config) if config else ({}, {})
    common = {"region": n_region, "scale": scale, "seed": seed}
    budget = {} if steps is None else {"total_steps": steps}
    ppo = PPOConfig(**{**common, **budget, **ppo_overrides})
    cloning = CloningConfig(**{**common, **cloning_overrides}) if warm_start else None
    run_training(out, ppo, cloning, progress=not quiet)
    typer.echo(f"policy -> {out / 'policy.pt'}")

