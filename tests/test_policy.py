"""Policy architecture, checkpoint loading, and the 15 -> 5 move marginals."""

from pathlib import Path

import numpy as np
import pytest
import torch

from behavstats.policy import (
    MOVE_GROUPS,
    MOVE_NAMES,
    CheckpointError,
    Policy,
    load_policy,
    move_probs,
    net_vector,
    parameter_count,
    preprocess,
    save_policy,
)


def test_published_parameter_counts():
    assert parameter_count(Policy(4)) == 3_653_136
    assert parameter_count(Policy(1)) == 626_256


def test_published_module_names():
    names = dict(Policy(1).named_modules())
    for block in (1, 2, 3):
        for part in ("conv", "maxpool", "res1", "res2"):
            assert f"embedder.block{block}.{part}" in names
        for res in ("res1", "res2"):
            for inner in ("relu1", "conv1", "relu2", "conv2", "resadd"):
                assert f"embedder.block{block}.{res}.{inner}" in names
    for name in ("embedder.relu3", "embedder.flatten", "embedder.fc", "embedder.relufc",
                 "fc_policy", "fc_value"):
        assert name in names


@pytest.mark.parametrize("scale", [1, 2])
def test_published_checkpoint_round_trip(tmp_path, scale):
    torch.manual_seed(scale)
    model = Policy(scale).eval()
    path = tmp_path / "published.pt"
    torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": {}}, path)
    loaded = load_policy(path)
    assert loaded.scale == scale
    x = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        expected, loaded_logits = model(x)[0], loaded(x)[0]
    torch.testing.assert_close(loaded_logits, expected, rtol=0, atol=1e-6)


def test_our_checkpoint_loads_with_plain_torch(tmp_path):
    model = Policy(1, metadata={"training": {"method": "test"}})
    path = save_policy(model, tmp_path / "ours.pt")
    payload = torch.load(path, weights_only=True)
    assert set(payload["model_state_dict"]) == set(model.state_dict())
    assert payload["behavstats"]["scale"] == 1
    assert load_policy(path).metadata["training"]["method"] == "test"


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_policy(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="is not a torch file"):
        load_policy(junk)
    no_key = tmp_path / "nokey.pt"
    torch.save({"weights": {}}, no_key)
    with pytest.raises(CheckpointError, match="model_state_dict"):
        load_policy(no_key)
    state = Policy(1).state_dict()
    missing = dict(state)
    del missing["fc_value.bias"]
    torch.save({"model_state_dict": missing}, tmp_path / "missing_key.pt")
    with pytest.raises(CheckpointError, match="missing keys.*fc_value.bias"):
        load_policy(tmp_path / "missing_key.pt")
    wrong = dict(state)
    wrong["fc_policy.weight"] = torch.zeros(9, 256)
    torch.save({"model_state_dict": wrong}, tmp_path / "wrong.pt")
    with pytest.raises(CheckpointError, match="shape mismatch.*fc_policy.weight"):
        load_policy(tmp_path / "wrong.pt")


def test_move_probs_sum_the_action_groups():
    logits = torch.randn(6, 15)
    softmax = torch.softmax(logits, dim=1)
    probs = move_probs(logits)
    for j, name in enumerate(MOVE_NAMES):
        torch.testing.assert_close(probs[:, j], softmax[:, list(MOVE_GROUPS[name])].sum(1))
    torch.testing.assert_close(probs.sum(1), torch.ones(6))
    # one hot on action 8 (RIGHT+UP) is a RIGHT move, not UP
    one_hot = torch.full((1, 15), -1e9)
    one_hot[0, 8] = 0
    assert move_probs(one_hot)[0].tolist() == [0, 0, 0, 0, 1]
    assert net_vector(move_probs(one_hot)).tolist() == [[1.0, 0.0]]
    # numpy in, numpy out: (p_right - p_left, p_up - p_down) = (0.5 - 0.1, 0.2 - 0.1)
    arrows = net_vector(np.array([[0.1, 0.1, 0.1, 0.2, 0.5]]))
    assert isinstance(arrows, np.ndarray) and np.allclose(arrows, [[0.4, 0.1]])


def test_preprocess_layout():
    obs = np.zeros((2, 64, 64, 3), np.uint8)
    obs[1, 5, 7, 2] = 255
    x = preprocess(obs)
    assert x.shape == (2, 3, 64, 64)
    assert x[1, 2, 5, 7] == 1.0 and x.sum() == 1.0
    with pytest.raises(ValueError, match="expected images"):
        preprocess(np.zeros((64, 64, 3), np.uint8))


def test_training_region_reads_the_training_record():
    """PPO's region wins over its cloning warm start's; a published checkpoint has none."""
    assert Policy().training_region is None
    assert Policy(metadata={"training": {"cloning": {"region": 1}}}).training_region == 1
    both = {"training": {"ppo": {"region": 3}, "cloning": {"region": 5}}}
    assert Policy(metadata=both).training_region == 3


def test_bf16_on_a_cpu_without_native_bfloat16_warns():
    """Emulated bf16 is about 10x slower than fp32: asking for it there gets a warning,
    on a CPU with native bfloat16 it does not."""
    import warnings

    from behavstats.policy import inference, native_bf16

    policy = Policy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with inference(policy, bf16=True):
            pass
        with inference(policy, bf16=False):
            pass
    messages = [str(w.message) for w in caught if "bf16" in str(w.message)]
    assert len(messages) == (0 if native_bf16() else 1)


def test_shipped_policies_load_by_name(tmp_path, monkeypatch):
    import behavstats.policy as module

    shipped = sorted(module.DEFAULT_POLICY.parent.glob("*.pt"))
    assert module.DEFAULT_POLICY in shipped
    for path in shipped:
        assert module.resolve_policy_path(path.stem) == path
    # a file of that name where the user stands wins over the shipped one
    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / "agent.pt").write_bytes(b"")
    monkeypatch.setattr(module, "DEFAULT_POLICY", folder / "default.pt")
    monkeypatch.chdir(tmp_path)
    assert module.resolve_policy_path("agent") == folder / "agent.pt"
    (tmp_path / "agent").write_bytes(b"")
    assert module.resolve_policy_path("agent") == Path("agent")
    assert module.resolve_policy_path("no-such-policy") == Path("no-such-policy")
