"""Random streams: one per purpose, derived from one seed.

`stream(seed, purpose, *keys)` is the numpy Generator of
`SeedSequence(seed, spawn_key=(purpose, *keys))`. Purposes never share bits, so
drawing more for one never changes another; a per-level purpose takes the level as
a key, so a level's draws do not depend on the other levels, on batching or on
sharding. (Plain `default_rng([seed, level])` would not do: numpy pads short entropy
with zeros, so `[seed, level]` and `[seed, level, 0]` are the same stream.)

The purposes, with their keys:

- SPLITS, CV, SUBSETS, SOLVER: the statistical study's train/validation splits,
  cross-validation folds, random feature subsets and solver shuffling (`stats/`).
- BOOTSTRAP: bootstrap resamples of confidence intervals.
- CHEESE_REGION (level): an episode's cheese re-drawn into the top-right region.
- ACTIONS (level): an episode's sampled actions.
- PLACEMENTS (level): channel discovery's random cheese cells.
- RANDOM_VECTOR (level): the cheese vector's random control.
- RANDOM_CHANNELS (level): resampling's random channel sets.
- SOURCES (level, location): resampling's source mazes ("same" 0, "different" 1).
- 11, 12: retired (retargeting's sampled walks); not reused, so old draws keep their
  meaning.
- TRAIN_LEVELS (block): PPO's training level seeds, 64 per block.
- TRAIN_CHEESE: PPO's cheese re-draws, one stream per run.
- CLONING_CHEESE, CLONING_FACING (chunk + 1; 0 is the validation set): behaviour
  cloning's cheese cells and mouse facings.
- SYNTHETIC: synthetic data sets (`stats.synthetic`).
- PLOT_JITTER: jitter of scatter plots.
- PATH_CELLS (level): the probes' observation cells along an episode's path.
- CONTROL_LABELS (level, target): the probes' control-task labels (target: its index
  in `sweeps.probes.TARGETS`).
- PROBE_SPLIT: the probes' train/test split of levels.
- RANDOM_NETWORK: the probes' randomly initialised network.
- RETARGET_TARGETS (level): retargeting's sample of target squares.
- SPATIAL_CONTROL (level): the spatial probes' control task (a random cell standing
  in for the cheese).
- EARLY_FOLDS: the first-observation probes' cross-validation folds of levels.
- EARLY_CONTROL (level, target): the first-observation probes' control-task labels.
- SIGN_FLIPS (n): the random sign vectors of sign-flip tests of n values
  (`stats.multiplicity`); every test of n values under one seed uses the same ones.
- PATCH_TWINS (level, corruption): activation patching's corrupted twins (the moved
  cheese's cell, the toggled wall; `maps.patching`).
"""

from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a random stream is for (its fixed code: the first spawn key). The first
    five codes are those the statistical study has always used."""

    SPLITS = 0
    CV = 1
    SUBSETS = 2
    BOOTSTRAP = 3
    SOLVER = 4
    CHEESE_REGION = 5  # the purpose's code, not the region's size (TOP_RIGHT_REGION)
    ACTIONS = 6
    PLACEMENTS = 7
    RANDOM_VECTOR = 8
    RANDOM_CHANNELS = 9
    SOURCES = 10
    TRAIN_LEVELS = 13
    TRAIN_CHEESE = 14
    CLONING_CHEESE = 15
    CLONING_FACING = 16
    SYNTHETIC = 17
    PLOT_JITTER = 18
    PATH_CELLS = 19
    CONTROL_LABELS = 20
    PROBE_SPLIT = 21
    RANDOM_NETWORK = 22
    RETARGET_TARGETS = 23
    SIGN_FLIPS = 24
    INFERENCE_SPLIT = 25
    STABILITY_HALVES = 26
    CALIBRATION_FOLDS = 27
    PATCH_TWINS = 28
    SPATIAL_CONTROL = 29
    EARLY_FOLDS = 30
    EARLY_CONTROL = 31
    EXPLORE_TWINS = 32


def _sequence(seed: int, purpose: Purpose, *keys: int) -> np.random.SeedSequence:
    """The SeedSequence of one purpose (and keys, e.g. a level) under `seed`."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(purpose), *map(int, keys)))


def stream(seed: int, purpose: Purpose, *keys: int) -> np.random.Generator:
    """The numpy Generator of one purpose (and keys) under `seed`."""
    return np.random.default_rng(_sequence(seed, purpose, *keys))


def random_state(seed: int, purpose: Purpose, *keys: int) -> int:
    """An int `random_state` for scikit-learn objects, for one purpose."""
    return int(_sequence(seed, purpose, *keys).generate_state(1)[0] >> 1)
