"""Commands of the intervention experiments: cheese and top-right vectors, cheese
channels, retargeting, resampling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app
from behavstats.cli.options import (
    Layer,
    Mode,
    Out,
    PolicyOption,
    Quiet,
    Seed,
    channels_option,
    echo_summary,
    finite,
    levels_option,
    numbers_option,
    run_experiment,
)
from behavstats.vocabulary import VECTOR_LAYER


@app.command("cheese-vector")
def cheese_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds (those with a decision "
                                                    "square are used).")] = "0:100",
    out: Out = Path("cheese-vector"),
    coeffs: Annotated[Sequence[float], numbers_option(
        "Coefficients, comma-separated: activation + coeff * vector (-1 = published).")] =
    "-2,-1,-0.5,0.5,1,2",
    layer: Layer = VECTOR_LAYER,
    near: Annotated[int, typer.Option(min=0, help="Transfer: 'near' = cheeses at most this many "
                                           "cells apart (Chebyshev).")] = 2,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Cheese vector: P(step towards the cheese) at the decision square before / after
    adding coeff x vector, with random-vector and cheese-absent controls and transfer."""
    from behavstats.interventions import run_cheese_vector

    result = run_experiment(run_cheese_vector, policy, levels, out, quiet=quiet,
                         coeffs=coeffs, layer=layer, near=near, mode=mode,
                         seed=seed)
    typer.echo(f"{result.params['n_used']} of {result.params['n_levels']} levels have a "
               "decision square")
    echo_summary(result, ("p_cheese_median_before", "p_cheese_median_after",
                           "p_cheese_share_decreased", "p_cheese_change"))
    typer.echo(f"-> {out}")


@app.command("top-right-vector")
def top_right_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option(
        "Level seeds (those with a decision square and a maze smaller than the world are "
        "used).")] = "0:100",
    out: Out = Path("top-right-vector"),
    coeffs: Annotated[Sequence[float], numbers_option("Coefficients, comma-separated.")] =
    "-1,0.5,1,2,5,10",
    layer: Layer = VECTOR_LAYER,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Top-right vector: P(step towards the top-right) at the decision square and the
    change of the whole field per coefficient; transfer; composition with the cheese
    vector."""
    from behavstats.interventions import run_top_right_vector

    result = run_experiment(run_top_right_vector, policy, levels, out, quiet=quiet,
                         coeffs=coeffs, layer=layer, mode=mode, seed=seed)
    p = result.params
    typer.echo(f"{p['n_used']} of {p['n_levels']} levels used ({p['n_corridor_empty']} fill "
               "the world: no corridor, skipped)")
    echo_summary(result, ("p_topright_median_before", "p_topright_median_after",
                           "p_topright_change", "field_toward_tr_change",
                           "p_topright_interaction"))
    typer.echo(f"-> {out}")


@app.command("channels")
def channels_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds.")] = "0:200",
    out: Out = Path("channels"),
    placements: Annotated[int, typer.Option(min=1, help="Random cheese cells per maze.")] = 4,
    layer: Layer = VECTOR_LAYER,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Rank a layer's channels by how well their activation maps track the cheese."""
    from behavstats.interventions import run_channels

    result = run_experiment(run_channels, policy, levels, out, quiet=quiet, layer=layer,
                         placements=placements, mode=mode, seed=seed)
    columns = ["channel", "score", "argmax_corr", "mass_corr", "argmax_hit", "cheese_max"]
    typer.echo(result.table[columns].head(12).to_string(index=False,
                                                       float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"tracked: {result.tracked}")
    echo_summary(result, ("tracked_channels", "chance_hit"))
    typer.echo(f"-> {out}")


@app.command("retarget")
def retarget_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds (cheese removed).")] =
    "0:100",
    out: Out = Path("retarget"),
    channels: Annotated[Sequence[int] | None, channels_option(
        "Channels to clamp, e.g. 55,42 (default: the top channel, the tracked set and every "
        "channel scoring at least --min-score, from a discovery run).")] = None,
    value: Annotated[float | None, typer.Option(
        callback=finite, help="Clamp value for every channel (default: value-scale x the "
                               "channel's max at the cheese).")] = None,
    value_scale: Annotated[float, typer.Option(
        callback=finite, help="Multiple of the channel's max activation at the cheese.")] =
    5.0,
    fill: Annotated[float | None, typer.Option(
        callback=finite, help="Set the rest of the clamped channels to this value.")] = None,
    max_targets: Annotated[int, typer.Option(
        min=0, help="Target squares drawn per maze (0: every reachable square).")] = 20,
    min_score: Annotated[float, typer.Option(
        callback=finite, help="Tracking score of the widest default channel set.")] = 0.3,
    discovery_levels: Annotated[Sequence[int], levels_option(
        "Levels of the channel discovery.")] = "1000:1100",
    layer: Layer = VECTOR_LAYER,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Retargeting (Mini et al.'s protocol): per target square, no edit, the real cheese
    moved there, and clamps of cheese channels at its activation cell; success = geometric
    mean of P(move along the shortest path), by distance from the path to the top-right
    cell and by maze size, with the ratio to the unedited agent."""
    from behavstats.interventions import run_retarget

    result = run_experiment(run_retarget, policy, levels, out, quiet=quiet,
                         channel_sets=None if channels is None else {"given": channels},
                         layer=layer, value=value, value_scale=value_scale, fill=fill,
                         max_targets=max_targets or None, min_score=min_score,
                         discovery=discovery_levels, mode=mode, seed=seed)
    for name, channels in result.channel_sets.items():
        typer.echo(f"clamp {name}: channels {channels}")
    echo_summary(result, ("p_path", "p_path_ratio"))
    typer.echo(f"-> {out}")


@app.command("resample")
def resample_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds (>= 30 recommended).")] =
    "0:40",
    out: Out = Path("resample"),
    channels: Annotated[Sequence[int] | None, channels_option(
        "Cheese channels, best first (default: from a discovery run).")] = None,
    source_levels: Annotated[Sequence[int], levels_option(
        "Pool of levels to draw sources from.")] = "10000:11000",
    discovery_levels: Annotated[Sequence[int], levels_option(
        "Levels of the channel discovery.")] = "1000:1100",
    layer: Layer = VECTOR_LAYER,
    mode: Mode = "hard",
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Resampling: replace cheese channels (vs random channels) with those of a maze whose
    cheese is at the same / a different place; mean per-cell TV distance and the
    published statistic."""
    from behavstats.interventions import run_resample

    result = run_experiment(run_resample, policy, levels, out, quiet=quiet,
                         channels=channels, layer=layer, source_levels=source_levels,
                         discovery=discovery_levels, mode=mode,
                         seed=seed)
    typer.echo(f"channels {result.params['channels']}")
    echo_summary(result, ("tv", "published_change"))
    typer.echo(f"-> {out}")

