"""Resampling: identical sources change nothing, a channel the rest of the network never
reads has exactly zero effect while others do not, and sources sit where asked."""

import copy

import numpy as np
import pytest
import torch

from behavstats.engine import activations, probs
from behavstats.env import render
from behavstats.hooks import VECTOR_LAYER, ReplaceChannels
from behavstats.interventions import ResampleResult, run_resample
from behavstats.interventions.resample import find_source
from behavstats.maze.levels import LevelGenerator
from behavstats.vfield import FieldRows

DEAF = 7  # a channel of the vector layer that nothing downstream reads


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    """Random weights, except that channel DEAF of block2.res1's output is read by
    nobody: block2.res2's first conv and block3's conv (which reads the residual skip)
    ignore it."""
    policy = make_policy(5)
    with torch.no_grad():
        policy.embedder.block2.res2.conv1.weight[:, DEAF] = 0.0
        policy.embedder.block3.conv.weight[:, DEAF] = 0.0
    return policy


@pytest.fixture(scope="module")
def mazes():
    return list(LevelGenerator("hard", batch=8).mazes([3, 6, 26]))


@pytest.fixture(scope="module")
def pool():
    return list(LevelGenerator("hard", batch=32).mazes(range(100, 164)))


def test_replacing_with_identical_activations_changes_nothing(policy, mazes, observer):
    rows = FieldRows.of(mazes[:2])
    obs = render(rows.pairs(mazes[:2]), observer)
    own = activations(policy, obs, VECTOR_LAYER)
    mask = torch.ones(len(obs), own.shape[1], dtype=torch.bool)
    before = probs(policy, obs)
    after = probs(policy, obs, lambda r: [ReplaceChannels(VECTOR_LAYER, mask[r], own[r])])
    np.testing.assert_allclose(after, before, atol=1e-6)
    garbage = torch.randn_like(own) * 100
    untouched = probs(policy, obs, lambda r: [ReplaceChannels(VECTOR_LAYER, ~mask[r],
                                                              garbage[r])])
    np.testing.assert_array_equal(untouched, before)


def test_sources_put_the_cheese_where_asked(mazes, pool):
    rng = np.random.default_rng(0)
    for target in mazes:
        same = find_source(target, pool, "same", rng)
        different = find_source(target, pool, "different", rng, near=2)
        assert same.level != target.level and different.level != target.level
        assert same.world_cell(same.cheese) == target.world_cell(target.cheese)
        (ax, ay), (bx, by) = (different.world_cell(different.cheese),
                              target.world_cell(target.cheese))
        assert max(abs(ax - bx), abs(ay - by)) > 2
        assert same.mouse == same.start and different.mouse == different.start


def test_unread_channel_has_zero_effect_and_read_channels_do_not(policy, mazes, pool,
                                                                  tmp_path):
    pristine = copy.deepcopy(policy)
    result = run_resample(policy, mazes, tmp_path, channels=[DEAF, 3], source_levels=pool,
                          n_boot=100)
    effects = result.effects
    assert set(effects["location"]) == {"same", "different"}
    assert len(effects) == len(mazes) * 2 * 4
    single = effects[effects["channel_set"] == "cheese_single"]
    assert (single["channels"] == str(DEAF)).all()
    assert (single["tv"] == 0).all() and (single["published"] == 0).all()
    others = effects[effects["channel_set"] != "cheese_single"]
    assert (others["tv"] > 0).all()
    randoms = effects[effects["channel_set"] == "random"]
    assert all(str(DEAF) not in c.split() for c in randoms["channels"])
    assert (tmp_path / "effects.parquet").exists() and (tmp_path / "resample.png").exists()
    assert ResampleResult.load(tmp_path) == result
    paired = result.summary().query("quantity == 'tv_difference'")["condition"]
    assert "cheese, different - same location" in set(paired)
    assert all(not m._forward_hooks for m in policy.modules())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(policy(x)[0], pristine(x)[0], rtol=0, atol=0)
