"""The probe command: linear probes of every layer (`behavstats.sweeps.probes`),
flattened, spatial and early-decision."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from behavstats.cli.app import app
from behavstats.cli.options import (
    MaxSteps,
    Mode,
    Out,
    PolicyOption,
    Quiet,
    Seed,
    levels_option,
    run_experiment,
)
from behavstats.experiments import PROBE_KINDS, Probes


def kind_list(spec: str) -> list[str]:
    """'spatial,first_observation' -> the kinds, each one of `PROBE_KINDS`."""
    kinds = [k.strip() for k in spec.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in PROBE_KINDS]
    if unknown or not kinds:
        raise typer.BadParameter(f"must be some of {','.join(PROBE_KINDS)} (comma-separated), "
                                 f"got {spec!r}")
    return kinds


Kinds = Annotated[Sequence[str], typer.Option(
    parser=kind_list, metavar="KINDS",
    help="Which probes: flattened (pooled layers along each episode's path), spatial (one "
         "classifier shared over a layer's cells: where the cheese and the path to it are), "
         "first_observation (whether the episode reaches the cheese, from its first "
         "observation and at the decision square).")]
PerEpisode = Annotated[int, typer.Option(min=1, help="Observations per episode of the "
                                                     "flattened probes (cells of its path).")]
KINDS = ",".join(Probes.default("kinds"))
PER_EPISODE, MAX_STEPS = Probes.default("per_episode"), Probes.default("max_steps")
MODE, SEED = Probes.default("mode"), Probes.default("seed")
COLUMNS = ["kind", "layer", "target", "score", "accuracy", "ci_low", "ci_high", "baseline",
           "control_accuracy", "q_value", "random_network_accuracy", "n_test"]
"""The columns printed (probes.csv has them all)."""


@app.command("probe")
def probe_command(
    out: Out = Path("probes"),
    policy: PolicyOption = "default",
    levels: Annotated[Sequence[int], levels_option("Level seeds (split by level into train "
                                                    "and test).")] = "0:1000",
    kinds: Kinds = KINDS,
    per_episode: PerEpisode = PER_EPISODE,
    max_steps: MaxSteps = MAX_STEPS,
    mode: Mode = MODE,
    seed: Seed = SEED,
    quiet: Quiet = False,
) -> None:
    """Linear probes of every residual add and the embedder output, with baselines,
    control tasks and a random network -> OUT/probes.csv.

    Flattened: cheese and mouse position, cheese in the top-right 5x5, reaching the
    cheese. Spatial: the cheese's cell and the path's cells. Early decision: reaching
    the cheese read from the first observation and at the decision square, beside the
    published maze features."""
    settings = Probes(kinds=tuple(kinds), per_episode=per_episode, max_steps=max_steps,
                      mode=mode, seed=seed)
    result = run_experiment(settings, policy, levels, out, quiet=quiet)
    typer.echo(result.probes[COLUMNS].to_string(index=False,
                                                float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"score: accuracy (flattened), arg-max hit or AUC (spatial), AUC "
               f"(early-decision); baseline: majority, chance or 0.5\n-> {out}")
