"""Episodes: reproducible, labelled from the reward, resumable shards, parallel."""

import dataclasses
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from behavstats.episodes import load_episodes
from behavstats.errors import UserError
from behavstats.maze import MouseStates, parse, parse_state, serialize
from behavstats.maze.edits import cheese_in_top_right_region, move_cheese
from behavstats.maze.levels import LevelGenerator, get_state, make_env, maze_for_level, set_state
from behavstats.policy import inference, preprocess
from behavstats.rollout import (
    ACTION_MOVE,
    CHEESE_REWARD,
    GatherMismatchError,
    RolloutConfig,
    gather,
    level_episodes,
    run_episodes,
)
from behavstats.seeding import Purpose, stream

LEVELS = list(range(12))
CONFIG = RolloutConfig(seed=5, parallel_episodes=5, max_steps=40, record_path=True)


@pytest.fixture(scope="module")
def policy():
    from behavstats.policy import Policy

    torch.manual_seed(11)
    return Policy(1).eval()


@pytest.fixture(scope="module")
def episodes(policy):
    return level_episodes(policy, LEVELS, CONFIG)


def test_reproducible_and_independent_of_batching(policy, episodes):
    again = level_episodes(policy, LEVELS,
                           dataclasses.replace(CONFIG, parallel_episodes=3, batch=2))
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


def _mouse_and_facing(env) -> tuple[tuple[int, int], bool]:
    state = get_state(env, 0)
    return parse(state).mouse, bool(parse_state(state).fields["entities"][0]["is_reflected"])


def test_move_rule_and_observations_match_procgen():
    """Maze.step gives the env's cell and sprite facing after every action (blocked
    moves and NOOPs included), and rendering (cell, facing) gives the env's picture."""
    rng = np.random.default_rng(0)
    env = make_env(1, "hard")
    for maze in LevelGenerator("hard").mazes([4, 9, 30]):
        set_state(env, 0, serialize(maze))
        states = MouseStates(maze)
        cell, facing = maze.mouse, maze.reflected
        for _ in range(150):
            assert _mouse_and_facing(env) == (cell, facing)
            np.testing.assert_array_equal(env.observe()[1]["rgb"][0],
                                          observe_state(states.at(cell, facing)))
            action = int(rng.integers(15))
            env.act(np.array([action], dtype=np.int32))
            if env.observe()[2][0]:
                break
            cell, facing = maze.step(cell, facing, ACTION_MOVE[action])


def observe_state(state: bytes) -> np.ndarray:
    env = make_env(1, "hard")
    set_state(env, 0, state)
    return env.observe()[1]["rgb"][0]


def env_episode(policy, maze, seed: int, max_steps: int) -> dict:
    """Reference: one episode stepping a real procgen env, batch 1, same action stream."""
    env = make_env(1, maze.mode)
    set_state(env, 0, serialize(maze))
    rng = stream(seed, Purpose.ACTIONS, maze.level)
    path, reached = [maze.mouse], False
    with inference(policy):
        while len(path) <= max_steps:
            logits = policy(preprocess(env.observe()[1]["rgb"]))[0][0].numpy()
            action = int(np.argmax(logits + rng.gumbel(size=15)))
            env.act(np.array([action], dtype=np.int32))
            reward, _, first = env.observe()
            if first[0]:
                reached = reward[0] >= CHEESE_REWARD
                path.append(maze.cheese if reached else path[-1])
                break
            path.append(_mouse_and_facing(env)[0])
    return {"steps": len(path) - 1, "reached_cheese": reached, "path": path}


def test_episodes_equal_stepping_the_real_env():
    """A policy that reaches the cheese often enough: biased towards RIGHT and UP, on
    mazes whose cheese is in the top-right corner region."""
    from behavstats.policy import MOVE_GROUPS, Policy

    torch.manual_seed(3)
    policy = Policy(1).eval()
    with torch.no_grad():
        policy.fc_policy.bias[list(MOVE_GROUPS["RIGHT"]) + list(MOVE_GROUPS["UP"])] += 1.5
    mazes = [cheese_in_top_right_region(m, 3, np.random.default_rng(m.level))
             for m in LevelGenerator("hard").mazes(range(20, 32))]
    config = RolloutConfig(seed=7, max_steps=60, record_path=True, parallel_episodes=4)
    table = run_episodes(policy, mazes, config)
    reference = [env_episode(policy, m, 7, 60) for m in mazes]
    assert table["steps"].tolist() == [r["steps"] for r in reference]
    assert table["reached_cheese"].tolist() == [r["reached_cheese"] for r in reference]
    assert table["path"].tolist() == [[list(c) for c in r["path"]] for r in reference]
    assert 0 < table["reached_cheese"].sum() < len(mazes)


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
                         RolloutConfig(max_steps=30, sample=False))
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


def test_load_episodes_reads_every_folder_gather_and_study_write(policy, tmp_path):
    """One loader for a gather folder, a study's episodes part and a parquet file; a
    folder an interrupted gather left, or no episodes at all, is a UserError saying what
    to do."""
    out = tmp_path / "study" / "episodes" / "shards"
    table = gather(policy, LEVELS[:6], out, CONFIG, shard_size=4)
    pd.testing.assert_frame_equal(load_episodes(out), table)
    table.to_parquet(out.parent / "episodes.parquet")
    for path in (tmp_path / "study", out.parent, out.parent / "episodes.parquet"):
        pd.testing.assert_frame_equal(load_episodes(path), table)
    (out / "shard-00001.parquet").unlink()
    with pytest.raises(UserError, match="incomplete: 1 of 2 shards.*gather"):
        load_episodes(out)
    (tmp_path / "text.parquet").write_text("not a table")
    for path, message in ((tmp_path / "text.parquet", "not a parquet table"),
                          (tmp_path / "none", "does not exist"), (tmp_path, "holds no episodes")):
        with pytest.raises(UserError, match=message):
            load_episodes(path)


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
