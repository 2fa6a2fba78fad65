"""Settings of the one-command study: one settings object per experiment part and the
levels of each, full and --quick."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace

from behavstats.experiment import Settings
from behavstats.experiments import (
    Ablation,
    Attribution,
    Channels,
    CheeseVector,
    Evaluation,
    LayerSweep,
    Patching,
    Probes,
    Regression,
    Resample,
    Retarget,
    TopRightVector,
    ValueMaps,
)
from behavstats.vocabulary import DEFAULT_MODE, PROCGEN_STEP_LIMIT


@dataclass(frozen=True)
class StudyConfig:
    """What `behavstats study` runs (level seeds are half-open [start, stop) ranges).

    Each experiment part has its settings object here (its defaults are the
    experiment's own) and its levels; the study's `seed` and `mode` (and `max_steps`,
    for the parts that run episodes) apply to every part (`settings_of`). The full
    sizes follow the published analyses: 10,000 vanilla episodes for the behavioural
    regression, cheese-vector levels 0-99, 30+ levels for resampling, retargeting on
    100 levels (Mini et al.) with 20 target squares each. The sweeps' sizes keep the
    whole study within 10 minutes on 2 cores at scale 1 and 30 at scale 4
    (`benchmarks/study.py`): the layer sweep (seven layers, every cell's field) on 50
    levels, probes on 250; activation patching on the ablation's 100 levels (about 20 s
    at scale 1); integrated gradients
    (both targets and baselines, two spaces, up to 512 steps) on 20 levels (those with
    a decision square), value maps on 50. Training levels of our agents start at
    900,000, so every level here is held out.
    """

    seed: int = 0
    mode: str = DEFAULT_MODE
    max_steps: int = PROCGEN_STEP_LIMIT
    evaluation_levels: tuple[int, int] = (0, 1000)
    episode_levels: tuple[int, int] = (0, 10_000)
    example_levels: tuple[int, ...] = (0, 2, 3, 5)
    vector_levels: tuple[int, int] = (0, 100)
    top_right_levels: tuple[int, int] = (0, 100)
    channel_levels: tuple[int, int] = (100, 300)
    retarget_levels: tuple[int, int] = (300, 400)
    resample_levels: tuple[int, int] = (310, 350)
    layer_sweep_levels: tuple[int, int] = (0, 50)
    ablation_levels: tuple[int, int] = (0, 100)
    patching_levels: tuple[int, int] = (0, 100)
    probe_levels: tuple[int, int] = (0, 250)
    attribution_levels: tuple[int, int] = (0, 20)
    value_levels: tuple[int, int] = (0, 50)
    evaluation: Evaluation = field(default_factory=Evaluation)
    regression: Regression = field(default_factory=Regression)
    cheese_vector: CheeseVector = field(default_factory=CheeseVector)
    top_right_vector: TopRightVector = field(default_factory=TopRightVector)
    channels: Channels = field(default_factory=Channels)
    retarget: Retarget = field(default_factory=Retarget)
    resample: Resample = field(default_factory=Resample)
    layer_sweep: LayerSweep = field(default_factory=LayerSweep)
    ablation: Ablation = field(default_factory=Ablation)
    attribution: Attribution = field(default_factory=Attribution)
    value_maps: ValueMaps = field(default_factory=ValueMaps)
    patching: Patching = field(default_factory=Patching)
    probes: Probes = field(default_factory=Probes)
    quick: bool = False

    def settings_of(self, part: str) -> Settings:
        """The settings object of `part` with the study's seed, mode and step limit."""
        settings = getattr(self, part)
        shared = {"seed": self.seed, "mode": self.mode, "max_steps": self.max_steps}
        names = {f.name for f in fields(settings)}
        return replace(settings, **{k: v for k, v in shared.items() if k in names})

    def as_dict(self) -> dict:
        """JSON values: each settings object as a dict, tuples as lists."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> StudyConfig:
        """The config `as_dict` gave (unknown keys, e.g. of older versions, ignored)."""
        defaults = cls()
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for name, value in values.items():
            if name not in known:
                continue
            default = getattr(defaults, name)
            if isinstance(default, Settings):
                value = type(default).from_dict(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)


def quick_config(seed: int = 0, mode: str = DEFAULT_MODE) -> StudyConfig:
    """Every size shrunk so the whole study takes about a minute (a smoke run:
    its numbers are noisy). Retargeting uses level 305, a 9 x 9 maze."""
    return replace(StudyConfig(seed=seed, mode=mode), evaluation_levels=(0, 40),
                   episode_levels=(0, 200), max_steps=150,
                   regression=Regression(n_splits=5, n_subsets=10, n_pairs=10),
                   example_levels=(0, 2), vector_levels=(0, 12),
                   top_right_levels=(0, 8), channel_levels=(100, 130),
                   retarget_levels=(305, 306), resample_levels=(310, 316),
                   layer_sweep_levels=(0, 6), ablation_levels=(0, 8), probe_levels=(0, 12),
                   probes=Probes(per_episode=2), attribution_levels=(0, 4),
                   attribution=Attribution(targets=("logit_diff",), max_n_steps=64,
                                           n_examples=1),
                   value_levels=(0, 6), value_maps=ValueMaps(n_examples=1),
                   patching_levels=(0, 8), quick=True)


def levels(bounds: tuple[int, int]) -> list[int]:
    return list(range(*bounds))
