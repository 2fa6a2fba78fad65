"""Activation caching and interventions do exactly what they say, and never leak."""

import pytest
import torch

from behavstats.hooks import (
    VECTOR_LAYER,
    Ablate,
    AddVector,
    ReplaceChannels,
    SetCell,
    UnknownLayerError,
    run_with_cache,
)


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(0)


@pytest.fixture(scope="module")
def inputs():
    generator = torch.Generator().manual_seed(1)
    return torch.rand(2, 3, 64, 64, generator=generator)


def test_cache_records_named_outputs(policy, inputs):
    (logits, _), cache = run_with_cache(policy, inputs, [VECTOR_LAYER, "embedder.relufc"])
    assert cache[VECTOR_LAYER].shape == (2, 32, 16, 16)
    hidden = cache["embedder.relufc"]
    torch.testing.assert_close(policy.fc_policy(hidden), logits)


def test_cache_takes_the_observations_forward_takes(policy, mazes_by_level):
    """uint8 (N, 64, 64, 3) observations, as `observe` gives them, are read like the
    engine reads them: the same logits and activations as `forward`."""
    from behavstats.engine import forward
    from behavstats.env import observe

    obs = observe(list(mazes_by_level([0, 1]).values()))
    (logits, _), cache = run_with_cache(policy, obs, [VECTOR_LAYER])
    torch.testing.assert_close(logits, forward(policy, obs))
    torch.testing.assert_close(cache[VECTOR_LAYER], forward(policy, obs, stop=VECTOR_LAYER))
    (from_tensor, _), _ = run_with_cache(policy, torch.as_tensor(obs), [])
    torch.testing.assert_close(from_tensor, logits)


def test_unknown_layer_lists_close_names(policy, inputs):
    with pytest.raises(UnknownLayerError, match="embedder.block2.res1.resadd"):
        run_with_cache(policy, inputs, ["embedder.block2.res1.resad"])


def test_subtracting_a_difference_turns_a_into_b(policy, inputs):
    a, b = inputs[:1], inputs[1:]
    (logits_b, _), cache_b = run_with_cache(policy, b, [VECTOR_LAYER])
    _, cache_a = run_with_cache(policy, a, [VECTOR_LAYER])
    vector = (cache_a[VECTOR_LAYER] - cache_b[VECTOR_LAYER])[0]
    (patched, _), cache = run_with_cache(policy, a, [VECTOR_LAYER],
                                         AddVector(VECTOR_LAYER, vector, coeff=-1.0))
    torch.testing.assert_close(cache[VECTOR_LAYER], cache_b[VECTOR_LAYER], atol=1e-5, rtol=0)
    torch.testing.assert_close(patched, logits_b, atol=1e-4, rtol=0)


def test_set_cell_and_fill(policy, inputs):
    _, cache = run_with_cache(policy, inputs, [VECTOR_LAYER],
                              SetCell(VECTOR_LAYER, [3, 5], row=4, col=9, value=7.5, fill=-0.25))
    act = cache[VECTOR_LAYER]
    assert torch.all(act[:, [3, 5], 4, 9] == 7.5)
    mask = torch.ones(16, 16, dtype=torch.bool)
    mask[4, 9] = False
    assert torch.all(act[:, [3, 5]][:, :, mask] == -0.25)
    _, original = run_with_cache(policy, inputs, [VECTOR_LAYER])
    torch.testing.assert_close(act[:, 4], original[VECTOR_LAYER][:, 4])


def test_replace_channels_with_other_activations(policy, inputs):
    _, cache = run_with_cache(policy, inputs, [VECTOR_LAYER])
    source = cache[VECTOR_LAYER][1]
    _, patched = run_with_cache(policy, inputs[:1], [VECTOR_LAYER],
                                ReplaceChannels(VECTOR_LAYER, [0, 7], source))
    act = patched[VECTOR_LAYER][0]
    torch.testing.assert_close(act[[0, 7]], source[[0, 7]])
    torch.testing.assert_close(act[1:7], cache[VECTOR_LAYER][0, 1:7])
    # resampling from the very same activations changes nothing
    (same, _), _ = run_with_cache(policy, inputs[:1], [],
                                  ReplaceChannels(VECTOR_LAYER, [0, 7], cache[VECTOR_LAYER][0]))
    torch.testing.assert_close(same, policy(inputs[:1])[0])


def test_zero_and_mean_ablation(policy, inputs):
    _, cache = run_with_cache(policy, inputs, [VECTOR_LAYER], Ablate(VECTOR_LAYER, [2]))
    assert torch.all(cache[VECTOR_LAYER][:, 2] == 0)
    mean = torch.full((32, 16, 16), 0.5)
    _, cache = run_with_cache(policy, inputs, [VECTOR_LAYER], Ablate(VECTOR_LAYER, None, mean))
    assert torch.all(cache[VECTOR_LAYER] == 0.5)


def test_hooks_are_removed_after_an_exception(policy, inputs):
    with torch.no_grad():
        before = policy(inputs)[0]
    with pytest.raises(RuntimeError, match="boom"), \
            policy.hooks(AddVector(VECTOR_LAYER, torch.ones(32, 16, 16), coeff=100.0)):
        with torch.no_grad():
            assert not torch.allclose(policy(inputs)[0], before)
        raise RuntimeError("boom")
    with torch.no_grad():
        torch.testing.assert_close(policy(inputs)[0], before)
    assert all(not m._forward_hooks for m in policy.modules())
