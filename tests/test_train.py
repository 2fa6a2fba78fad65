"""Training: tiny runs complete, resume exactly, and write loadable policies."""

import dataclasses

import pandas as pd
import pytest
import torch

from behavstats.policy import load_policy
from behavstats.train.cloning import CloningConfig, train_cloning
from behavstats.train.ppo import PPOConfig, train_ppo
from behavstats.train.run import load_config_file, train

TINY_PPO = PPOConfig(num_envs=4, num_steps=8, num_minibatches=2, total_steps=4 * 8 * 3,
                     checkpoint_every=1, bf16=False)
TINY_CLONING = CloningConfig(chunks=2, chunk_mazes=3, validation_mazes=2, batch=16, passes=1,
                             bf16=False)


def _same_weights(a, b) -> bool:
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_ppo_resume_matches_uninterrupted_run(tmp_path):
    straight = train_ppo(TINY_PPO, tmp_path / "straight", progress=False)
    train_ppo(TINY_PPO, tmp_path / "resumed", progress=False, stop_after_updates=1)
    assert not (tmp_path / "resumed" / "policy.pt").exists()
    resumed = train_ppo(TINY_PPO, tmp_path / "resumed", progress=False)
    assert _same_weights(straight, resumed)
    logs = [pd.read_csv(tmp_path / run / "ppo_log.csv").drop(columns="seconds")
            for run in ("straight", "resumed")]
    pd.testing.assert_frame_equal(*logs)
    assert len(logs[0]) == 3
    # a different seed trains differently
    other = train_ppo(dataclasses.replace(TINY_PPO, seed=1), tmp_path / "other", progress=False)
    assert not _same_weights(straight, other)


def test_cloning_resume_matches_uninterrupted_run(tmp_path):
    straight = train_cloning(TINY_CLONING, tmp_path / "straight", progress=False)
    train_cloning(TINY_CLONING, tmp_path / "resumed", progress=False, stop_after_chunks=1)
    assert not (tmp_path / "resumed" / "policy.pt").exists()
    resumed = train_cloning(TINY_CLONING, tmp_path / "resumed", progress=False)
    assert _same_weights(straight, resumed)


def test_warm_started_run_writes_a_published_layout_policy(tmp_path):
    policy = train(tmp_path / "run", TINY_PPO, TINY_CLONING, progress=False)
    path = tmp_path / "run" / "policy.pt"
    payload = torch.load(path, weights_only=True)
    assert set(payload) >= {"model_state_dict", "behavstats"}
    assert "embedder.block2.res1.conv1.weight" in payload["model_state_dict"]
    loaded = load_policy(path)
    assert _same_weights(loaded, policy)
    training = loaded.metadata["training"]
    assert training["method"] == "cloning + ppo"
    assert training["ppo"]["region"] == 5 and "cloning" in training
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 1000


def test_cloning_continues_from_an_init_policy_without_ppo(tmp_path):
    """A second cloning stage starts from the first one's weights (with a zero learning
    rate it keeps them exactly), records it as its warm start, and a PPO budget of 0
    makes its policy the run's policy."""
    from behavstats.evaluation import evaluate
    from behavstats.train.card import model_card

    first = train(tmp_path / "first", dataclasses.replace(TINY_PPO, total_steps=0),
                  TINY_CLONING, progress=False)
    assert _same_weights(load_policy(tmp_path / "first" / "policy.pt"), first)
    assert not (tmp_path / "first" / "ppo").exists()
    assert (tmp_path / "first" / "learning_curve.png").stat().st_size > 1000  # cloning curve
    frozen = dataclasses.replace(TINY_CLONING, init_policy=str(tmp_path / "first" / "policy.pt"),
                                 first_seed=2_000_000, lr=0.0, chunks=1, region=1)
    second = train(tmp_path / "second", dataclasses.replace(TINY_PPO, total_steps=0), frozen,
                   progress=False)
    assert _same_weights(first, second)
    training = load_policy(tmp_path / "second" / "policy.pt").metadata["training"]
    assert training["method"] == "cloning" and training["cloning"]["first_seed"] == 2_000_000
    assert training["warm_start"] == first.metadata["training"]
    # the second stage moved the cheese into the top-right 1x1: evaluation and card
    # take the policy's own training region
    evaluation = evaluate(second, [0, 1], max_steps=5)
    assert evaluation.params["region"] == 1
    card = model_card(second, evaluation, name="stage 2")
    assert "top-right 1 x 1 region at every reset" in card
    assert "training (cheese in top-right 1x1)" in card
    assert "Cloning stage 1 (from random weights)" in card
    assert "Cloning stage 2 (from the previous stage's weights)" in card


def test_config_file_rejects_unknown_settings(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"ppo": {"lr": 0.001}, "cloning": {"chunks": 3}}')
    assert load_config_file(path) == ({"lr": 0.001}, {"chunks": 3})
    path.write_text('{"ppo": {"learning_rate": 0.001}}')
    with pytest.raises(ValueError, match="unknown ppo settings.*learning_rate"):
        load_config_file(path)


def test_resuming_with_other_settings_is_refused(tmp_path):
    from behavstats.policy import CheckpointError

    train_ppo(TINY_PPO, tmp_path / "run", progress=False, stop_after_updates=1)
    with pytest.raises(CheckpointError, match="other settings.*lr"):
        train_ppo(dataclasses.replace(TINY_PPO, lr=1e-3), tmp_path / "run", progress=False)


def test_a_new_step_budget_resumes_and_stops_there(tmp_path):
    """Shortening a run's budget finishes it at the new budget, with the weights of the
    uninterrupted shorter run; with an annealed learning rate the budget is a setting."""
    from behavstats.policy import CheckpointError

    short = dataclasses.replace(TINY_PPO, total_steps=4 * 8 * 2)
    straight = train_ppo(short, tmp_path / "short", progress=False)
    train_ppo(TINY_PPO, tmp_path / "cut", progress=False, stop_after_updates=2)
    assert not (tmp_path / "cut" / "policy.pt").exists()
    cut = train_ppo(short, tmp_path / "cut", progress=False)
    assert (tmp_path / "cut" / "policy.pt").exists()
    assert _same_weights(straight, cut)
    annealed = dataclasses.replace(TINY_PPO, anneal_lr=True)
    train_ppo(annealed, tmp_path / "annealed", progress=False, stop_after_updates=1)
    with pytest.raises(CheckpointError, match="other settings.*total_steps"):
        train_ppo(dataclasses.replace(annealed, total_steps=4 * 8 * 2), tmp_path / "annealed",
                  progress=False)


def test_log_rows_of_redone_work_are_dropped_on_resume(tmp_path):
    from behavstats.train.checkpoint import append_log, truncate_log

    path = tmp_path / "log.csv"
    for update in range(1, 6):
        append_log(path, {"update": update, "loss": 0.5})
    truncate_log(path, "update", 3)  # checkpoint was at update 3: 4 and 5 get redone
    assert pd.read_csv(path)["update"].tolist() == [1, 2, 3]


def test_value_warmup_trains_only_the_value_head(tmp_path):
    config = dataclasses.replace(TINY_PPO, total_steps=4 * 8, value_warmup_updates=1)
    torch.manual_seed(config.seed)
    from behavstats.policy import Policy

    initial = Policy(config.scale).state_dict()
    trained = train_ppo(config, tmp_path / "warm", progress=False).state_dict()
    for name, tensor in initial.items():
        changed = not torch.equal(tensor, trained[name])
        assert changed == name.startswith("fc_value."), name
