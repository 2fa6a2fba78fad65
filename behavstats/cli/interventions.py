"""Commands of the intervention experiments: cheese and top-right vectors, cheese
channels, retargeting, resampling. Each builds the experiment's settings object from
its options, whose defaults are the settings' own."""

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
    numbers,
    numbers_option,
    run_experiment,
)
from behavstats.experiments import (
    DISCOVERY_LEVELS,
    Channels,
    CheeseVector,
    Experiment,
    Resample,
    Retarget,
    TopRightVector,
)
from behavstats.levelspec import format_levels

MODE, SEED, LAYER = Experiment.default("mode"), Experiment.default("seed"), \
    CheeseVector.default("layer")


@app.command("cheese-vector")
def cheese_vector_command(
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds (those with a decision "
                                                   "square are used).")] = "0:100",
    out: Out = Path("cheese-vector"),
    coeffs: Annotated[Sequence[float], numbers_option(
        "Coefficients, comma-separated: activation + coeff * vector (-1 = published).")] =
    numbers(CheeseVector.default("coeffs")),
    layer: Layer = LAYER,
    near: Annotated[int, typer.Option(min=0, help="Transfer: 'near' = cheeses at most this "
                                                  "many cells apart (Chebyshev).")] =
    CheeseVector.default("near"),
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Cheese vector: P(step towards the cheese) at the decision square before / after
    adding coeff x vector, with random-vector and cheese-absent controls and transfer."""
    settings = CheeseVector(coeffs=coeffs, layer=layer, near=near, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
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
    numbers(TopRightVector.default("coeffs")),
    layer: Layer = LAYER,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Top-right vector: P(step towards the top-right) at the decision square and the
    change of the whole field per coefficient; transfer; composition with the cheese
    vector."""
    settings = TopRightVector(coeffs=coeffs, layer=layer, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
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
    placements: Annotated[int, typer.Option(min=1, help="Random cheese cells per maze.")] =
    Channels.default("placements"),
    layer: Layer = LAYER,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Rank a layer's channels by how well their activation maps track the cheese."""
    settings = Channels(layer=layer, placements=placements, mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    columns = ["channel", "score", "argmax_corr", "mass_corr", "argmax_hit", "cheese_max"]
    typer.echo(result.table[columns].head(12).to_string(index=False,
                                                        float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"tracked: {result.tracked}")
    echo_summary(result, ("tracked_channels", "chance_hit"))
    typer.echo(f"-> {out}")


DiscoveryLevels = Annotated[Sequence[int], levels_option("Levels of the channel discovery.")]


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
                              "channel's max at the cheese).")] = Retarget.default("value"),
    value_scale: Annotated[float, typer.Option(
        callback=finite, help="Multiple of the channel's max activation at the cheese.")] =
    Retarget.default("value_scale"),
    fill: Annotated[float | None, typer.Option(
        callback=finite, help="Set the rest of the clamped channels to this value.")] =
    Retarget.default("fill"),
    max_targets: Annotated[int, typer.Option(
        min=0, help="Target squares drawn per maze (0: every reachable square).")] =
    Retarget.default("max_targets"),
    min_score: Annotated[float, typer.Option(
        callback=finite, help="Tracking score of the widest default channel set.")] =
    Retarget.default("min_score"),
    discovery_levels: DiscoveryLevels = DISCOVERY_LEVELS,
    layer: Layer = LAYER,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Retargeting (Mini et al.'s protocol): per target square, no edit, the real cheese
    moved there, and clamps of cheese channels at its activation cell; success = geometric
    mean of P(move along the shortest path), by distance from the path to the top-right
    cell and by maze size, with the ratio to the unedited agent."""
    settings = Retarget(channel_sets=None if channels is None else {"given": channels},
                        layer=layer, value=value, value_scale=value_scale, fill=fill,
                        max_targets=max_targets or None, min_score=min_score,
                        discovery_levels=format_levels(discovery_levels), mode=mode,
                        seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
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
        "Pool of levels to draw sources from.")] = Resample.default("source_levels"),
    discovery_levels: DiscoveryLevels = DISCOVERY_LEVELS,
    layer: Layer = LAYER,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Resampling: replace cheese channels (vs random channels) with those of a maze whose
    cheese is at the same / a different place; mean per-cell TV distance and the
    published statistic."""
    settings = Resample(channels=channels, layer=layer,
                        source_levels=format_levels(source_levels),
                        discovery_levels=format_levels(discovery_levels), mode=mode,
                        seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    typer.echo(f"channels {result.params['channels']}")
    echo_summary(result, ("tv", "published_change"))
    typer.echo(f"-> {out}")
