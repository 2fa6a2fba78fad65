"""Settings of the one-command study: sizes of every part, full and --quick."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class StudyConfig:
    """What `behavstats study` runs (level seeds are half-open [start, stop) ranges).

    The full defaults follow the published analyses: 10,000 vanilla episodes for the
    behavioural regression, cheese-vector levels 0-99, 30+ levels for resampling,
    retargeting on 100 levels (Mini et al.), `retarget_targets` target squares each.
    The sweeps' sizes keep the whole study within about 12 minutes on 2 cores: the
    layer sweep (seven layers, every cell's field) on 50 levels, probes on 250;
    activation patching on the ablation's 100 levels (about 30 s of one core at scale
    1). Training levels of our agents start at 900,000, so every level here is held out.
    """

    seed: int = 0
    mode: str = "hard"
    evaluation_levels: tuple[int, int] = (0, 1000)
    episode_levels: tuple[int, int] = (0, 10_000)
    max_steps: int = 500
    regression_splits: int = 50
    regression_subsets: int = 200
    stability_pairs: int = 50
    stability_threshold: float = 0.8
    example_levels: tuple[int, ...] = (0, 2, 3, 5)
    vector_levels: tuple[int, int] = (0, 100)
    top_right_levels: tuple[int, int] = (0, 100)
    channel_levels: tuple[int, int] = (100, 300)
    retarget_levels: tuple[int, int] = (300, 400)
    retarget_targets: int = 20
    resample_levels: tuple[int, int] = (310, 350)
    layer_sweep_levels: tuple[int, int] = (0, 50)
    ablation_levels: tuple[int, int] = (0, 100)
    patching_levels: tuple[int, int] = (0, 100)
    probe_levels: tuple[int, int] = (0, 250)
    probe_per_episode: int = 4
    quick: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def quick_config(seed: int = 0, mode: str = "hard") -> StudyConfig:
    """Every size shrunk so the whole study takes a couple of minutes (a smoke run:
    its numbers are noisy). Retargeting uses level 305, a 9 x 9 maze."""
    return replace(StudyConfig(seed=seed, mode=mode), evaluation_levels=(0, 40),
                   episode_levels=(0, 200), max_steps=150, regression_splits=5,
                   regression_subsets=10, stability_pairs=10, example_levels=(0, 2),
                   vector_levels=(0, 12),
                   top_right_levels=(0, 8), channel_levels=(100, 130),
                   retarget_levels=(305, 306), resample_levels=(310, 316),
                   layer_sweep_levels=(0, 6), ablation_levels=(0, 8), probe_levels=(0, 12),
                   patching_levels=(0, 8),
                   probe_per_episode=2, quick=True)


def levels(bounds: tuple[int, int]) -> list[int]:
    return list(range(*bounds))
