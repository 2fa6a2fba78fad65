"""Random streams: one per purpose, reproducible, and per level where results are."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from behavstats.rollout import RolloutConfig, level_episodes
from behavstats.seeding import Purpose, random_state, stream


def _draws(*args) -> np.ndarray:
    return stream(*args).integers(0, 2**62, size=8)


def test_purposes_and_keys_give_independent_streams():
    """Every pair of purposes for the same (seed, level) draws differently, and so do
    keys that differ only by a trailing zero (which `default_rng([seed, level])` and
    `default_rng([seed, level, 0])` do not)."""
    draws = {p: _draws(0, p, 111) for p in Purpose}
    for a, b in itertools.combinations(Purpose, 2):
        assert not np.array_equal(draws[a], draws[b]), (a, b)
    assert not np.array_equal(_draws(0, Purpose.ACTIONS, 111),
                              _draws(0, Purpose.ACTIONS, 111, 0))
    assert not np.array_equal(_draws(0, Purpose.ACTIONS, 111), _draws(1, Purpose.ACTIONS, 111))
    assert not np.array_equal(_draws(0, Purpose.ACTIONS, 111), _draws(0, Purpose.ACTIONS, 77))


def test_the_same_purpose_and_keys_give_the_same_draws():
    np.testing.assert_array_equal(_draws(3, Purpose.PLACEMENTS, 5, 2),
                                  _draws(3, Purpose.PLACEMENTS, 5, 2))
    assert random_state(3, Purpose.SOLVER) == random_state(3, Purpose.SOLVER)


@pytest.mark.usefixtures("one_thread")
def test_episodes_are_reproducible_and_independent_of_the_other_levels(make_policy):
    """With the cheese re-drawn into the top-right region (its own stream) and sampled
    actions (theirs), a level's episode depends on the seed alone, not on the order,
    batching or company of the other levels."""
    policy = make_policy(6)
    config = RolloutConfig(seed=2, max_steps=25, cheese_region=3, parallel_episodes=3,
                           record_path=True)
    levels = [4, 9, 30, 77, 111]
    episodes = level_episodes(policy, levels, config).set_index("level")
    shuffled = level_episodes(policy, levels[::-1], dataclasses.replace(
        config, parallel_episodes=2, batch=3)).set_index("level")
    pd.testing.assert_frame_equal(shuffled.loc[levels], episodes)
    alone = level_episodes(policy, [30], config).set_index("level")
    pd.testing.assert_frame_equal(alone, episodes.loc[[30]])
    other = level_episodes(policy, levels, dataclasses.replace(config, seed=3))
    assert other["path"].astype(str).tolist() != episodes["path"].astype(str).tolist()
