"""The one coordinate convention, checked against where procgen actually draws."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from behavstats.maze.coords import (
    OBS_SIZE,
    margin,
    maze_to_activation_cell,
    maze_to_pixel_center,
    maze_to_world,
    world_to_image_row,
    world_to_maze,
)
from behavstats.maze.edits import move_cheese, move_mouse, remove_cheese

MODES = ("hard", "easy")
WORLD = {"hard": 25, "easy": 15}
YELLOW = {(254, 231, 98), (253, 155, 37)}
CHEESE_COLOURS = YELLOW | {(181, 112, 82), (34, 32, 52)}
"""The colours of misc_assets/cheese.png as procgen draws it (no antialiasing): the
only colours seen in 600 cheese drawings."""


def test_pure_conversions():
    assert margin(25, 25) == 0 and margin(3, 25) == 11 and margin(15, 15) == 0
    assert margin(5, 15) == 5
    assert maze_to_world(0, 0, 3, 25) == (11, 11)
    assert maze_to_world(2, 2, 3, 25) == (13, 13)
    assert maze_to_world(-11, 13, 3, 25) == (0, 24)  # the world's top-left corner
    assert world_to_image_row(0, 25) == 24 and world_to_image_row(24, 25) == 0
    assert world_to_image_row(0, 15) == 14
    for dim, world in itertools.product((3, 7, 15), (15, 25)):
        for x, y in itertools.product(range(-2, dim + 2), repeat=2):
            assert world_to_maze(*maze_to_world(x, y, dim, world), dim, world) == (x, y)
    # hand-computed pixel centres
    assert maze_to_pixel_center(0, 0, 25, 25) == pytest.approx((62.72, 1.28))
    assert maze_to_pixel_center(24, 24, 25, 25) == pytest.approx((1.28, 62.72))
    assert maze_to_pixel_center(0, 0, 3, 25) == pytest.approx((13.5 * 2.56, 11.5 * 2.56))
    assert maze_to_pixel_center(14, 0, 15, 15) == pytest.approx((14.5 * 64 / 15,) * 2)


def test_activation_cells_of_corners_hand_computed():
    # (row, col) on a 16 x 16 map covering the 64 x 64 observation: activation i is
    # centred on pixel 4i (continuous 4i + 0.5), so row = round((pixel - 0.5) / 4)
    expected = {
        # hard, whole-world maze: corners of the map
        (0, 0, 25, 25): (15, 0), (24, 24, 25, 25): (0, 15),
        (24, 0, 25, 25): (15, 15), (0, 24, 25, 25): (0, 0),
        # easy, whole-world maze
        (0, 0, 15, 15): (15, 0), (14, 14, 15, 15): (0, 15),
        (14, 0, 15, 15): (15, 15), (0, 14, 15, 15): (0, 0),
        # a 3 x 3 maze in the hard world (margin 11): (0, 0) is world (11, 11), image
        # row 13, centre pixel (13.5 * 2.56, 11.5 * 2.56) = (34.56, 29.44) -> (9, 7);
        # (2, 2) is world (13, 13), image row 11: (29.44, 34.56) -> (7, 9)
        (0, 0, 3, 25): (9, 7), (2, 2, 3, 25): (7, 9),
        # a 5 x 5 maze in the easy world (margin 5, 4.267 px per cell): (0, 0) is world
        # (5, 5), image row 9: (40.53, 23.47) -> (10, 6); (4, 4): (23.47, 40.53) -> (6, 10)
        (0, 0, 5, 15): (10, 6), (4, 4, 5, 15): (6, 10),
    }
    for (x, y, dim, world), cell in expected.items():
        assert maze_to_activation_cell(x, y, dim, world, 16) == cell, (x, y, dim, world)
    # other map sizes scale the same way
    assert maze_to_activation_cell(24, 24, 25, 25, 64) == (1, 62)
    assert maze_to_activation_cell(24, 24, 25, 25, 8) == (0, 7)
    assert maze_to_activation_cell(0, 0, 25, 25, 1) == (0, 0)


def _drawn_box(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    changed = np.any(before != after, axis=-1)
    rows, cols = np.nonzero(changed)
    assert len(rows), "the edit did not change the picture"
    return rows, cols


@pytest.mark.parametrize("mode", MODES)
def test_cheese_is_drawn_where_the_coordinates_say(level_mazes, observer, mode):
    """Move the cheese to corner and random cells of mazes of several sizes; the pixels
    that change are yellow and lie in the box of the predicted cell, around its
    predicted centre, in the predicted 16 x 16 activation cell."""
    rng = np.random.default_rng(0)
    mazes = {m.maze_dim: m for m in level_mazes[mode]}
    picked = [mazes[d] for d in sorted(mazes)[:: max(1, len(mazes) // 4)]]
    picked.append(mazes[WORLD[mode]])  # the maze that fills the world
    cases = []
    for maze in picked:
        base = remove_cheese(maze)
        d = maze.maze_dim
        cells = [c for c in [(d - 1, d - 1), (d - 1, 0), (0, d - 1)] if maze.is_free(c)]
        free = [c for c in maze.free_cells() if c != maze.mouse]
        cells += [free[i] for i in rng.choice(len(free), size=3, replace=False)]
        cases += [(base, cell) for cell in cells]
    pictures = observer.observe([b for b, _ in cases] + [move_cheese(b, c) for b, c in cases])
    empty, filled = pictures[: len(cases)], pictures[len(cases):]
    for (base, (x, y)), before, after in zip(cases, empty, filled, strict=True):
        world = base.world_dim
        size = OBS_SIZE / world
        row, col = maze_to_pixel_center(x, y, base.maze_dim, world)
        rows, cols = _drawn_box(before, after)
        # inside the cell's pixel box (pixel i covers [i, i + 1))
        assert rows.min() >= math.floor(row - size / 2) and rows.max() < row + size / 2
        assert cols.min() >= math.floor(col - size / 2) and cols.max() < col + size / 2
        # centred on the predicted centre
        assert abs(rows.mean() + 0.5 - row) < size / 3
        assert abs(cols.mean() + 0.5 - col) < size / 3
        # every changed pixel is a texel of the cheese image, and some are yellow
        colours = {tuple(c) for c in after[rows, cols].tolist()}
        assert colours <= CHEESE_COLOURS
        assert colours & YELLOW
        # the predicted 16 x 16 activation cell is the one whose receptive-field centre
        # (pixel 4i + 0.5) is nearest to the drawn cheese
        r, c = maze_to_activation_cell(x, y, base.maze_dim, world, 16)
        assert abs(4 * r + 0.5 - (rows.mean() + 0.5)) <= 2 + size / 3
        assert abs(4 * c + 0.5 - (cols.mean() + 0.5)) <= 2 + size / 3


@pytest.mark.parametrize("mode", MODES)
def test_mouse_is_drawn_where_the_coordinates_say(level_mazes, observer, mode):
    maze = next(m for m in level_mazes[mode] if m.maze_dim == WORLD[mode] - 4)
    base = remove_cheese(maze)
    d = maze.maze_dim
    targets = [c for c in [(d - 1, d - 1), (d - 1, 0), (0, d - 1), (d // 2, d // 2)]
               if maze.is_free(c)]
    pictures = observer.observe([base] + [move_mouse(base, c) for c in targets])
    size = OBS_SIZE / maze.world_dim
    start_row, start_col = maze_to_pixel_center(0, 0, d, maze.world_dim)
    for (x, y), after in zip(targets, pictures[1:], strict=True):
        rows, cols = _drawn_box(pictures[0], after)
        row, col = maze_to_pixel_center(x, y, d, maze.world_dim)
        # the changed pixels are the old and the new mouse: split them by distance
        near_new = (np.abs(rows + 0.5 - row) < size) & (np.abs(cols + 0.5 - col) < size)
        near_old = ((np.abs(rows + 0.5 - start_row) < size)
                    & (np.abs(cols + 0.5 - start_col) < size))
        assert near_new.any() and near_old.any()
        assert (near_new | near_old).all()
        # the new mouse lies in the target cell's pixel box
        new_rows, new_cols = rows[near_new], cols[near_new]
        assert new_rows.min() >= math.floor(row - size / 2) and new_rows.max() < row + size / 2
        assert new_cols.min() >= math.floor(col - size / 2) and new_cols.max() < col + size / 2
