"""The one engine: the policy's stage chain, cached passes equal full passes, edits
apply where they are named (at the start, later, per row), and a widened network
computes the same function."""

import numpy as np
import pytest
import torch

from behavstats.engine import LayerCache, activations, forward, probs
from behavstats.env import render
from behavstats.hooks import VECTOR_LAYER, AddVector, SetCell, run_with_cache
from behavstats.interventions.forward import added
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import Policy, load_policy, move_probs, preprocess, save_policy, widen
from behavstats.report.sections import agent
from behavstats.rollout import RolloutConfig, run_episodes
from behavstats.study.folder import Study
from behavstats.vfield import FieldRows, vector_fields

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(7).to(memory_format=torch.channels_last)


@pytest.fixture(scope="module")
def setup(observer):
    mazes = list(LevelGenerator("hard", batch=4).mazes([3, 26]))
    rows = FieldRows.of(mazes)
    return mazes, rows, render(rows.pairs(mazes), observer)


def test_the_policy_owns_its_stage_chain(policy):
    assert policy.stage_of(VECTOR_LAYER) == "embedder.block2.res1"
    assert policy.stage_of("embedder.block2.res1") == "embedder.block2.res1"
    assert policy.stage_of("embedder.block3") == "embedder.block3.res2"
    assert policy.stage_of("embedder") == "embedder.relufc"
    assert policy.stage_of("embedder.block1.maxpool") == "embedder.block1.maxpool"
    assert policy.stage_of("embedder.block2.res1.conv1") is None
    assert policy.stage_of("fc_value") is None
    assert policy.stage_names[-1] == "fc_policy"
    assert len(policy.stage_names) == 3 * 4 + 4 + 1


@pytest.mark.parametrize("layer", [None, "embedder.block1.conv", VECTOR_LAYER,
                                   "embedder.block3", "embedder.fc"])
def test_forward_from_any_stage_equals_the_full_pass(policy, setup, layer):
    x = preprocess(setup[2][:20])
    with torch.no_grad():
        full, _ = policy(x)
        _, recorded = run_with_cache(policy, x, [layer] if layer else [])
        start = recorded[layer] if layer else x
        torch.testing.assert_close(policy.forward_from(layer, start), full, rtol=0, atol=1e-5)


def test_hooks_on_chains_fire(policy, setup):
    """The policy runs stages one by one and never calls a block or the embedder; a
    hook named after one must still act (on its last stage's output)."""
    x = preprocess(setup[2][:4])
    with torch.no_grad():
        _, cache = run_with_cache(policy, x, ["embedder.block2", "embedder.block2.res2"])
        torch.testing.assert_close(cache["embedder.block2"], cache["embedder.block2.res2"])
        with policy.hooks(SetCell("embedder.block3", list(range(32)), 0, 0, 50.0)):
            edited, _ = policy(x)
        assert not torch.allclose(edited, policy(x)[0])


@pytest.mark.parametrize("layer", [VECTOR_LAYER, "embedder.block1.conv", "embedder.block3",
                                   "embedder.block2.res1.conv2"])
def test_cached_passes_equal_full_passes(policy, setup, layer):
    _, _, obs = setup
    cache = LayerCache(policy, obs, layer, batch=16)
    inside = policy.stage_of(layer) is None
    assert cache.start == ("embedder.block2.maxpool" if inside else policy.stage_of(layer))
    np.testing.assert_allclose(cache.probs(), probs(policy, obs), atol=1e-6)
    edit = SetCell(layer, [1, 2], 3, 4, 7.0)
    with torch.no_grad(), policy.hooks(edit):
        hooked = move_probs(policy(preprocess(obs))[0]).numpy()
    np.testing.assert_allclose(cache.probs([edit]), hooked, atol=1e-6)
    assert np.abs(hooked - cache.probs()).max() > 1e-4  # the edit did something
    with torch.no_grad():
        _, recorded = run_with_cache(policy, preprocess(obs), [layer])
    torch.testing.assert_close(activations(policy, obs, layer, batch=16), recorded[layer],
                               rtol=0, atol=1e-6)


def test_edits_after_the_cache_apply_and_edits_before_it_raise(policy, setup):
    _, _, obs = setup
    cache = LayerCache(policy, obs[:30], VECTOR_LAYER, batch=16)
    later = SetCell("embedder.block3.conv", [0], 0, 0, 9.0)
    with torch.no_grad(), policy.hooks(later):
        hooked = move_probs(policy(preprocess(obs[:30]))[0]).numpy()
    np.testing.assert_allclose(cache.probs([later]), hooked, atol=1e-6)
    with pytest.raises(ValueError, match="cannot apply"):
        cache.probs([SetCell("embedder.block1.res1", [0], 0, 0, 1.0)])


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
    split = rows.split(np.arange(len(obs)))
    assert [len(s) for s in split] == [len(c) for c in rows.cells]


def test_batch_size_does_not_change_results(policy, setup):
    obs = setup[2]
    torch.testing.assert_close(forward(policy, obs, batch=7), forward(policy, obs, batch=64),
                               rtol=0, atol=1e-5)
    assert forward(policy, obs[:0]).shape == (0, 15)


@pytest.fixture(scope="module")
def trained_and_widened():
    policy = load_policy("default")
    return policy, widen(policy, 4)


def test_a_widened_network_is_published_size_and_computes_the_same(trained_and_widened, setup):
    """A scale-4 network whose channels repeat a scale-1 network's (the next layer's
    weights divided by four) has the published 3,653,136 parameters and the same
    vector fields and episodes."""
    small, wide = trained_and_widened
    assert wide.scale == 4 and sum(p.numel() for p in wide.parameters()) == 3_653_136
    mazes = setup[0]
    for a, b in zip(vector_fields(small, mazes), vector_fields(wide, mazes), strict=True):
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)
    more = list(LevelGenerator("hard", batch=8).mazes(range(8)))
    config = RolloutConfig(seed=3, record_path=True)
    episodes, wide_episodes = run_episodes(small, more, config), run_episodes(wide, more, config)
    assert episodes.equals(wide_episodes)


def test_a_saved_widened_copy_says_its_own_scale(trained_and_widened, tmp_path):
    """The copy keeps the agent's training record but not its scale: the saved file and
    the study's agent table say 4 (they said 1, from the copied metadata)."""
    _, wide = trained_and_widened
    loaded = load_policy(save_policy(wide, tmp_path / "wide.pt"))
    assert loaded.scale == 4 and loaded.metadata["scale"] == 4
    assert loaded.metadata["training"] == load_policy("default").metadata["training"]
    stale = Policy(4, metadata={"scale": 1})  # e.g. a copy made by hand
    assert load_policy(save_policy(stale, tmp_path / "stale.pt")).metadata["scale"] == 4
    info = {"policy_scale": 4, "policy_parameters": 3_653_136,
            "policy_metadata": {"scale": 1}}
    assert "IMPALA, scale 4, 3,653,136 parameters" in agent(Study(tmp_path, info, {}, {}, {}))


def test_a_pass_continues_from_a_flat_layer(policy, setup):
    obs = setup[2][:10]
    cache = LayerCache(policy, obs, "embedder.relufc")
    assert cache.acts.shape == (10, 256)
    np.testing.assert_allclose(cache.probs(), probs(policy, obs), atol=1e-6)
