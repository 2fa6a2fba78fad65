"""Edits of mazes: cheese and mouse moves, the top-right region, the top-right corridor."""

from __future__ import annotations

from collections import Counter, deque

import numpy as np
import pytest

from behavstats.maze.edits import (
    carve_top_right_corridor,
    cheese_in_top_right_region,
    move_cheese,
    move_mouse,
    remove_cheese,
    toggle_walls,
    top_right_region,
)
from behavstats.maze.model import Maze, MazeStateError


def _reachable_world_cells(free: np.ndarray, start: tuple[int, int]) -> set[tuple[int, int]]:
    """World cells (wx, wy) reachable from `start`, by a breadth-first search written here."""
    h, w = free.shape
    seen = {start}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for nx_, ny_ in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx_ < w and 0 <= ny_ < h and free[ny_, nx_] and (nx_, ny_) not in seen:
                seen.add((nx_, ny_))
                queue.append((nx_, ny_))
    return seen


@pytest.fixture(scope="module")
def maze(level_mazes) -> Maze:
    return next(m for m in level_mazes["hard"] if m.maze_dim == 15)


def test_remove_and_move_cheese_and_mouse(maze):
    free = [c for c in maze.free_cells() if c not in (maze.cheese, maze.mouse)]
    removed = remove_cheese(maze)
    assert removed.cheese is None and maze.cheese is not None  # the original is unchanged
    assert (removed.cell_codes() == 2).sum() == 0
    moved = move_cheese(maze, free[0])
    assert moved.cheese == free[0] and moved.mouse == maze.mouse
    np.testing.assert_array_equal(moved.free, maze.free)
    assert moved.source_state == maze.source_state and moved.level == maze.level
    assert move_cheese(removed, free[1]).cheese == free[1]
    mouse = move_mouse(maze, free[2])
    assert mouse.mouse == free[2] and mouse.cheese == maze.cheese
    assert move_mouse(maze, np.array(free[3])).mouse == free[3]  # numpy cells accepted
    wall = next(c for c in [(x, y) for x in range(15) for y in range(15)]
                if not maze.is_free(c))
    for edit in (move_cheese, move_mouse):
        with pytest.raises(MazeStateError, match="wall or off the grid"):
            edit(maze, wall)
        with pytest.raises(MazeStateError, match="wall or off the grid"):
            edit(maze, (40, 0))
    with pytest.raises(ValueError):
        maze.free[0, 0] = True  # mazes are immutable


def test_top_right_region(maze, build_maze):
    d = maze.maze_dim
    for n in (0, 1, 3, 5, d, d + 10):
        k = max(1, min(n, d))
        expected = sorted((x, y) for x in range(d - k, d) for y in range(d - k, d)
                          if maze.free[y + 5, x + 5])  # margin 5 in the 25-cell world
        assert top_right_region(maze, n, exclude_mouse=False) == expected
    assert top_right_region(maze, 0) == [maze.top_right]
    whole = top_right_region(maze, d)
    assert maze.mouse not in whole and len(whole) == len(maze.free_cells()) - 1
    with pytest.raises(ValueError):
        top_right_region(maze, -1)
    # the mouse is left out unless it is the only free cell of the region
    tiny = build_maze("""
        ..M
        .##
        ...
    """)
    assert tiny.mouse == (2, 2)
    assert top_right_region(tiny, 1) == [(2, 2)]
    assert top_right_region(tiny, 2) == [(1, 2)]


def test_cheese_in_top_right_region_is_in_region_seeded_and_uniform(maze):
    n = 5
    region = top_right_region(maze, n)
    assert len(region) >= 8
    draws = [cheese_in_top_right_region(maze, n, rng=seed).cheese for seed in range(40)]
    assert set(draws) <= set(region)
    again = [cheese_in_top_right_region(maze, n, rng=seed).cheese for seed in range(40)]
    assert draws == again
    rng = np.random.default_rng(7)
    counts = Counter(cheese_in_top_right_region(maze, n, rng).cheese for _ in range(6000))
    assert set(counts) == set(region)
    expected = 6000 / len(region)
    chi2 = sum((counts[c] - expected) ** 2 / expected for c in region)
    # chi-square with len(region) - 1 <= 24 degrees of freedom: 60 is far in the tail
    assert chi2 < 60
    assert cheese_in_top_right_region(maze, 0).cheese == maze.top_right


@pytest.mark.parametrize("mode", ["hard", "easy"])
def test_carve_top_right_corridor(level_mazes, mode):
    world = {"hard": 25, "easy": 15}[mode]
    carved_any = False
    for maze in level_mazes[mode][:30]:
        carved = carve_top_right_corridor(maze)
        if maze.maze_dim == world:
            np.testing.assert_array_equal(carved.free, maze.free)  # nothing to carve
            assert carved == maze
            continue
        carved_any = True
        m = (world - maze.maze_dim) // 2
        wx = wy = m + maze.maze_dim - 1  # the maze's top-right cell, in world cells
        opened = carved.free & ~maze.free
        # exactly the corridor: up the column of the maze's top-right, then right
        expected = np.zeros_like(maze.free)
        expected[wy + 1 :, wx] = True
        expected[world - 1, wx:] = True
        np.testing.assert_array_equal(opened, expected)
        assert not (maze.free & ~carved.free).any()  # nothing closed
        reach = _reachable_world_cells(carved.free, (m, m))  # from the start
        assert (world - 1, world - 1) in reach
        assert (world - 1, world - 1) not in _reachable_world_cells(maze.free, (m, m))
        assert carved.is_free((world - 1 - m, world - 1 - m))
        assert (carved.cheese, carved.mouse, carved.maze_dim) == (maze.cheese, maze.mouse,
                                                                  maze.maze_dim)
    assert carved_any


def test_toggle_walls(build_maze):
    maze = build_maze("""
        ..C
        .#.
        M..
    """)
    opened = toggle_walls(maze, [(1, 1)])
    assert opened.is_free((1, 1)) and maze.free[1, 1] == np.False_
    closed = toggle_walls(opened, [(1, 1), (0, 1)])
    assert not closed.is_free((1, 1)) and not closed.is_free((0, 1))
    with pytest.raises(MazeStateError, match="cheese"):
        toggle_walls(maze, [(2, 2)])
    with pytest.raises(MazeStateError, match="outside"):
        toggle_walls(maze, [(5, 0)])
