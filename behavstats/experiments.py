"""The experiments' settings, one frozen dataclass each (`behavstats.experiment`).

Each class is the single home of its experiment's defaults: the `run_*` functions,
the command line's options and the study's parts all read them from here. Importing
this module needs neither torch nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavstats.experiment import Experiment
from behavstats.vocabulary import VECTOR_LAYER

N_BOOT = 2000
"""Bootstrap resamples (over levels) of every interval."""
DEFAULT_DISCOVERY_LEVELS = range(1000, 1100)
"""Levels whose channels retargeting and resampling discover when given no discovery
(held out from every experiment's default levels)."""


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
