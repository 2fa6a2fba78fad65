"""Integrated gradients on the planted network (`_planted`): complete within the
tolerance, exactly zero on every input the network ignores, more steps for a tighter
tolerance; the decision quantities equal the engine's probabilities."""

import numpy as np
import pandas as pd
import pytest
import torch
from _planted import CHANNEL, LAYER, planted_policy

from behavstats.engine import probs
from behavstats.env import observe, render
from behavstats.experiments import Attribution
from behavstats.geometry import decision_point
from behavstats.maps.attribution import (
    COLUMNS,
    AttributionResult,
    DecisionFunction,
    TargetError,
    integrated_gradients,
    near_cheese_cells,
    near_cheese_pixels,
)
from behavstats.maze.coords import maze_to_pixel_center, pixel_to_maze
from behavstats.maze.edits import open_maze, remove_cheese
from behavstats.maze.levels import maze_for_level
from behavstats.policy import preprocess

pytestmark = pytest.mark.usefixtures("one_thread")
LEVELS = [3, 7]
"""Easy-mode levels with a decision square whose cheese moves the planted policy."""


@pytest.fixture(scope="module")
def planted():
    return planted_policy()


@pytest.fixture(scope="module")
def blank_run(planted, tmp_path_factory):
    """P(cheese) against the blank maze, both spaces, written to a folder."""
    out = tmp_path_factory.mktemp("attribution")
    settings = Attribution(mode="easy", targets=("p_cheese",), baselines=("blank",),
                           layer=LAYER, n_examples=1, n_boot=200)
    return settings.run(planted, LEVELS, out), out


def test_attributions_are_complete_within_the_tolerance(planted):
    settings = Attribution(mode="easy", targets=("logit_diff",),
                           baselines=("cheese_removed",), layer=LAYER, n_examples=0)
    table = settings.run(planted, LEVELS).attribution
    assert list(table.columns) == list(COLUMNS)
    for prefix in ("", "layer_"):
        gap = table[f"{prefix}completeness_gap"]
        allowed = np.maximum(settings.tolerance * table["output_difference"].abs(),
                             settings.abs_tolerance)
        assert (gap.abs() <= allowed).all() and table[f"{prefix}converged"].all()
        np.testing.assert_allclose(table[f"{prefix}attribution_sum"] - table["output_difference"],
                                   gap, atol=1e-3)
    assert (table["output_difference"].abs() > 1).all()  # the cheese moves the logits


def test_inputs_the_planted_network_ignores_get_exactly_zero(blank_run):
    result, _ = blank_run
    channels = result.channels
    assert (channels.loc[channels["channel"] != CHANNEL, "attribution"] == 0).all()
    assert (channels.loc[channels["channel"] == CHANNEL, "attribution"].abs() > 0.05).all()
    for level in LEVELS:
        maze = maze_for_level(level, "easy")
        pixels = result.pixels[result.pixels["level"] == level]
        near = near_cheese_pixels(maze)
        # only the cheese detector's pixels have a gradient: nothing away from the cheese
        assert len(pixels) > 0 and near[pixels["row"], pixels["col"]].all()
        cells = result.cells[(result.cells["level"] == level) & (result.cells["attribution"] != 0)]
        assert len(cells) > 0 and near_cheese_cells(maze, 16)[cells["row"], cells["col"]].all()
    np.testing.assert_allclose(result.attribution[["cheese_share", "layer_cheese_share"]], 1.0,
                               rtol=1e-6)


def test_a_tighter_tolerance_takes_more_steps_and_closes_the_gap(planted):
    maze = maze_for_level(LEVELS[0], "easy")
    point = decision_point(maze)
    x = preprocess(render([(maze, point.cell)]))
    base = preprocess(render([(remove_cheese(maze), point.cell)]))
    moves = ([point.to_cheese], [point.to_top_right])
    loose = integrated_gradients(planted, x, base, "p_cheese", *moves, tolerance=0.5,
                                 abs_tolerance=0.5)
    tight = integrated_gradients(planted, x, base, "p_cheese", *moves, tolerance=1e-3,
                                 abs_tolerance=1e-6, max_n_steps=256)
    assert tight.steps[0] > loose.steps[0] >= 32
    assert abs(tight.gap[0]) < abs(loose.gap[0])
    np.testing.assert_allclose(tight.sums, tight.output_difference + tight.gap, atol=1e-5)
    # the weights' gradient flags are restored
    assert all(p.requires_grad for p in planted.parameters())


def test_decision_quantities_are_the_engines_probabilities(make_policy):
    policy = make_policy(5)
    mazes = [maze_for_level(level) for level in (0, 2, 5)]
    points = [decision_point(m) for m in mazes]
    obs = render([(m, p.cell) for m, p in zip(mazes, points, strict=True)])
    moves = [torch.tensor([getattr(p, k) for p in points]) for k in ("to_cheese", "to_top_right")]
    expected = probs(policy, obs)
    rows = np.arange(len(mazes))
    with torch.no_grad():
        p_cheese = DecisionFunction(policy, "p_cheese")(preprocess(obs), *moves).numpy()
        diff = DecisionFunction(policy, "logit_diff")(preprocess(obs), *moves).numpy()
    np.testing.assert_allclose(p_cheese, expected[rows, moves[0]], rtol=1e-5)
    np.testing.assert_allclose(diff, np.log(expected[rows, moves[0]])
                               - np.log(expected[rows, moves[1]]), atol=1e-4)
    with pytest.raises(TargetError, match="choose from"):
        Attribution(targets=("p_mouse",)).run(policy, [0])


def test_result_round_trip_and_files(blank_run):
    result, out = blank_run
    assert AttributionResult.load(out) == result
    assert result.settings.baselines == ("blank",)
    table = pd.read_csv(out / "attribution.csv")
    assert list(table.columns) == list(COLUMNS) and len(table) == len(LEVELS)
    assert {"completeness.png", "channels.png", f"attribution_level{LEVELS[0]}.png"} <= {
        p.name for p in out.iterdir()}
    example = result.examples[0]  # drawn with the mouse where it was observed
    assert example.maze.mouse == decision_point(maze_for_level(example.level, "easy")).cell
    effects = result.channel_effects
    assert effects.loc[effects["channel"] != CHANNEL, "p_value"].isna().all()  # all zero


def test_blank_maze_and_pixel_cells():
    maze = maze_for_level(5)
    blank = open_maze(maze)
    inside = [(x, y) for x in range(maze.maze_dim) for y in range(maze.maze_dim)]
    assert blank.cheese is None and all(blank.is_free(c) for c in inside)
    assert not blank.is_free((-1, 0)) and (blank.free.sum() == maze.maze_dim ** 2)
    picture, level = observe([blank, maze])
    rows, cols = np.nonzero((picture != level).any(axis=-1))
    assert len(rows) > 100  # the walls are gone; the margin, background and mouse are not:
    differ = {pixel_to_maze(r, c, maze.maze_dim, maze.world_dim)
              for r, c in zip(rows, cols, strict=True)}
    assert all(0 <= x < maze.maze_dim and 0 <= y < maze.maze_dim for x, y in differ)
    for cell in [(0, 0), maze.top_right, maze.cheese, (-2, 3)]:
        row, col = maze_to_pixel_center(*cell, maze.maze_dim, maze.world_dim)
        assert pixel_to_maze(int(row), int(col), maze.maze_dim, maze.world_dim) == cell
