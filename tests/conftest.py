"""Shared fixtures: procgen envs are expensive to warm up (the first one in a process
loads every asset), so generators and observers are built once per session."""

from __future__ import annotations

import numpy as np
import pytest

from behavstats.maze.model import Maze

MODES = ("hard", "easy")


@pytest.fixture(scope="session")
def generators():
    """One LevelGenerator per mode."""
    from behavstats.maze.levels import LevelGenerator

    return {mode: LevelGenerator(mode, batch=32) for mode in MODES}


@pytest.fixture(scope="session")
def observer():
    from behavstats.env import Observer

    return Observer(batch=16)


@pytest.fixture(scope="session")
def level_states(generators):
    """Start-of-episode state bytes of levels 0..199 of each mode."""
    return {mode: list(generators[mode].states(range(200))) for mode in MODES}


@pytest.fixture(scope="session")
def level_mazes(level_states):
    """The Mazes of `level_states`."""
    from behavstats.maze.codec import parse

    return {mode: [parse(s, level=i, mode=mode) for i, s in enumerate(states)]
            for mode, states in level_states.items()}


def ascii_maze(picture: str, *, maze_dim: int | None = None, mode: str = "hard") -> Maze:
    """A hand-built Maze from a picture of the whole world, top row first.

    '#' wall, '.' free, 'C' cheese (free), 'M' mouse (free; default the start cell).
    The maze proper is the centred maze_dim x maze_dim square (default: the whole
    world), so the start cell (0, 0) is its bottom-left corner.
    """
    rows = [r.strip() for r in picture.strip().splitlines()]
    world = len(rows)
    assert all(len(r) == world for r in rows), "picture must be square"
    maze_dim = world if maze_dim is None else maze_dim
    margin = (world - maze_dim) // 2
    free = np.zeros((world, world), dtype=bool)
    cheese = None
    mouse = (0, 0)
    for top_row, line in enumerate(rows):
        wy = world - 1 - top_row
        for wx, char in enumerate(line):
            free[wy, wx] = char != "#"
            if char == "C":
                cheese = (wx - margin, wy - margin)
            elif char == "M":
                mouse = (wx - margin, wy - margin)
    return Maze(free=free, maze_dim=maze_dim, cheese=cheese, mouse=mouse, mode=mode)


@pytest.fixture(scope="session")
def build_maze():
    """`ascii_maze`, as a fixture."""
    return ascii_maze
