"""Commands of the maps over the maze: attribute (integrated gradients at the decision
square), value-map (one level's value map) and value-maps (the experiment). Each builds
its settings object from its options, whose defaults are the settings' own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app
from behavstats.cli.options import (
    DsqLevels,
    Layer,
    Level,
    Mode,
    Out,
    PolicyOption,
    Quiet,
    Seed,
    choices_option,
    echo_summary,
    finite,
    levels_option,
    load,
    output_path,
    run_experiment,
)
from behavstats.experiments import Attribution, Experiment, ValueMaps
from behavstats.vocabulary import BLANK, CHEESE_REMOVED, DECISION_TARGETS

MODE, SEED = Experiment.default("mode"), Experiment.default("seed")
LAYER = ValueMaps.default("layer")


@app.command("attribute")
def attribute_command(
    policy: PolicyOption = "default",
    levels: DsqLevels = "0:50",
    out: Out = Path("attribution"),
    targets: Annotated[Sequence[str], choices_option(
        "Quantities at the decision square: P(towards cheese), log P(cheese move) - log "
        "P(top-right move).", DECISION_TARGETS)] = ",".join(Attribution.default("targets")),
    baselines: Annotated[Sequence[str], choices_option(
        "Baselines: the maze without its cheese; the open maze (walls and cheese removed).",
        (CHEESE_REMOVED, BLANK))] = ",".join(Attribution.default("baselines")),
    layer: Annotated[str, typer.Option(help="Layer (module name) whose channels and cells "
                                            "get attributions.")] =
    Attribution.default("layer"),
    tolerance: Annotated[float, typer.Option(
        min=0, callback=finite, help="Completeness: |sum of attributions - output "
                                     "difference| within this share of the difference...")] =
    Attribution.default("tolerance"),
    abs_tolerance: Annotated[float, typer.Option(
        min=0, callback=finite, help="...or within this (the target's units).")] =
    Attribution.default("abs_tolerance"),
    max_n_steps: Annotated[int, typer.Option(min=1, help="Most integration steps (they "
                                                         "double from 32 until "
                                                         "completeness).")] =
    Attribution.default("max_n_steps"),
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Integrated gradients (captum) of the decision at the decision square to the input
    pixels and to each channel and cell of a layer, against stated baselines, with the
    steps increased until completeness -> OUT/attribution.csv and per-level maps."""
    settings = Attribution(targets=targets, baselines=baselines, layer=layer,
                           tolerance=tolerance, abs_tolerance=abs_tolerance,
                           max_n_steps=max_n_steps,
                           mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    typer.echo(f"{result.params['n_used']} of {result.params['n_levels']} levels have a "
               "decision square")
    echo_summary(result, ("output_difference", "completeness_gap", "within_tolerance",
                          "integration_steps", "cheese_share"))
    typer.echo(f"-> {out}")


@app.command("value-map")
def value_map_command(
    level: Level,
    policy: PolicyOption = "default",
    mode: Mode = MODE,
    out: Annotated[Path, typer.Option(dir_okay=False, callback=output_path(".parquet", ".csv",
                                                                           ".png"),
                                      help=".parquet or .csv (one row per free cell: x, y, "
                                           "value) or .png (beside the vector field)")] =
    Path("map.parquet"),
) -> None:
    """The value head's output with the mouse on every free cell of a level."""
    from behavstats.maps.value import value_head, write_value_map
    from behavstats.maze.levels import maze_for_level

    net = load(policy)
    write_value_map(net, maze_for_level(level, mode), out)
    note = {"untrained": " (this policy's value head was never trained: behaviour cloning "
                         "only)"}.get(value_head(net), "")
    typer.echo(f"level {level}: value map{note} -> {out}")


@app.command("value-maps")
def value_maps_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds.")] = "0:100",
    out: Out = Path("value-maps"),
    coeff: Annotated[float, typer.Option(callback=finite, help="Cheese-vector coefficient "
                                                               "of the third condition.")] =
    ValueMaps.default("coeff"),
    layer: Layer = LAYER,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Value maps with the cheese present, removed and under the cheese vector; mean
    value by steps to the cheese and to the top-right -> OUT/cells.parquet, by_steps."""
    settings = ValueMaps(coeff=coeff, layer=layer, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    typer.echo(f"value head: {result.params['value_head']}")
    echo_summary(result, ("value", "value_change", "value_spearman_steps_cheese",
                          "value_spearman_steps_top_right"))
    typer.echo(f"-> {out}")
