"""LevelGenerator against fresh procgen envs, and the shape of procgen's mazes."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from behavstats.levelspec import MAX_SEED
from behavstats.maze.codec import parse, parse_state
from behavstats.maze.levels import (
    LevelGenerator,
    check_mode,
    make_env,
    maze_for_level,
)

MODES = ("hard", "easy")
WORLD = {"hard": 25, "easy": 15}
SEEDS = [0, 1, 17, 123, 4567, 99_999, 1_234_567, MAX_SEED]


@pytest.mark.parametrize("mode", MODES)
def test_generator_matches_fresh_envs(generators, observer, mode):
    """Same grid, cheese, mouse, background (and so the same picture) as a fresh
    ProcgenGym3Env(start_level=s, num_levels=1)."""
    generated = list(generators[mode].mazes(SEEDS))
    pictures = observer.observe(generated)
    for seed, maze, picture in zip(SEEDS, generated, pictures, strict=True):
        env = make_env(1, mode, start_level=seed, num_levels=1)
        fresh_state = env.callmethod("get_state")[0]
        fresh = parse(fresh_state)
        assert parse_state(fresh_state).fields["current_level_seed"] == seed
        np.testing.assert_array_equal(maze.free, fresh.free)
        assert (maze.maze_dim, maze.cheese, maze.mouse) == (fresh.maze_dim, fresh.cheese,
                                                             fresh.mouse)
        assert maze.background_index == fresh.background_index
        assert maze.level == seed and maze.mode == mode
        np.testing.assert_array_equal(picture, env.observe()[1]["rgb"][0])


def test_generator_keeps_order_across_batches(generators):
    seeds = [5, 3, 5, 70, *range(100, 140), 3, 0]  # repeats, a partial last batch
    together = list(generators["hard"].mazes(seeds))
    assert [m.level for m in together] == seeds
    for i in (0, 3, 4, 30, len(seeds) - 3, len(seeds) - 1):
        assert together[i] == next(generators["hard"].mazes([seeds[i]]))
    assert together[0] == together[2] and together[1] == together[-2]
    assert maze_for_level(70) == together[3]
    assert maze_for_level(3, "easy") == next(generators["easy"].mazes([3]))
    assert list(generators["hard"].mazes([])) == []


def test_bad_seeds_and_modes_are_refused(generators):
    for seed in (-1, MAX_SEED + 1):
        with pytest.raises(ValueError, match="level seeds"):
            list(generators["hard"].states([seed]))
    with pytest.raises(ValueError, match="mode"):
        check_mode("medium")
    with pytest.raises(ValueError, match="mode"):
        LevelGenerator("extreme")


def _components_and_edges(free: np.ndarray) -> tuple[int, int, int]:
    """Free cells, 4-neighbour edges and connected components, counted from scratch."""
    h, w = free.shape
    cells = {(r, c) for r in range(h) for c in range(w) if free[r, c]}
    edges = sum((r + 1, c) in cells for r, c in cells) + sum((r, c + 1) in cells
                                                               for r, c in cells)
    seen: set = set()
    components = 0
    for cell in cells:
        if cell in seen:
            continue
        components += 1
        queue = deque([cell])
        seen.add(cell)
        while queue:
            r, c = queue.popleft()
            for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nxt in cells and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    return len(cells), edges, components


@pytest.mark.parametrize("mode", MODES)
def test_procgen_mazes_are_centred_trees(level_mazes, mode):
    """The facts the features rely on: odd sizes 3..world (all of them seen), centred
    with an all-wall margin, mouse at the start, cheese elsewhere, top-right free, and
    every maze a tree (so shortest paths are unique)."""
    world = WORLD[mode]
    sizes = set()
    for maze in level_mazes[mode]:
        d = maze.maze_dim
        sizes.add(d)
        assert maze.world_dim == world and d % 2 == 1
        m = (world - d) // 2
        inside = np.zeros_like(maze.free)
        inside[m : m + d, m : m + d] = True
        assert not maze.free[~inside].any()
        assert maze.mouse == maze.start == (0, 0)
        assert maze.cheese != maze.start and maze.is_free(maze.cheese)
        assert min(maze.cheese) >= 0 and max(maze.cheese) < d
        assert maze.is_free(maze.top_right)
        n, edges, components = _components_and_edges(maze.free)
        assert components == 1 and edges == n - 1
    assert sizes == set(range(3, world + 1, 2))


def test_closing_an_env_never_waits_for_cffis_binding_lock():
    """The garbage collector may free an env while another env is being built, inside
    the lock under which cffi makes bindings (one lock for every env of the library):
    closing must then not need that lock, or the process hangs."""
    import threading

    env = make_env(1, "hard")
    closed = threading.Event()
    with env._ffi._lock:  # as while another env's bindings are being made
        closer = threading.Thread(target=lambda: (env.close(), closed.set()), daemon=True)
        closer.start()
        assert closed.wait(timeout=20), "close() waited for cffi's lock"
    closer.join()
