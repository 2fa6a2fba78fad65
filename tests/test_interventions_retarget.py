"""Retargeting: the per-sample clamp and path probabilities against the real env with
batch-1 forwards through `hooks.SetCell`; the experiment's five conditions, its success
against a direct per-cell computation, and its tables."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from behavstats import incremental
from behavstats.env import render
from behavstats.geometry import move_between, shortest_path
from behavstats.hooks import VECTOR_LAYER, SetCell
from behavstats.interventions import RetargetResult, run_retarget
from behavstats.interventions.retarget import conditions, default_channel_sets
from behavstats.interventions.walk import ObservationTable, path_probability
from behavstats.maze import parse, serialize
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.edits import move_cheese, remove_cheese
from behavstats.maze.levels import get_state, make_env, set_state
from behavstats.policy import MOVE_ACTION, MOVE_NAMES, move_probs, preprocess

CHANNELS, VALUE = [1, 2], 3.0


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(4)


@pytest.fixture(scope="module")
def mazes(mazes_by_level):
    return {level: remove_cheese(m) for level, m in mazes_by_level([3, 6]).items()}


@pytest.fixture(scope="module")
def table(mazes, observer):
    return ObservationTable(mazes[6], observer)


def test_clamp_sets_each_samples_own_cell():
    activation = torch.randn(3, 4, 5, 5)
    rows, cols = torch.tensor([0, 2, 4]), torch.tensor([1, 1, 0])
    clamp = SetCell("x", [1, 3], rows, cols, torch.tensor([7.0, 8.0]))
    out = clamp(activation)
    for r in range(3):
        assert out[r, 1, rows[r], cols[r]] == 7.0 and out[r, 3, rows[r], cols[r]] == 8.0
    changed = (out != activation).nonzero().tolist()
    assert sorted(changed) == sorted([[r, c, int(rows[r]), int(cols[r])] for r in range(3)
                                      for c in (1, 3)])
    filled = SetCell("x", [1, 3], rows, cols, torch.tensor([7.0, 8.0]), fill=-0.2)(activation)
    assert (filled[0, 1] == -0.2).sum() == 24 and filled[0, 1, 0, 1] == 7.0
    torch.testing.assert_close(filled[:, [0, 2]], activation[:, [0, 2]])


def _targets_sharing_a_cell(maze):
    """Two target squares with the same activation cell but different paths."""
    by_cell = {}
    for cell in maze.free_cells():
        if cell != maze.start:
            key = maze_to_activation_cell(*cell, maze.maze_dim, maze.world_dim, 16)
            by_cell.setdefault(key, []).append(cell)
    pair = next(cells[:2] for cells in by_cell.values() if len(cells) >= 2)
    return pair, maze_to_activation_cell(*pair[0], maze.maze_dim, maze.world_dim, 16)


def test_path_probability_matches_walking_the_real_env(policy, mazes, table, observer):
    maze = mazes[6]
    targets, (row, col) = _targets_sharing_a_cell(maze)
    paths = [shortest_path(maze, maze.start, t) for t in targets]
    n = len(targets)
    clamp = SetCell(VECTOR_LAYER, CHANNELS, torch.full((n,), row), torch.full((n,), col),
                    torch.full((len(CHANNELS),), VALUE))
    got = path_probability(policy, table, paths,
                           lambda idx: [SetCell(VECTOR_LAYER, CHANNELS, clamp.row[idx],
                                                clamp.col[idx], clamp.value)])
    env = make_env(1, "hard")
    for path, value in zip(paths, got, strict=True):
        set_state(env, 0, serialize(maze))
        logs = []
        for cell, nxt in zip(path[:-1], path[1:], strict=True):
            obs = env.observe()[1]["rgb"]
            move = move_between(cell, nxt)
            facing = bool(parse_state_facing(get_state(env, 0)))
            # the table holds exactly what the env shows (cell and sprite facing)
            np.testing.assert_array_equal(obs[0], table.frames.obs[table.row(cell, facing)])
            with torch.no_grad(), policy.hooks(SetCell(VECTOR_LAYER, CHANNELS, row, col, VALUE)):
                p = move_probs(policy(preprocess(obs))[0])[0]
            logs.append(float(torch.log(p[move])))
            env.act(np.array([MOVE_ACTION[MOVE_NAMES[move]]], dtype=np.int32))
        assert parse(get_state(env, 0)).mouse == path[-1]
        assert value == pytest.approx(np.exp(np.mean(logs)), rel=1e-5)
    # same activation cell, different paths: computed apart, not shared
    assert got[0] != got[1]
    # continuing from activations cached at the layer gives the same
    cached = ObservationTable(maze, observer, policy=policy, layer=VECTOR_LAYER)
    again = path_probability(policy, cached, paths,
                             lambda idx: [SetCell(VECTOR_LAYER, CHANNELS, clamp.row[idx],
                                                  clamp.col[idx], clamp.value)])
    np.testing.assert_allclose(again, got, rtol=1e-5)


def parse_state_facing(state: bytes) -> int:
    from behavstats.maze import parse_state

    return parse_state(state).fields["entities"][0]["is_reflected"]


def _direct_p_path(policy, maze, path, edits=()):
    """Geometric mean of P(move along the path), one batch-1 forward per cell."""
    logs, facing = [], maze.reflected
    for cell, nxt in zip(path[:-1], path[1:], strict=True):
        move = move_between(cell, nxt)
        obs = render([(maze, cell)], reflected=[facing])
        with torch.no_grad(), policy.hooks(*edits):
            p = move_probs(policy(preprocess(obs))[0])[0]
        logs.append(float(torch.log(p[move])))
        _, facing = maze.step(cell, facing, MOVE_NAMES[move])
    return float(np.exp(np.mean(logs))) if logs else 1.0


def test_default_channel_sets_give_the_five_conditions():
    table = pd.DataFrame({"channel": [4, 7, 9, 2], "rank": [1, 2, 3, 4],
                          "score": [0.9, 0.6, 0.35, 0.1]})
    sets = default_channel_sets(table, min_score=0.3)
    assert sets == {"top1": [4], "tracked": [4, 7], "score >= 0.3": [4, 7, 9]}
    assert conditions(sets) == ["no edit", "cheese", "top1", "tracked", "score >= 0.3"]


@pytest.mark.parametrize("min_scale", [incremental.MIN_SCALE, 1],
                         ids=["plain passes", "incremental passes"])
def test_run_retarget_table_and_outputs(policy, mazes, tmp_path, monkeypatch, min_scale):
    monkeypatch.setattr(incremental, "MIN_SCALE", min_scale)
    pristine = copy.deepcopy(policy)
    maze = mazes[3]
    result = run_retarget(policy, [maze], tmp_path, channel_sets={"one": [1], "two": [1, 2]},
                          value=VALUE, max_targets=None, n_boot=100)
    targets = result.targets
    names = ["no edit", "cheese", "one", "two"]
    assert result.params["conditions"] == names
    n_targets = len(maze.free_cells()) - 1
    assert len(targets) == len(names) * n_targets and set(targets["condition"]) == set(names)
    assert targets["p_path"].between(0, 1).all()
    on_path = set(shortest_path(maze, maze.start, maze.top_right))
    for row in targets.itertuples():
        assert (row.dist_to_tr_path == 0) == ((row.x, row.y) in on_path)
        assert (row.act_row, row.act_col) == maze_to_activation_cell(
            row.x, row.y, maze.maze_dim, maze.world_dim, 16)
    # success is the geometric mean over the path's cells, each computed on its own
    by = targets.set_index(["condition", "x", "y"]).sort_index()["p_path"]
    for target in [(r.x, r.y) for r in targets.head(n_targets).itertuples()][::7]:
        path = shortest_path(maze, maze.start, target)
        row, col = maze_to_activation_cell(*target, maze.maze_dim, maze.world_dim, 16)
        assert by[("no edit", *target)] == pytest.approx(_direct_p_path(policy, maze, path),
                                                      rel=1e-4)
        clamp = SetCell(VECTOR_LAYER, [1, 2], row, col, VALUE)
        assert by[("two", *target)] == pytest.approx(
            _direct_p_path(policy, maze, path, [clamp]), rel=1e-4)
        # the real-cheese condition is the unedited policy with the cheese moved there
        moved = move_cheese(maze, target)
        assert by[("cheese", *target)] == pytest.approx(
            path_probability(policy, ObservationTable(moved), [path])[0], rel=1e-4)
        assert by[("cheese", *target)] == pytest.approx(_direct_p_path(policy, moved, path),
                                                     rel=1e-4)
    for table, column in ((result.by_distance, "distance_bin"), (result.by_size, "size_bin")):
        assert set(table["condition"]) == set(names)
        base = table[table["condition"] == "no edit"]
        np.testing.assert_allclose(base["ratio"], 1.0)
        assert table.groupby("condition")["n_targets"].sum().eq(n_targets).all()
        assert column in table
    for name in ("targets.parquet", "by_distance.parquet", "by_size.parquet",
                 "clamps.parquet", "params.json", "summary.parquet", "heatmap_p_path.png",
                 "success_by_distance.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert RetargetResult.load(tmp_path) == result
    assert result.channel_sets == {"one": [1], "two": [1, 2]}
    summary = result.summary()
    assert {"p_path", "p_path_ratio", "p_path_difference"} <= set(summary["quantity"])
    assert all(not m._forward_hooks for m in policy.modules())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(policy(x)[0], pristine(x)[0], rtol=0, atol=0)


def test_max_targets_draws_a_reproducible_sample(policy, mazes):
    def run():
        return run_retarget(policy, [mazes[6]], channel_sets={"one": [1]}, value=VALUE,
                            max_targets=3, n_boot=10).targets
    first = run()
    assert len(first) == 3 * 3 and first.groupby("condition").size().eq(3).all()
    pd.testing.assert_frame_equal(first, run())
