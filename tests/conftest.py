"""Shared fixtures: procgen envs are expensive to warm up (the first one in a process
loads every asset), so generators and observers are built once per session. Policies
with seeded random weights (`make_policy`), mazes by level (`mazes_by_level`) and the
one-thread setting of modules that run many small forward batches (`one_thread`) are
written here once, and so are the direct batch-of-one computations the batched
experiments are checked against (`probs_at`, `towards`), and the explorer's engine and
API client (`engine`, `client`)."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

from behavstats.maze.model import Maze

MODES = ("hard", "easy")


def pytest_configure(config):
    """Under pytest-xdist (the suite runs `-n auto`), each worker gets its share of the
    cores as torch threads: two workers with two threads each on 2 cores spin-wait on
    each other."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers:
        import torch

        from behavstats.cli.options import usable_cores

        torch.set_num_threads(max(1, usable_cores() // workers))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Groups for `--dist loadgroup`: a module's tests run in one worker, so its module
    fixtures are built once, and every test of the session's quick study
    (`quick_study`) in one worker, so the study runs once. First, because xdist reads
    the groups in its own hook of this name."""
    for item in items:
        group = "quick_study" if "quick_study" in item.fixturenames else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))


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


@pytest.fixture(scope="module")
def one_thread():
    """Small forward batches on a shared 2-core machine: one torch thread avoids the
    spin-wait of a second (restored after the module). A module opts in with
    `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_policy(seed: int):
    """A scale-1 Policy with random weights drawn after `torch.manual_seed(seed)`, in
    eval mode."""
    import torch

    from behavstats.policy import Policy

    torch.manual_seed(seed)
    return Policy(1).eval()


@pytest.fixture(scope="session")
def make_policy():
    """`random_policy`, as a fixture."""
    return random_policy


def level_mazes_by_seed(levels, mode: str = "hard", batch: int = 4) -> dict[int, Maze]:
    """{level: Maze} of procgen level seeds, from a new LevelGenerator of `batch` envs."""
    from behavstats.maze.levels import LevelGenerator

    return {m.level: m for m in LevelGenerator(mode, batch=batch).mazes(levels)}


@pytest.fixture(scope="session")
def mazes_by_level():
    """`level_mazes_by_seed`, as a fixture."""
    return level_mazes_by_seed


def mouse_probs(observer, policy, maze: Maze, cell, *interventions) -> np.ndarray:
    """Move probabilities (5,) with the mouse on `cell`, under `interventions`: one env
    observation, a batch of one."""
    import torch

    from behavstats.maze.edits import move_mouse
    from behavstats.policy import move_probs, preprocess

    obs = observer.observe([move_mouse(maze, cell)])
    with torch.no_grad(), policy.hooks(*interventions):
        return move_probs(policy(preprocess(obs))[0])[0].numpy()


@pytest.fixture(scope="session")
def probs_at(observer):
    """`mouse_probs` with the session's observer: probs_at(policy, maze, cell, *edits)."""
    return functools.partial(mouse_probs, observer)


def first_move_index(maze: Maze, cell, target) -> int:
    """Index into MOVE_NAMES of the first move of the shortest path cell -> target."""
    from behavstats.geometry import first_moves

    return first_moves(maze, target)[tuple(cell)]


@pytest.fixture(scope="session")
def towards():
    """`first_move_index`, as a fixture."""
    return first_move_index


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory):
    """One `behavstats study --quick` of the default policy per session (about a
    minute), its parts side by side in two worker processes, shared by the study and
    report tests: (folder, the command's output)."""
    from typer.testing import CliRunner

    from behavstats.cli import app

    out = tmp_path_factory.mktemp("study")
    first = CliRunner().invoke(app, ["study", "--quick", "--workers", "2", "--out", str(out)])
    assert first.exit_code == 0, first.output
    return out, first.output


@pytest.fixture(scope="module")
def engine():
    """The explorer's engine on the shipped default policy (one per module: its caches
    start empty)."""
    from behavstats.explore.engine import Engine
    from behavstats.policy import load_policy

    return Engine(load_policy("default"), name="default")


@pytest.fixture(scope="module")
def client(engine):
    """FastAPI's TestClient of the explorer's app on `engine`."""
    from fastapi.testclient import TestClient

    from behavstats.explore.app import create_app

    return TestClient(create_app(engine))
