"""The experiments' settings, one frozen dataclass each (`behavstats.experiment`).

Each class is the single home of its experiment's defaults: the `run_*` functions,
the command line's options and the study's parts all read them from here. Importing
this module needs neither torch nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavstats.errors import UserError
from behavstats.experiment import Experiment
from behavstats.vocabulary import PROCGEN_STEP_LIMIT, VECTOR_LAYER

N_BOOT = 2000
"""Bootstrap resamples (over levels) of every interval."""


@dataclass(frozen=True, kw_only=True)
class CheeseVector(Experiment):
    """The cheese vector (`behavstats.interventions.cheese`): P(step towards the cheese)
    at the decision square before and after adding coeff x the maze's cheese vector,
    with random-vector and cheese-absent controls and transfer between mazes.

    coeffs: activation + coeff * vector, one pass each (-1 is the published edit).
    field_coeff: the coefficient of the whole-field comparisons with the cheese absent.
    transfer_coeff: the coefficient of maze A's vector applied in maze B.
    near: transfer pairs whose cheeses lie at most this many cells apart (Chebyshev).
    transfer_levels: transfer between the first this many usable levels (all ordered
        pairs; None: all).
    n_examples: example mazes whose fields are drawn.
    """

    coeffs: tuple[float, ...] = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
    layer: str = VECTOR_LAYER
    field_coeff: float = -1.0
    transfer_coeff: float = -1.0
    near: int = 2
    transfer_levels: int | None = 100
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.interventions.cheese:compute"


PROBE_TARGETS = ("cheese_x", "cheese_y", "mouse_x", "mouse_y", "cheese_in_tr5",
                 "reaches_cheese")
"""What the flattened probes predict (`behavstats.sweeps.probes`)."""
SPATIAL_TARGETS = ("cheese_cell", "path_cell")
"""What the spatial probes predict of each activation cell: the cheese is there; the
cell is on the shortest path from the mouse to the cheese."""
PROBE_KINDS = ("flattened", "spatial", "first_observation")
"""The probes a run can make (`Probes.kinds`)."""


@dataclass(frozen=True, kw_only=True)
class Probes(Experiment):
    """Linear probes of each layer (`behavstats.sweeps.probes`).

    kinds: which probes to make, of `PROBE_KINDS`: "flattened" (pooled activations of
        observations along each episode's path, for `targets`), "spatial" (one
        classifier shared over the activation cells of the first observation, for
        `spatial_targets`), "first_observation" (whether the episode reaches the
        cheese, from its first observation; with the same probe at the decision square
        and the published maze features beside it).
    layers: the layers probed (None: `sweep_layers`, the residual adds and the
        embedder's output; the spatial probes take the convolutional ones).
    targets: the flattened probes' targets, of `PROBE_TARGETS`.
    spatial_targets: the spatial probes' targets, of `SPATIAL_TARGETS`.
    radius: a spatial probe's arg-max hits the cheese when it lies within this many
        activation cells of the cheese's (Chebyshev; channel discovery's default).
    per_episode: observations per episode of the flattened probes.
    max_steps: the episodes' step limit.
    folds: cross-validation folds of the first-observation probes (fewer when a class
        has fewer mazes).
    """

    kinds: tuple[str, ...] = PROBE_KINDS
    layers: tuple[str, ...] | None = None
    targets: tuple[str, ...] = PROBE_TARGETS
    spatial_targets: tuple[str, ...] = SPATIAL_TARGETS
    radius: int = 1
    per_episode: int = 4
    max_steps: int = PROCGEN_STEP_LIMIT
    folds: int = 5
    n_boot: int = N_BOOT

    implementation = "behavstats.sweeps.probes:compute"

    def __post_init__(self) -> None:
        for name, known in (("kinds", PROBE_KINDS), ("targets", PROBE_TARGETS),
                            ("spatial_targets", SPATIAL_TARGETS)):
            unknown = [v for v in getattr(self, name) if v not in known]
            if unknown or not getattr(self, name):
                raise UserError(f"{name} must be some of {', '.join(known)}; got "
                                f"{', '.join(map(str, getattr(self, name))) or 'none'}")
        if self.per_episode < 1 or self.folds < 2 or self.radius < 0:
            raise UserError(f"per_episode must be at least 1, folds at least 2 and radius "
                            f"at least 0; got {self.per_episode}, {self.folds} and "
                            f"{self.radius}")
