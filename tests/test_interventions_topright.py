"""The top-right-vector experiment against direct batch-1 computations."""

import copy

import numpy as np
import pytest
import torch

from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.interventions import run_top_right_vector
from behavstats.interventions.vectors import cheese_vectors, top_right_vectors
from behavstats.vfield import vector_field

LEVELS = [6, 17, 26]  # 9x9 and 7x7 with a decision square; 25x25 (no corridor)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(2)


@pytest.fixture(scope="module")
def mazes(mazes_by_level):
    return mazes_by_level(LEVELS)


@pytest.fixture(scope="module")
def run(policy, mazes):
    pristine = copy.deepcopy(policy)
    result = run_top_right_vector(policy, [mazes[x] for x in LEVELS], coeffs=(-1.0, 2.0),
                                  n_examples=0, n_boot=200)
    return result, pristine


def test_the_world_filling_maze_is_flagged_and_skipped(run):
    result, _ = run
    levels = result.levels.set_index("level")
    assert levels.loc[17, "corridor_empty"] and not levels.loc[17, "used"]
    assert levels.loc[6, "used"] and levels.loc[26, "used"]
    assert set(result.decision["level"]) == {6, 26}
    assert result.params["n_corridor_empty"] == 1


def test_sweep_and_composition_match_direct_computations(run, policy, mazes, probs_at, towards):
    from behavstats.geometry import decision_square

    result, _ = run
    maze = mazes[26]
    dsq = decision_square(maze)
    top, cheese = towards(maze, dsq, maze.top_right), towards(maze, dsq, maze.cheese)
    tr = top_right_vectors(policy, [maze])[0]
    cv = cheese_vectors(policy, [maze])[0]
    row = result.decision.query("level == 26 and coeff == 2.0").iloc[0]
    p = probs_at(policy, maze, dsq, AddVector(VECTOR_LAYER, tr, coeff=2.0))
    assert row["p_topright_patched"] == pytest.approx(p[top], abs=1e-5)
    assert row["p_cheese_patched"] == pytest.approx(p[cheese], abs=1e-5)
    comp = result.composition.query("level == 26").set_index("condition")
    none = probs_at(policy, maze, dsq)
    both = probs_at(policy, maze, dsq, AddVector(VECTOR_LAYER, cv, coeff=-1.0),
                    AddVector(VECTOR_LAYER, tr, coeff=1.0))
    assert comp.loc["none", "p_topright"] == pytest.approx(none[top], abs=1e-5)
    assert comp.loc["both", "p_topright"] == pytest.approx(both[top], abs=1e-5)
    assert comp.loc["both", "p_cheese"] == pytest.approx(both[cheese], abs=1e-5)


def test_field_metrics_match_whole_fields(run, policy, mazes, observer):
    from behavstats.geometry import first_moves

    result, _ = run
    maze = mazes[6]
    tr = top_right_vectors(policy, [maze])[0]
    original = vector_field(policy, maze, observer=observer)
    patched = vector_field(policy, maze, [AddVector(VECTOR_LAYER, tr, coeff=-1.0)],
                           observer=observer)
    towards = first_moves(maze, maze.top_right)
    moves = np.array([towards.get(c, -1) for c in original.cells])
    ok = moves >= 0
    row = result.fields.query("level == 6 and coeff == -1.0").iloc[0]
    assert ok.sum() == len(original.cells) - 1  # all but the top-right cell itself
    assert row["toward_tr_patched"] == pytest.approx(
        patched.probs[np.flatnonzero(ok), moves[ok]].mean(), abs=1e-6)
    assert row["tv"] == pytest.approx(
        0.5 * np.abs(patched.probs - original.probs).sum(axis=1).mean(), abs=1e-6)


def test_transfer_and_summary(run):
    result, _ = run
    assert len(result.transfer) == 2
    summary = result.summary()
    composition = summary[summary["condition"].str.startswith("composition: ")]
    assert set(composition["condition"].str.removeprefix("composition: ")) == {
        "none", "cheese", "top_right", "both"}
    changes = summary[summary["quantity"] == "p_topright_change"]["condition"]
    assert [c for c in changes if c.startswith("top-right vector")] == [
        "top-right vector x -1", "top-right vector x 2"]
    assert result.params["coeffs"] == [-1.0, 2.0]


def test_policy_is_left_unmodified(run, policy):
    _, pristine = run
    assert all(not m._forward_hooks for m in policy.modules())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(policy(x)[0], pristine(x)[0], rtol=0, atol=0)
