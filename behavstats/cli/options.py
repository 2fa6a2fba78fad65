"""What the commands share: option types and parsers (each refusing bad input before
any work), loading the policy, the process pool, and running and printing an
experiment. Nothing here imports torch or numpy: `behavstats --help` starts fast."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from behavstats.errors import UserError
from behavstats.levelspec import MAX_SEED, parse_levels
from behavstats.vocabulary import MODES, PROCGEN_STEP_LIMIT, VECTOR_LAYER


def level_list(spec: str) -> list[int]:
    """`parse_levels` for an option, so that its error names the option."""
    try:
        return parse_levels(spec)
    except UserError as exc:
        raise typer.BadParameter(str(exc)) from exc


def levels_option(help: str):
    return typer.Option(parser=level_list, metavar="LEVELS", help=f"{help} Spec: 0:1000 (1000 "
                        "excluded), 7 or 1,5,9.")


def finite(value: float | None) -> float | None:
    """NaN and infinities are no value of any numeric option."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


def output_path(*suffixes: str):
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


Mode = Annotated[Literal[MODES], typer.Option(
    help="procgen distribution mode: hard (25x25 world, the published agents') or easy "
         "(15x15).")]
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


def folder(help: str):
    """An output folder option: a file of that name, or a path inside a file, is refused
    before any work."""
    return typer.Option(file_okay=False, callback=output_path(), help=help)


Layer = Annotated[str, typer.Option(help="Layer (module name) to edit.")]
Out = Annotated[Path, folder("Output folder (parquet tables, params.json, figures).")]
DsqLevels = Annotated[Sequence[int], levels_option("Level seeds (those with a decision "
                                                   "square are used).")]
VECTOR_LAYER_NAME = VECTOR_LAYER
"""Old name of `behavstats.vocabulary.VECTOR_LAYER`."""


def load(policy: str):
    from behavstats.policy import load_policy

    return load_policy(policy)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one,
    as on Linux; else every core), evaluated when a command runs, never at import."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def process_pool(workers: int) -> Iterator:
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

def floats(spec: str) -> list[float]:
    """'-1,0.5' -> [-1.0, 0.5]: finite numbers, at least one."""
    try:
        values = [float(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"must be comma-separated numbers, got {spec!r}") from exc
    return [finite(v) for v in values]


def channel_list(spec: str) -> list[int]:
    """'55,42' -> [55, 42]; whether they are channels of the layer is checked with it."""
    try:
        return [int(p) for p in spec.split(",")]
    except ValueError as exc:
        raise typer.BadParameter(f"channels must look like 55,42 (got {spec!r})") from exc


def numbers_option(help: str):
    return typer.Option(parser=floats, metavar="NUMBERS", help=help)


def channels_option(help: str):
    return typer.Option(parser=channel_list, metavar="CHANNELS", help=help)


def run_experiment(settings, policy: str, levels: Sequence[int], out: Path, *, quiet: bool,
                   **runtime):
    """`settings.run(policy, levels, out)` (an experiment's settings object) with the
    policy file loaded and the settings' layer, if any, checked before any work."""
    from behavstats.policy import get_module

    net = load(policy)
    if getattr(settings, "layer", None) is not None:
        get_module(net, settings.layer)
    return settings.run(net, levels, out, progress=not quiet, **runtime)


def numbers(values: Sequence[float]) -> str:
    """Numbers as a comma-separated option default: (-2.0, 0.5) -> '-2,0.5'."""
    return ",".join(f"{v:g}" for v in values)


def echo_summary(result, quantities: tuple[str, ...]) -> None:
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


def choices_option(help: str, choices: Sequence[str]):
    """A comma-separated option of names, each one of `choices` (refused otherwise)."""
    def names(spec: str) -> list[str]:
        given = [p.strip() for p in spec.split(",") if p.strip()]
        unknown = [g for g in given if g not in choices]
        if unknown or not given:
            raise typer.BadParameter(f"{', '.join(unknown) or '(none)'}: choose from "
                                     f"{', '.join(choices)}")
        return given
    return typer.Option(parser=names, metavar="NAMES",
                        help=f"{help} Comma-separated: {', '.join(choices)}.")
