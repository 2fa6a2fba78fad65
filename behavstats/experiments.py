"""The experiments' settings, one frozen dataclass each (`behavstats.experiment`).

Each class is the single home of its experiment's defaults: the `run_*` functions,
the command line's options and the study's parts all read them from here. Importing
this module needs neither torch nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavstats.errors import UserError
from behavstats.experiment import Experiment, Settings
from behavstats.vocabulary import (
    BLANK,
    CHEESE_IN_TR5,
    CHEESE_REMOVED,
    DECISION_TARGETS,
    PROCGEN_STEP_LIMIT,
    VECTOR_LAYER,
)

N_BOOT = 2000
"""Bootstrap resamples (over levels) of every interval."""


@dataclass(frozen=True, kw_only=True)
class Evaluation(Experiment):
    """Success on the training distribution and on vanilla levels by maze size, and
    where the agent goes on vanilla decision mazes (`behavstats.evaluation`).

    region: the training distribution draws the cheese into the top-right region x
        region corner (None: the policy's own training region, else `TOP_RIGHT_REGION`,
        5, the published agents' `rand_region_5`).
    max_steps: step limit per episode.
    """

    region: int | None = None
    max_steps: int = PROCGEN_STEP_LIMIT

    implementation = "behavstats.evaluation:compute"


@dataclass(frozen=True, kw_only=True)
class Regression(Settings):
    """Which maze features predict reaching the cheese (`behavstats.stats.study`): held-out
    scores of L1 logistic models, selection and stability selection on one half of the
    decision mazes, inference on the other. `fit(episodes)` runs it.

    features: feature columns (None: the 16 published metrics).
    n_splits: repeated train/test splits of every held-out score.
    test_size: the share of the rows each split holds out.
    seed: seed of the splits, subsets and resamples.
    n_subsets: half-samples of the sign stability.
    n_bootstrap: resamples of the published model's coefficient intervals.
    n_pairs: complementary pairs of half-samples of stability selection.
    threshold: the selection probability at which stability selection calls a feature
        stable.
    inference: "split" (select on one half, infer on the other) or "same_data" (as
        published: biased, to reproduce the published table only).
    """

    features: tuple[str, ...] | None = None
    n_splits: int = 50
    test_size: float = 0.2
    seed: int = 0
    n_subsets: int = 200
    n_bootstrap: int = 1000
    n_pairs: int = 50
    threshold: float = 0.8
    inference: str = "split"

    implementation = "behavstats.stats.study:compute"

    def fit(self, episodes, *, progress: bool = False):
        """The regression's result (`StudyResult`) on an episodes table (or a table of
        `reached_cheese` and feature columns)."""
        return self._implementation()(self, episodes, progress=progress)


@dataclass(frozen=True, kw_only=True)
class CheeseVector(Experiment):
    """The cheese vector (`behavstats.interventions.cheese`): P(step towards the cheese)
    at the decision square before and after adding coeff x the maze's cheese vector,
    with random-vector and cheese-absent controls and transfer between mazes.

    coeffs: activation + coeff * vector, one pass each (-1 is the published edit).
    layer: the layer the vectors are computed and added at (module name).
    field_coeff: the coefficient of the whole-field comparisons with the cheese absent.
    transfer_coeff: the coefficient of maze A's vector applied in maze B.
    near: transfer pairs whose cheeses lie at most this many cells apart (Chebyshev).
    transfer_levels: transfer between the first this many usable levels (all ordered
        pairs; None: all).
    n_examples: example mazes whose fields are drawn.
    n_boot: bootstrap resamples (over levels) of every interval.
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
class TopRightVector(Experiment):
    """The top-right vector (`behavstats.interventions.topright`): P(step towards the
    top-right) at the decision square and the change of the whole field per
    coefficient, transfer between mazes and composition with the cheese vector.

    coeffs: activation + coeff * vector, one pass each.
    layer: the layer the vectors are computed and added at (module name).
    top_right_coeff: the coefficient of the transfer and composition runs (and of the
        example figures).
    cheese_coeff: the cheese vector's coefficient in the composition.
    transfer_levels: transfer among the first this many usable levels (None: all).
    n_examples: example mazes whose fields are drawn.
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    coeffs: tuple[float, ...] = (-1.0, 0.5, 1.0, 2.0, 5.0, 10.0)
    layer: str = VECTOR_LAYER
    top_right_coeff: float = 1.0
    cheese_coeff: float = -1.0
    transfer_levels: int | None = 30
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.interventions.topright:compute"


@dataclass(frozen=True, kw_only=True)
class Channels(Experiment):
    """Cheese-tracking channels (`behavstats.interventions.channels`): a layer's
    channels ranked by how well their activation maps track the cheese, over the levels
    with random cheese cells.

    layer: the layer whose channels are ranked (module name).
    placements: random free cells the cheese is put on, per level.
    radius: a hit is a channel's arg-max within this many activation cells
        (Chebyshev) of the cheese's.
    """

    layer: str = VECTOR_LAYER
    placements: int = 4
    radius: int = 1

    implementation = "behavstats.interventions.channels:compute"


DISCOVERY_LEVELS = "1000:1100"
"""Levels (a level spec) of the channel discovery that retargeting, resampling and
ablation run when they are given none."""


@dataclass(frozen=True, kw_only=True)
class Retarget(Experiment):
    """Retargeting by clamping cheese channels (`behavstats.interventions.retarget`,
    Mini et al.'s protocol): per target square, no edit, the real cheese moved there,
    and clamps of cheese channels at its activation cell.

    channel_sets: name -> channels to clamp (None: the top channel, the tracked set and
        every channel scoring at least `min_score` in a channel discovery on
        `discovery_levels`, or on the discovery given to `run`).
    layer: the layer whose channels are clamped (module name).
    value: one clamp value for every channel (None: `value_scale` x the channel's
        maximum at the cheese in the channel discovery).
    value_scale: the clamp value's multiple of that maximum.
    fill: the rest of each clamped channel set to this (None: left as it is).
    max_targets: target squares drawn per maze (None: every reachable square).
    min_score: the default channel set "score >= min_score" holds every channel
        scoring at least this in the channel discovery.
    discovery_levels: the levels (a level spec) of the channel discovery run when
        `run` is given none.
    n_boot: bootstrap resamples (over levels) of every interval.
    n_heatmaps: example mazes whose success maps are drawn.
    """

    channel_sets: dict[str, tuple[int, ...]] | None = None
    layer: str = VECTOR_LAYER
    value: float | None = None
    value_scale: float = 5.0
    fill: float | None = None
    max_targets: int | None = 20
    min_score: float = 0.3
    discovery_levels: str = DISCOVERY_LEVELS
    n_boot: int = N_BOOT
    n_heatmaps: int = 3

    implementation = "behavstats.interventions.retarget:compute"


@dataclass(frozen=True, kw_only=True)
class Resample(Experiment):
    """Resampling the cheese channels (`behavstats.interventions.resample`): replace
    them (and, as a control, random other channels) with those of a source maze whose
    cheese is at the same / a different place.

    channels: the cheese channels, best first (None: the published share of the best
        channels of a channel discovery on `discovery_levels`, or of the discovery given
        to `run`).
    layer: the layer whose channels are replaced (module name).
    source_levels: the pool of levels (a level spec) sources are drawn from.
    discovery_levels: the levels (a level spec) of the channel discovery run when
        `run` is given none.
    near: a source's cheese "at the same place" within this many cells.
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    channels: tuple[int, ...] | None = None
    layer: str = VECTOR_LAYER
    source_levels: str = "10000:11000"
    discovery_levels: str = DISCOVERY_LEVELS
    near: int = 2
    n_boot: int = N_BOOT

    implementation = "behavstats.interventions.resample:compute"


@dataclass(frozen=True, kw_only=True)
class LayerSweep(Experiment):
    """Both vectors, cheese and top-right, computed and added at every layer of a list
    (`behavstats.sweeps.layers`).

    layers: the layers, in network order (None: every residual add and the embedder
        output, `sweep_layers`).
    coeffs: vector name ("cheese", "top_right") -> its coefficients (None: -1 and 1 for
        the cheese vector, 1 and 2 for the top-right vector).
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    layers: tuple[str, ...] | None = None
    coeffs: dict[str, tuple[float, ...]] | None = None
    n_boot: int = N_BOOT

    implementation = "behavstats.sweeps.layers:compute"


@dataclass(frozen=True, kw_only=True)
class Ablation(Experiment):
    """Zero- and mean-ablation of each channel of a layer (`behavstats.sweeps.ablation`),
    beside the tracking score of a channel discovery (the one given to `run`, else one
    on the same levels).

    layer: the layer whose channels are ablated (module name).
    placements: random cheese cells per level of the channel discovery run when `run`
        is given none.
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    layer: str = VECTOR_LAYER
    placements: int = 4
    n_boot: int = N_BOOT

    implementation = "behavstats.sweeps.ablation:compute"


@dataclass(frozen=True, kw_only=True)
class Attribution(Experiment):
    """Integrated gradients (`behavstats.maps.attribution`, on captum) of quantities at
    the decision square, to the input pixels and to each channel and cell of `layer`,
    against baselines.

    targets: the quantities (`vocabulary.DECISION_TARGETS`): p_cheese, P(move towards
        the cheese); logit_diff, log P(cheese move) - log P(top-right move).
    baselines: cheese_removed (the same observation without the cheese) and blank (the
        level with the maze's walls and the cheese removed, `maze.edits.open_maze`).
    layer: the layer whose channels and cells get attributions (a stage output with
        channel maps).
    tolerance: completeness is reached when |attribution sum - output difference| <=
        tolerance x |output difference|, or <= abs_tolerance; 5% is the check
        Sundararajan et al. (2017) propose.
    abs_tolerance: the absolute gap that also counts as complete (in the target's
        units: a probability, or nats), for output differences near 0.
    n_steps, max_n_steps: integration steps (captum's n_steps) start at n_steps and
        double until completeness is reached or max_n_steps is used (the row is then
        flagged).
    n_examples: example levels whose maps are drawn.
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    targets: tuple[str, ...] = DECISION_TARGETS
    baselines: tuple[str, ...] = (CHEESE_REMOVED, BLANK)
    layer: str = VECTOR_LAYER
    tolerance: float = 0.05
    abs_tolerance: float = 1e-3
    n_steps: int = 32
    max_n_steps: int = 512
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.maps.attribution:compute"


@dataclass(frozen=True, kw_only=True)
class ValueMaps(Experiment):
    """Value maps (`behavstats.maps.value`): the value head's output at every free cell
    with the cheese present, absent, and present under coeff x the maze's cheese vector
    at `layer`; the mean value by steps to the cheese and to the top-right cell.

    coeff: the cheese vector's coefficient (-1: the published subtraction).
    layer: the layer the cheese vector is computed and added at.
    n_examples: example levels whose maps are drawn beside their vector fields.
    n_boot: bootstrap resamples (over levels) of every interval.
    """

    coeff: float = -1.0
    layer: str = VECTOR_LAYER
    n_examples: int = 3
    n_boot: int = N_BOOT

    implementation = "behavstats.maps.value:compute"


CORRUPTIONS = ("cheese_moved", "cheese_removed", "mouse_moved", "wall_toggled")
"""Activation patching's corrupted twins of a clean maze (`behavstats.maps.patching`)."""
DIRECTIONS = ("denoising", "noising")
"""Patching clean activations into the corrupted run (denoising) or corrupted ones into
the clean run (noising)."""
PATCH_METRICS = DECISION_TARGETS
"""The decision-square quantities patching restores (the attribution's targets):
P(move towards the cheese) and log P(towards the cheese) - log P(towards the top-right
cell)."""
UNITS = ("channel", "cell")
"""What one patch replaces: one channel at every position, or one cell of the map with
all its channels."""


@dataclass(frozen=True, kw_only=True)
class Patching(Experiment):
    """Activation patching maps (`behavstats.maps.patching`): for each level with a
    decision square, a clean run and corrupted twins', and the share of the
    clean-corrupted difference of the decision-square quantity that patching one
    channel or one cell at `layer` restores.

    layer: the layer whose channels and cells are patched (a stage output with channel
        maps, e.g. a residual add).
    corruptions: the corrupted twins (`CORRUPTIONS`).
    directions: `DIRECTIONS`: clean into corrupted (denoising), corrupted into clean
        (noising).
    metrics: the decision-square quantities (`PATCH_METRICS`).
    units: what one patch replaces (`UNITS`): a channel everywhere, a cell with all its
        channels.
    floor: levels whose clean and corrupted P(cheese) differ by less are left out of
        its restorations (and counted).
    logit_floor: the same for logit_diff (nats).
    window: cell rows of the aggregated table cover offsets up to this many activation
        cells from the cheese's cell (per-level rows cover every cell).
    near: the summary's cell mass counts cells within this many activation cells
        (Chebyshev) of a cheese as near it.
    sweep_layers: layers of the channel x layer sweep (None: every residual add; ():
        none).
    sweep_corruption: the sweep's corruption (denoising, one channel at a time).
    sweep_metric: the sweep's metric.
    beside: without a channel discovery and an ablation given to `run`, run both on the
        same levels for the channel ranking's tracking score and ablation effect.
    n_examples: example mazes whose cell maps are drawn.
    n_boot: bootstrap resamples (over levels) of every interval.
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


PROBE_TARGETS = ("cheese_x", "cheese_y", "mouse_x", "mouse_y", CHEESE_IN_TR5,
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
    n_boot: bootstrap resamples (over levels) of every interval.
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
        super().__post_init__()
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
