"""Vector fields equal a direct per-cell computation through the real env."""

import numpy as np
import pytest
import torch

from behavstats.env import observe
from behavstats.geometry import decision_square, shortest_path
from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.maze import MOVES
from behavstats.maze.edits import move_mouse
from behavstats.maze.levels import maze_for_level
from behavstats.policy import MOVE_NAMES, move_probs, preprocess
from behavstats.vfield import decision_probs, field_cells, vector_field, vector_fields


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(3)


@pytest.fixture(scope="module")
def maze():
    return maze_for_level(2)  # 13x13 with a decision square


def test_field_equals_per_cell_computation(policy, maze):
    field = vector_field(policy, maze)
    assert maze.cheese not in field.cells
    assert field.cells == field_cells(maze)
    sample = field.cells[:: max(1, len(field.cells) // 12)]
    for cell in sample:
        obs = observe([move_mouse(maze, cell)])
        with torch.no_grad():
            expected = move_probs(policy(preprocess(obs))[0])[0].numpy()
        np.testing.assert_allclose(field.at(cell), expected, atol=1e-5)
    frame = field.to_frame()
    assert list(frame.columns) == ["x", "y", "p_left", "p_down", "p_noop", "p_up", "p_right"]
    assert len(frame) == len(field.cells)
    np.testing.assert_allclose(frame[["p_left", "p_down", "p_noop", "p_up", "p_right"]].sum(axis=1),
                               1.0, atol=1e-5)


def test_batched_fields_of_many_mazes_match_single(policy, maze):
    other = maze_for_level(7, "easy")
    fields = vector_fields(policy, [maze, other], batch=37)
    np.testing.assert_allclose(fields[1].probs, vector_field(policy, other).probs, atol=1e-5)


def test_intervened_field_and_difference(policy, maze):
    vector = torch.randn(32, 16, 16, generator=torch.Generator().manual_seed(0))
    original = vector_field(policy, maze)
    patched = vector_field(policy, maze, [AddVector(VECTOR_LAYER, vector, coeff=3.0)])
    diff = patched - original
    np.testing.assert_allclose(diff.probs, patched.probs - original.probs)
    assert np.abs(diff.probs).max() > 1e-3
    per_maze = vector_fields(policy, [maze], lambda m: [AddVector(VECTOR_LAYER, vector, 3.0)])
    np.testing.assert_allclose(per_maze[0].probs, patched.probs, atol=1e-6)
    # the policy is unmodified afterwards
    np.testing.assert_allclose(vector_field(policy, maze).probs, original.probs, atol=1e-6)


def test_decision_probs_pick_the_moves_along_each_path(policy, maze):
    field = vector_field(policy, maze)
    dsq = decision_square(maze)
    probs = dict(zip(MOVE_NAMES, field.at(dsq), strict=True))
    step_cheese = shortest_path(maze, dsq, maze.cheese)[1]
    step_tr = shortest_path(maze, dsq, maze.top_right)[1]
    name = {v: k for k, v in MOVES.items()}
    expected_cheese = probs[name[(step_cheese[0] - dsq[0], step_cheese[1] - dsq[1])]]
    expected_tr = probs[name[(step_tr[0] - dsq[0], step_tr[1] - dsq[1])]]
    result = decision_probs(field)
    assert result["p_cheese"] == pytest.approx(expected_cheese)
    assert result["p_topright"] == pytest.approx(expected_tr)
    assert result["p_other"] == pytest.approx(1 - expected_cheese - expected_tr)
    assert decision_probs(vector_field(policy, maze_for_level(1))) is None  # no fork
