"""The batched engine: cached passes equal full passes, per-row edits hit their rows."""

import numpy as np
import pytest
import torch

from behavstats.hooks import VECTOR_LAYER, AddVector, SetCell, run_with_cache
from behavstats.interventions.forward import (
    FieldRows,
    LayerCache,
    activations,
    added,
    probs,
    render,
    stage_of,
)
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import move_probs, preprocess

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(7).to(memory_format=torch.channels_last)


@pytest.fixture(scope="module")
def setup(observer):
    mazes = list(LevelGenerator("hard", batch=4).mazes([3, 26]))
    rows = FieldRows.of(mazes)
    return mazes, rows, render(rows.pairs(mazes), observer)


def test_stage_names():
    assert stage_of(VECTOR_LAYER) == "embedder.block2.res1"
    assert stage_of("embedder.block3") == "embedder.block3.res2"
    assert stage_of("embedder.block1.maxpool") == "embedder.block1.maxpool"
    assert stage_of("embedder.block2.res1.conv1") is None
    assert stage_of("fc_policy") is None


@pytest.mark.parametrize("layer", [VECTOR_LAYER, "embedder.block1.conv", "embedder.block3",
                                   "embedder.block2.res1.conv2"])
def test_cached_passes_equal_full_passes(policy, setup, layer):
    _, _, obs = setup
    cache = LayerCache(policy, obs, layer, batch=16)
    assert (cache.acts is None) == (stage_of(layer) is None)
    np.testing.assert_allclose(cache.probs(), probs(policy, obs), atol=1e-6)
    with torch.no_grad():
        _, recorded = run_with_cache(policy, preprocess(obs), [layer])
    torch.testing.assert_close(activations(policy, obs, layer, batch=16), recorded[layer],
                               rtol=0, atol=1e-6)


def test_per_row_edits_reach_exactly_their_rows(policy, setup):
    _, rows, obs = setup
    cache = LayerCache(policy, obs, VECTOR_LAYER, batch=16)
    vectors = torch.randn(2, 32, 16, 16)
    owner = rows.owner
    coeffs = np.where(np.arange(len(obs)) % 3 == 0, 0.0, 1.5)
    got = cache.probs(added(VECTOR_LAYER, (vectors, owner, coeffs)))
    for r in (0, 1, len(obs) - 1):
        edit = AddVector(VECTOR_LAYER, vectors[owner[r]], coeff=float(coeffs[r]))
        with torch.no_grad(), policy.hooks(edit):
            expected = move_probs(policy(preprocess(obs[r : r + 1]))[0])[0].numpy()
        np.testing.assert_allclose(got[r], expected, atol=1e-6)
    index = np.array([5, 0, 5])
    np.testing.assert_allclose(cache.probs(index=index), cache.probs()[index], atol=1e-7)
    with pytest.raises(ValueError, match="cannot continue"):
        cache.probs([SetCell("embedder.block3.conv", [0], 0, 0, 1.0)])
    split = rows.split(np.arange(len(obs)))
    assert [len(s) for s in split] == [len(c) for c in rows.cells]
