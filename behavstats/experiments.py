"""The experiments' settings, one frozen dataclass each (`behavstats.experiment`).

Each class is the single home of its experiment's defaults: the `run_*` functions,
the command line's options and the study's parts all read them from here. Importing
this module needs neither torch nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavstats.experiment import Experiment
from behavstats.vocabulary import BLANK, CHEESE_REMOVED, DECISION_TARGETS, VECTOR_LAYER

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


@dataclass(frozen=True, kw_only=True)
class Attribution(Experiment):
    """Integrated gradients (`behavstats.maps.attribution`, on captum) of quantities at
    the decision square, to the input pixels and to each channel and cell of `layer`,
    against baselines.

    targets: the quantities (`vocabulary.DECISION_TARGETS`): p_cheese, P(move towards
        the cheese); logit_diff, log P(cheese move) - log P(top-right move).
    baselines: cheese_removed (the same observation without the cheese) and blank (the
        level with the maze's walls and the cheese removed, `maze.edits.open_maze`).
    tolerance: completeness is reached when |attribution sum - output difference| <=
        tolerance x |output difference|, or <= abs_tolerance (in the target's units: a
        probability, or nats); 5% is the check Sundararajan et al. (2017) propose.
    start_steps, max_steps: integration steps start at start_steps and double until
        completeness is reached or max_steps is used (the row is then flagged).
    n_examples: example levels whose maps are drawn.
    """

    targets: tuple[str, ...] = DECISION_TARGETS
    baselines: tuple[str, ...] = (CHEESE_REMOVED, BLANK)
    layer: str = VECTOR_LAYER
    tolerance: float = 0.05
    abs_tolerance: float = 1e-3
    start_steps: int = 32
    max_steps: int = 512
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.maps.attribution:compute"


@dataclass(frozen=True, kw_only=True)
class ValueMaps(Experiment):
    """Value maps (`behavstats.maps.value`): the value head's output at every free cell
    with the cheese present, absent, and present under coeff x the maze's cheese vector
    at `layer`; the mean value by steps to the cheese and to the top-right cell.

    n_examples: example levels whose maps are drawn beside their vector fields.
    """

    coeff: float = -1.0
    layer: str = VECTOR_LAYER
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.maps.value:compute"
