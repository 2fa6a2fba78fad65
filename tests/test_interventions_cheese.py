"""The cheese-vector experiment against a direct batch-1 computation through the hooks
API and the env, and its outputs."""

import copy

import numpy as np
import pytest
import torch

from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.interventions import CheeseVectorResult, NoUsableLevelsError, run_cheese_vector
from behavstats.interventions.cheese import DECISION_COLUMNS
from behavstats.interventions.effects import tv_distance
from behavstats.interventions.vectors import cheese_vectors, random_like
from behavstats.maze.edits import remove_cheese
from behavstats.seeding import Purpose, stream
from behavstats.vfield import decision_probs, vector_field

LEVELS = [3, 6, 26, 1]  # 5x5, 9x9, 7x7 with a decision square; 3x3 without


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(1)


@pytest.fixture(scope="module")
def mazes(mazes_by_level):
    return mazes_by_level(LEVELS)


@pytest.fixture(scope="module")
def run(policy, mazes, tmp_path_factory):
    pristine = copy.deepcopy(policy)
    out = tmp_path_factory.mktemp("cheese")
    result = run_cheese_vector(policy, [mazes[level] for level in LEVELS], out,
                               coeffs=(-1.0, 2.0), n_examples=1, n_boot=200)
    return result, out, pristine


def test_decision_table_matches_a_direct_computation(run, policy, mazes, observer, probs_at,
                                                     towards):
    result, _, _ = run
    decision = result.decision
    assert tuple(decision.columns) == DECISION_COLUMNS
    assert sorted(decision["level"].unique()) == [3, 6, 26]  # level 1 has no dsq
    assert len(decision) == 3 * 2
    vectors = dict(zip([3, 6, 26], cheese_vectors(policy, [mazes[x] for x in (3, 6, 26)]),
                       strict=True))
    for row in decision.itertuples():
        maze = mazes[row.level]
        dsq = (int(result.levels.set_index("level").loc[row.level, "dsq_x"]),
               int(result.levels.set_index("level").loc[row.level, "dsq_y"]))
        cheese, top = towards(maze, dsq, maze.cheese), towards(maze, dsq, maze.top_right)
        original = probs_at(policy, maze, dsq)
        patched = probs_at(policy, maze, dsq,
                           AddVector(VECTOR_LAYER, vectors[row.level], coeff=row.coeff))
        assert row.p_cheese_original == pytest.approx(original[cheese], abs=1e-5)
        assert row.p_topright_original == pytest.approx(original[top], abs=1e-5)
        assert row.p_cheese_patched == pytest.approx(patched[cheese], abs=1e-5)
        assert row.p_topright_patched == pytest.approx(patched[top], abs=1e-5)
        assert row.p_cheese_patched != row.p_cheese_original
    # the other engineers' field code gives the same originals
    field = vector_field(policy, mazes[6], observer=observer)
    first = decision[decision["level"] == 6].iloc[0]
    assert decision_probs(field)["p_cheese"] == pytest.approx(first["p_cheese_original"],
                                                              abs=1e-5)


def test_random_control_uses_the_seeded_sign_flipped_vector(run, policy, mazes, probs_at, towards):
    result, _, _ = run
    row = result.controls.query("level == 26 and coeff == -1.0").iloc[0]
    maze = mazes[26]
    vector = random_like(cheese_vectors(policy, [maze])[0], stream(0, Purpose.RANDOM_VECTOR, 26))
    dsq = tuple(int(v) for v in result.levels.set_index("level").loc[26, ["dsq_x", "dsq_y"]])
    p = probs_at(policy, maze, dsq, AddVector(VECTOR_LAYER, vector, coeff=-1.0))
    assert row["p_cheese_random"] == pytest.approx(p[towards(maze, dsq, maze.cheese)],
                                                   abs=1e-5)


def test_cheese_absent_comparison_matches_whole_fields(run, policy, mazes, observer, towards):
    result, _, _ = run
    row = result.absent.set_index("level").loc[6]
    maze = mazes[6]
    vector = cheese_vectors(policy, [maze])[0]
    original = vector_field(policy, maze, observer=observer)
    patched = vector_field(policy, maze, [AddVector(VECTOR_LAYER, vector, coeff=-1.0)],
                           observer=observer)
    absent = vector_field(policy, remove_cheese(maze), observer=observer)
    absent_probs = np.array([absent.at(c) for c in original.cells])
    assert row["n_cells"] == len(original.cells)
    assert row["tv_patched_original"] == pytest.approx(
        tv_distance(patched.probs, original.probs).mean(), abs=1e-6)
    assert row["tv_original_absent"] == pytest.approx(
        tv_distance(original.probs, absent_probs).mean(), abs=1e-6)
    dsq = tuple(int(v) for v in result.levels.set_index("level").loc[6, ["dsq_x", "dsq_y"]])
    assert row["p_cheese_absent"] == pytest.approx(
        absent.at(dsq)[towards(maze, dsq, maze.cheese)], abs=1e-5)


def test_transfer_applies_one_mazes_vector_in_another(run, policy, mazes, probs_at, towards):
    result, _, _ = run
    transfer = result.transfer
    assert len(transfer) == 3 * 2 and not (transfer["level_a"] == transfer["level_b"]).any()
    row = transfer.query("level_a == 3 and level_b == 6").iloc[0]
    a, b = mazes[3], mazes[6]
    (ax, ay), (bx, by) = a.world_cell(a.cheese), b.world_cell(b.cheese)
    assert row["cheese_distance"] == max(abs(ax - bx), abs(ay - by))
    assert row["near"] == (row["cheese_distance"] <= 2)
    dsq = tuple(int(v) for v in result.levels.set_index("level").loc[6, ["dsq_x", "dsq_y"]])
    vector = cheese_vectors(policy, [a])[0]
    p = probs_at(policy, b, dsq, AddVector(VECTOR_LAYER, vector, coeff=-1.0))
    assert row["p_cheese_patched"] == pytest.approx(p[towards(b, dsq, b.cheese)], abs=1e-5)


def test_outputs_are_written(run):
    result, out, _ = run
    for name in ("decision.parquet", "controls.parquet", "absent.parquet", "transfer.parquet",
                 "levels.parquet", "params.json", "summary.parquet", "p_cheese_histograms.png",
                 "change_by_coeff.png", "transfer.png", "field_level3.png"):
        assert (out / name).stat().st_size > 0, name
    saved = CheeseVectorResult.load(out)
    assert saved == result and saved.params["coeffs"] == [-1.0, 2.0]
    summary = saved.summary().set_index(["quantity", "condition"])
    for coeff in ("-1", "2"):
        row = summary.loc[("p_cheese_change", f"cheese vector x {coeff}")]
        assert row["n"] == 3
        # the mean change's own sign-flip test: 3 levels, 8 sign vectors, p >= 2/8
        assert row["p_value"] in (0.25, 0.5, 0.75, 1.0) and np.isnan(row["q_value"])
    assert saved.params["n_used"] == 3
    assert summary.loc[("p_cheese_median_after", "cheese vector x -1"), "published"] == 0.03
    assert result.levels.set_index("level").loc[1, "has_dsq"] == False  # noqa: E712


def test_policy_is_left_unmodified(run, policy):
    _, _, pristine = run
    assert all(not m._forward_hooks for m in policy.modules())
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(policy(x)[0], pristine(x)[0], rtol=0, atol=0)


def test_levels_without_a_decision_square_are_refused(policy, mazes):
    with pytest.raises(NoUsableLevelsError, match="decision square"):
        run_cheese_vector(policy, [mazes[1]])
