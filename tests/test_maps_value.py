"""Value maps equal the value head of a direct forward pass, cell by cell, in each
condition of the experiment."""

import numpy as np
import pytest
import torch

from behavstats.env import observe
from behavstats.experiments import ValueMaps
from behavstats.geometry import distances
from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.interventions.vectors import cheese_vectors
from behavstats.maps.value import (
    FAMILY,
    ValueMapsResult,
    value_head,
    value_map,
    value_maps,
    write_value_map,
)
from behavstats.maze.edits import move_mouse, remove_cheese
from behavstats.maze.levels import maze_for_level
from behavstats.policy import Policy, preprocess
from behavstats.vfield import field_cells

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(3)


@pytest.fixture(scope="module")
def maze():
    return maze_for_level(2)  # 13 x 13 with a decision square


def direct_values(policy, maze, cells, *edits) -> np.ndarray:
    """`Policy.forward`'s value with the mouse on each cell: one env observation per
    cell, no engine."""
    obs = observe([move_mouse(maze, cell) for cell in cells])
    with torch.no_grad(), policy.hooks(*edits):
        return policy(preprocess(obs))[1].numpy()


def test_value_map_equals_the_value_of_a_direct_forward_pass(policy, maze):
    vmap = value_map(policy, maze)
    assert vmap.cells == field_cells(maze) and maze.cheese not in vmap.cells
    np.testing.assert_allclose(vmap.values, direct_values(policy, maze, vmap.cells),
                               atol=1e-5)
    assert np.ptp(vmap.values) > 1e-3  # a map, not a constant
    frame = vmap.to_frame()
    assert list(frame.columns) == ["x", "y", "value"] and len(frame) == len(vmap.cells)
    assert vmap.at(vmap.cells[5]) == pytest.approx(frame["value"][5])
    other = maze_for_level(7, "easy")
    both = value_maps(policy, [maze, other], batch=37)
    np.testing.assert_allclose(both[0].values, vmap.values, atol=1e-5)
    np.testing.assert_allclose(both[1].values, value_map(policy, other).values, atol=1e-5)


def test_value_maps_experiment_matches_direct_passes_in_every_condition(policy, tmp_path):
    result = ValueMaps(n_examples=1, n_boot=200).run(policy, [2, 5], tmp_path)
    cells = result.cells
    for level in (2, 5):
        maze = maze_for_level(level)
        mine = cells[cells["level"] == level]
        at = [tuple(c) for c in mine[mine["condition"] == "present"][["x", "y"]].to_numpy()]
        assert at == field_cells(maze)
        vector = cheese_vectors(policy, [maze])[0]
        expected = {"present": direct_values(policy, maze, at),
                    "absent": direct_values(policy, remove_cheese(maze), at),
                    "cheese_vector": direct_values(policy, maze, at,
                                                   AddVector(VECTOR_LAYER, vector, -1.0))}
        for condition, values in expected.items():
            found = mine[mine["condition"] == condition]["value"].to_numpy()
            np.testing.assert_allclose(found, values, atol=1e-5, err_msg=condition)
        to_cheese = distances(maze, maze.cheese)
        assert list(mine["steps_cheese"][:len(at)]) == [to_cheese[c] for c in at]
        row = result.levels.set_index("level").loc[level]
        assert row["value_absent"] == pytest.approx(expected["absent"].mean(), abs=1e-5)
    # the by-steps curve: per level means at a distance, then their mean over levels
    one = cells[(cells["condition"] == "present") & (cells["steps_cheese"] == 1)]
    curve = result.by_steps.set_index(["condition", "target", "steps"])
    assert curve.loc[("present", "cheese", 1), "n"] == 2
    assert curve.loc[("present", "cheese", 1), "estimate"] == pytest.approx(
        one.groupby("level")["value"].mean().mean())
    summary = result.summary()
    family = summary[summary["quantity"] == "significant_tests"]
    assert family["condition"].tolist() == [FAMILY] and family["n"].iloc[0] == 8
    changes = summary[summary["quantity"] == "value_change"]
    assert changes["p_value"].notna().all() and changes["q_value"].notna().all()
    assert {"value_by_steps.png", "value_level2.png", "cells.parquet"} <= {
        p.name for p in tmp_path.iterdir()}
    loaded = ValueMapsResult.load(tmp_path)
    assert loaded == result and loaded.settings == ValueMaps(n_examples=1, n_boot=200)
    assert result.params["value_head"] == "unknown"


def test_value_head_is_untrained_after_cloning_alone():
    assert value_head(Policy(1)) == "unknown"
    cloned = Policy(1, metadata={"training": {"method": "cloning", "cloning": {}}})
    assert value_head(cloned) == "untrained"
    warm = Policy(1, metadata={"training": {"method": "cloning", "warm_start": {
        "method": "cloning + ppo", "ppo": {}}}})
    assert value_head(warm) == "trained"


def test_write_value_map_writes_a_table_or_a_figure(policy, tmp_path):
    maze = maze_for_level(3)
    table = write_value_map(policy, maze, tmp_path / "map.parquet")
    import pandas as pd

    frame = pd.read_parquet(table)
    np.testing.assert_allclose(frame["value"], value_map(policy, maze).values, atol=1e-6)
    assert write_value_map(policy, maze, tmp_path / "map.png").stat().st_size > 10_000
