"""Independent, reproducible random streams derived from one study seed.

Each random part of the study (splits, the cross-validation folds that choose C,
random feature subsets, bootstrap resamples, the solver's own shuffling) draws from
its own child of `numpy.random.SeedSequence(seed)`, so changing how much one part
draws never changes another part's numbers, and estimators fitted separately with
the same seed share the same splits.
"""

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """The study's random streams (the SeedSequence spawn key of each)."""

    SPLITS = 0
    CV = 1
    SUBSETS = 2
    BOOTSTRAP = 3
    SOLVER = 4


def seed_sequence(seed: int, stream: Stream) -> np.random.SeedSequence:
    """The child SeedSequence of `seed` for one stream."""
    return np.random.SeedSequence(seed, spawn_key=(int(stream),))


def rng(seed: int, stream: Stream) -> np.random.Generator:
    """A numpy Generator for one stream."""
    return np.random.default_rng(seed_sequence(seed, stream))


def random_state(seed: int, stream: Stream) -> int:
    """An int `random_state` for scikit-learn objects, for one stream."""
    return int(seed_sequence(seed, stream).generate_state(1)[0] >> 1)
