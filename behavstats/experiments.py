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


CORRUPTIONS = ("cheese_moved", "cheese_removed", "mouse_moved", "wall_toggled")
"""Activation patching's corrupted twins of a clean maze (`behavstats.maps.patching`)."""
DIRECTIONS = ("denoising", "noising")
"""Patching clean activations into the corrupted run (denoising) or corrupted ones into
the clean run (noising)."""
PATCH_METRICS = ("p_cheese", "logit_diff")
"""The decision-square quantities patching restores: P(move towards the cheese) and
log P(towards the cheese) - log P(towards the top-right cell)."""
UNITS = ("channel", "cell")
"""What one patch replaces: one channel at every position, or one cell of the map with
all its channels."""


@dataclass(frozen=True, kw_only=True)
class Patching(Experiment):
    """Activation patching maps (`behavstats.maps.patching`): for each level with a
    decision square, a clean run and a corrupted twin's, and the share of the
    clean-corrupted difference of the decision-square quantity that patching one
    channel or one cell at `layer` restores.

    corruptions: the twins (`CORRUPTIONS`); directions: `DIRECTIONS`; metrics:
        `PATCH_METRICS`; units: `UNITS`.
    floor: levels whose clean and corrupted P(cheese) differ by less are left out of
        that metric's restorations (and counted); logit_floor: the same for logit_diff
        (nats).
    window: cell rows of the aggregated table cover offsets up to this many activation
        cells from the cheese's cell (per-level rows cover every cell).
    near: the summary's cell mass counts cells within this many activation cells
        (Chebyshev) of a cheese as near it.
    sweep_layers: layers of the channel x layer sweep (None: every residual add; ()
        none), with `sweep_corruption`, denoising, and `sweep_metric`.
    beside: without a channel discovery and an ablation given, run both on the same
        levels for the channel ranking's tracking score and ablation effect.
    n_examples: example mazes whose cell maps are drawn.
    """

    layer: str = VECTOR_LAYER
    corruptions: tuple[str, ...] = CORRUPTIONS
    directions: tuple[str, ...] = DIRECTIONS
    metrics: tuple[str, ...] = PATCH_METRICS
    units: tuple[str, ...] = UNITS
    floor: float = 0.05
    logit_floor: float = 0.5
    window: int = 6
    near: int = 1
    sweep_layers: tuple[str, ...] | None = None
    sweep_corruption: str = "cheese_moved"
    sweep_metric: str = "p_cheese"
    beside: bool = True
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.maps.patching:compute"
