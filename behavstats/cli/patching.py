"""The activation patching command: patch."""

from __future__ import annotations

from collections.abc import Sequence
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
    echo_summary,
    finite,
    run_experiment,
)
from behavstats.experiments import CORRUPTIONS, Experiment, Patching


def corruption_list(spec: str) -> list[str]:
    """'cheese_moved,mouse_moved' -> the names, each one of `CORRUPTIONS`."""
    names = [p.strip() for p in spec.split(",") if p.strip()]
    bad = [n for n in names if n not in CORRUPTIONS]
    if bad or not names:
        raise typer.BadParameter(f"unknown corruption(s) {bad or '(none)'}; choose from "
                                 f"{', '.join(CORRUPTIONS)}")
    return names


MODE, SEED = Experiment.default("mode"), Experiment.default("seed")
LAYER, FLOOR, LOGIT_FLOOR, BESIDE = (
    Patching.default(name) for name in ("layer", "floor", "logit_floor", "beside"))
CORRUPTION_SPEC = ",".join(Patching.default("corruptions"))
"""The options' defaults, read from the settings class (`Patching`)."""
Corruptions = Annotated[Sequence[str], typer.Option(
    parser=corruption_list, metavar="NAMES",
    help="Corrupted twins, comma-separated: cheese_moved (off its branch), cheese_removed, "
         "mouse_moved (to the start), wall_toggled (a wall off the paths opened).")]
Floor = Annotated[float, typer.Option(min=0.0, callback=finite, help=(
    "Levels whose clean and corrupted P(cheese) differ by less are left out (and counted)."))]
LogitFloor = Annotated[float, typer.Option(min=0.0, callback=finite, help=(
    "The same for the logit difference (nats)."))]
Sweep = Annotated[bool, typer.Option(help="Also patch each channel of every residual add "
                                          "(cheese moved, denoising, P(cheese)).")]
Beside = Annotated[bool, typer.Option(help="Run channel discovery and ablation on the same "
                                           "levels for the tracking score and ablation "
                                           "effect beside each channel.")]


@app.command("patch")
def patch_command(
    policy: PolicyOption = "default",
    levels: DsqLevels = "0:100",
    out: Out = Path("patching"),
    layer: Layer = LAYER,
    corruptions: Corruptions = CORRUPTION_SPEC,
    floor: Floor = FLOOR,
    logit_floor: LogitFloor = LOGIT_FLOOR,
    sweep: Sweep = True,
    beside: Beside = BESIDE,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Activation patching maps: for each maze's decision square a clean run and corrupted
    twins; each channel (every position) and each cell (all channels) of a layer patched
    clean -> corrupted (denoising) and back (noising); the share of the P(cheese) and
    logit-difference change each restores -> OUT/patching.csv (and OUT/by_layer.csv)."""
    settings = Patching(layer=layer, corruptions=tuple(corruptions), floor=floor,
                        logit_floor=logit_floor, sweep_layers=None if sweep else (),
                        beside=beside, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    typer.echo(f"{result.params['n_used']} of {result.params['n_levels']} levels have a "
               "decision square")
    table = result.patching
    first = result.params["corruptions"][0]
    channels = table[(table["unit"] == "channel") & (table["corruption"] == first)
                     & (table["metric"] == "p_cheese")]
    columns = ["direction", "channel", "estimate", "ci_low", "ci_high", "n", "q_value",
               "tracking_score", "ablation_effect"]
    typer.echo(f"channels restoring most of P(cheese), {first}:")
    typer.echo(channels.groupby("direction", sort=False).head(5)[columns].to_string(
        index=False, float_format=lambda v: f"{v:+.3f}"))
    echo_summary(result, ("levels_below_floor", "cell_mass_near_cheese",
                          "cell_share_near_cheese"))
    typer.echo(f"-> {out}")
