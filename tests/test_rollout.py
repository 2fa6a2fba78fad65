"""Episodes: reproducible, labelled from the reward, resumable shards, parallel."""

import dataclasses
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from behavstats.env import MazeVecEnv
from behavstats.maze import parse
from behavstats.maze.edits import move_cheese
from behavstats.maze.levels import get_state, maze_for_level
from behavstats.rollout import (
    GatherMismatchError,
    RolloutConfig,
    gather,
    level_episodes,
    next_cell,
    run_episodes,
)

LEVELS = list(range(12))
CONFIG = RolloutConfig(seed=5, num_envs=5, max_steps=40, record_path=True)


@pytest.fixture(scope="module")
def policy():
    from behavstats.policy import Policy

    torch.manual_seed(11)
    return Policy(1).eval()


@pytest.fixture(scope="module")
def episodes(policy):
    return level_episodes(policy, LEVELS, CONFIG)


def test_reproducible_and_independent_of_batching(policy, episodes):
    again = level_episodes(policy, LEVELS, dataclasses.replace(CONFIG, num_envs=3))
    pd.testing.assert_frame_equal(episodes, again)
    other_seed = level_episodes(policy, LEVELS, dataclasses.replace(CONFIG, seed=6))
    assert episodes["path"].astype(str).tolist() != other_seed["path"].astype(str).tolist()


def test_episode_table_columns_and_limits(episodes):
    for column in ("level", "steps", "reached_cheese", "reached_top_right", "reached_tr5",
                   "path", "has_dsq", "steps_cheese_dsq", "maze_dim"):
        assert column in episodes
    assert episodes["level"].tolist() == LEVELS
    assert (episodes["steps"] <= CONFIG.max_steps).all()
    assert (episodes["path"].map(len) == episodes["steps"] + 1).all()
    unfinished = episodes[~episodes["reached_cheese"]]
    assert (unfinished["steps"] == CONFIG.max_steps).all()


def test_mouse_path_rule_matches_procgen():
    maze = maze_for_level(4)
    env = MazeVecEnv(1, lambda _slot: maze)
    rng = np.random.default_rng(0)
    cell = maze.mouse
    for _ in range(60):
        action = int(rng.integers(15))
        _, _, first = env.step(np.array([action]))
        if first[0]:
            break
        cell = next_cell(maze, cell, action)
        assert parse(get_state(env.env, 0)).mouse == cell


def test_reached_cheese_comes_from_the_reward():
    from behavstats.policy import MOVE_GROUPS, Policy

    maze = maze_for_level(2)
    right = (maze.mouse[0] + 1, maze.mouse[1])
    assert maze.is_free(right)
    policy = Policy(1).eval()
    with torch.no_grad():  # a policy that always moves RIGHT
        policy.fc_policy.weight.zero_()
        policy.fc_policy.bias.fill_(-50.0)
        policy.fc_policy.bias[list(MOVE_GROUPS["RIGHT"])] = 50.0
    table = run_episodes(policy, [move_cheese(maze, right), maze],
                         RolloutConfig(max_steps=30, sample=False, num_envs=2))
    assert table["reached_cheese"].tolist() == [True, False]
    assert table["steps"].tolist() == [1, 30]


def test_gather_writes_shards_and_resumes(policy, episodes, tmp_path):
    out = tmp_path / "episodes"
    table = gather(policy, LEVELS, out, CONFIG, shard_size=5)
    assert sorted(p.name for p in out.glob("shard-*.parquet")) == [
        "shard-00000.parquet", "shard-00001.parquet", "shard-00002.parquet"]
    pd.testing.assert_frame_equal(table.drop(columns="path"), episodes.drop(columns="path"),
                                  check_dtype=False)
    # a lost shard is recomputed; the others are read back untouched
    (out / "shard-00001.parquet").unlink()
    kept = (out / "shard-00000.parquet").stat().st_mtime_ns
    again = gather(policy, LEVELS, out, CONFIG, shard_size=5)
    assert (out / "shard-00000.parquet").stat().st_mtime_ns == kept
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(GatherMismatchError, match="config"):
        gather(policy, LEVELS, out, dataclasses.replace(CONFIG, seed=1), shard_size=5)


def test_gather_in_parallel_matches_serial(policy, episodes, tmp_path):
    with ProcessPoolExecutor(2) as pool:
        table = gather(policy, LEVELS, tmp_path / "par", CONFIG, shard_size=4, executor=pool)
    pd.testing.assert_frame_equal(table.drop(columns="path"), episodes.drop(columns="path"),
                                  check_dtype=False)


def test_gather_on_a_dask_cluster(policy, episodes, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        table = gather(policy, LEVELS[:4], tmp_path / "dask", CONFIG, shard_size=2,
                       executor=client.get_executor())
    pd.testing.assert_frame_equal(table.drop(columns="path"),
                                  episodes.iloc[:4].drop(columns="path"), check_dtype=False)
