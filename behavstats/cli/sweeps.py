"""Commands sweeping layers and channels: layer-sweep, ablate (probe: `cli.probes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app
from behavstats.cli.options import (
    DsqLevels,
    Layer,
    Mode,
    Out,
    PolicyOption,
    Quiet,
    Seed,
    run_experiment,
)
from behavstats.experiments import Ablation, Experiment, LayerSweep

MODE, SEED = Experiment.default("mode"), Experiment.default("seed")
LAYER = Ablation.default("layer")


@app.command("layer-sweep")
def layer_sweep_command(
    policy: PolicyOption = "default",
    levels: DsqLevels = "0:100",
    out: Out = Path("layer-sweep"),
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Cheese vector (x -1, +1) and top-right vector (x +1, +2) computed and added at
    every residual add and the embedder output: change of P(cheese) / P(top-right) at
    the decision square and field TV -> OUT/layer_sweep.csv."""
    result = run_experiment(LayerSweep(mode=mode, seed=seed), policy, levels, out,
                            quiet=quiet)
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
    layer: Layer = LAYER,
    levels: DsqLevels = "0:100",
    placements: Annotated[int, typer.Option(help="Random cheese cells per maze of the "
                                                 "channel discovery (tracking score).")] =
    Ablation.default("placements"),
    out: Out = Path("ablation"),
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Zero- and mean-ablate (leave-one-maze-out mean) each channel of a layer: change
    of P(cheese) at the decision square beside the tracking score ->
    OUT/ablation.csv."""
    settings = Ablation(layer=layer, placements=placements, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    for method, part in result.ablation.groupby("method", sort=False):
        typer.echo(f"{method}-ablation, largest effects:")
        typer.echo(part.head(8).to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
    typer.echo(f"-> {out}")
