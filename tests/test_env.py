"""The bridge to procgen: observations of edited mazes, rewards of moved cheese, and the
vectorized env that re-draws the cheese into the top-right region."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from behavstats.env import MazeVecEnv, levels_source
from behavstats.maze.codec import parse
from behavstats.maze.coords import OBS_SIZE, maze_to_pixel_center
from behavstats.maze.edits import (
    carve_top_right_corridor,
    move_cheese,
    move_mouse,
    remove_cheese,
    top_right_region,
)
from behavstats.maze.levels import get_state

ACTION = {"LEFT": 1, "DOWN": 3, "NOOP": 4, "UP": 5, "RIGHT": 7}
STEP = {"LEFT": (-1, 0), "DOWN": (0, -1), "UP": (0, 1), "RIGHT": (1, 0)}


def _cell_box(maze, cell) -> tuple[slice, slice]:
    """Pixel rows and columns that the cell's drawing may touch."""
    size = OBS_SIZE / maze.world_dim
    row, col = maze_to_pixel_center(*cell, maze.maze_dim, maze.world_dim)
    r0, c0 = int(row - size / 2), int(col - size / 2)
    return slice(r0, int(np.ceil(row + size / 2))), slice(c0, int(np.ceil(col + size / 2)))


@pytest.mark.parametrize("mode", ["hard", "easy"])
def test_observation_shows_the_edit(level_mazes, observer, mode):
    maze = next(m for m in level_mazes[mode] if m.maze_dim == 7)
    target = next(c for c in maze.free_cells() if c not in (maze.cheese, maze.mouse)
                  and abs(c[0] - maze.cheese[0]) + abs(c[1] - maze.cheese[1]) > 2)
    moved = move_cheese(maze, target)
    original, edited, carved = observer.observe([maze, moved, carve_top_right_corridor(maze)])
    changed = np.any(original != edited, axis=-1)
    near = np.zeros_like(changed)
    for cell in (maze.cheese, target):
        rows, cols = _cell_box(maze, cell)
        near[rows, cols] = True
        assert changed[rows, cols].any()  # cheese gone here, drawn there
    assert not changed[~near].any()  # and nothing else changed
    # the carved corridor replaces wall sprites up the right column and along the top
    corridor = np.any(original != carved, axis=-1)
    far = maze.world_dim - 1 - (maze.world_dim - maze.maze_dim) // 2
    rows, cols = _cell_box(maze, (far, far))  # the world's top-right cell
    assert rows.start == 0 and cols.stop >= OBS_SIZE
    assert corridor[rows, cols].any()
    assert not corridor[OBS_SIZE // 2 :, : OBS_SIZE // 2].any()  # bottom-left untouched


def test_observer_keeps_order_across_modes(level_mazes, observer):
    hard, easy = level_mazes["hard"], level_mazes["easy"]
    mixed = [hard[0], easy[0], hard[1], easy[1], hard[2]]
    together = observer.observe(mixed)
    apart = np.concatenate([observer.observe([m]) for m in mixed])
    np.testing.assert_array_equal(together, apart)
    assert not np.array_equal(together[0], together[2])
    assert together.dtype == np.uint8 and together.shape == (5, 64, 64, 3)


def _constant(maze):
    return lambda _slot: maze


@pytest.mark.parametrize("mode", ["hard", "easy"])
def test_stepping_into_a_moved_cheese_gives_ten(level_mazes, mode):
    mazes = [m for m in level_mazes[mode] if m.maze_dim >= 5][:6]
    checked = 0
    for maze in mazes:
        for move, (dx, dy) in STEP.items():
            cell = (maze.mouse[0] + dx, maze.mouse[1] + dy)
            if not maze.is_free(cell) or cell == maze.cheese:
                continue
            for edited, reward in ((move_cheese(maze, cell), 10.0),
                                   (remove_cheese(maze), 0.0)):
                env = MazeVecEnv(1, _constant(edited), mode=mode)
                got, _, first = env.step(np.array([ACTION[move]]))
                assert got[0] == reward and bool(first[0]) == (reward > 0)
                if reward == 0:
                    assert env.mouse_cells() == [cell]  # the mouse did walk there
            checked += 1
    assert checked >= 6


def test_moved_mouse_walks_into_the_cheese(level_mazes):
    maze = next(m for m in level_mazes["hard"] if m.maze_dim == 11)
    move, (dx, dy) = next((mv, d) for mv, d in STEP.items()
                          if maze.is_free((maze.cheese[0] - d[0], maze.cheese[1] - d[1])))
    env = MazeVecEnv(1, _constant(move_mouse(maze, (maze.cheese[0] - dx, maze.cheese[1] - dy))))
    assert env.mouse_cells() == [(maze.cheese[0] - dx, maze.cheese[1] - dy)]
    reward, _, first = env.step(np.array([ACTION[move]]))
    assert reward[0] == 10.0 and first[0]


def test_cheese_region_is_redrawn_after_every_reset(generators):
    """Random actions in small mazes until many episodes end: every new episode's
    cheese is in the top-right region, in the slot's maze and in procgen's own state."""
    seeds = [s for s, m in zip(range(400), generators["hard"].mazes(range(400)), strict=True)
             if m.maze_dim in (5, 7)][:12]
    n = 3
    env = MazeVecEnv(6, levels_source(seeds, "hard"), mode="hard", cheese_region=n, seed=3)
    rng = np.random.default_rng(0)
    episodes = wins = 0
    cheeses: dict[int, set] = {}

    def check(slot):
        maze = env.mazes[slot]
        assert maze.cheese in top_right_region(maze, n)
        actual = parse(get_state(env.env, slot))
        assert actual == maze  # grid, cheese and mouse as the slot says
        assert actual.mouse == maze.start
        cheeses.setdefault(maze.level, set()).add(maze.cheese)

    for slot in range(env.num):
        check(slot)
    for _ in range(3000):
        reward, _, first = env.step(rng.integers(0, 15, size=env.num))
        for slot in np.flatnonzero(first):
            episodes += 1
            wins += reward[slot] == 10
            check(int(slot))
        if episodes >= 40:
            break
    assert episodes >= 40 and wins >= 10  # the others hit the 500-step limit
    assert len(cheeses) >= 6
    assert any(len(c) > 1 for c in cheeses.values())  # re-drawn, not fixed per level


def test_cheese_region_draws_are_seeded(generators):
    seeds = list(range(20))

    def first_cheeses(seed):
        env = MazeVecEnv(4, levels_source(seeds, "easy"), mode="easy", cheese_region=5,
                         seed=seed)
        return [m.cheese for m in env.mazes]

    assert first_cheeses(1) == first_cheeses(1)
    assert any(first_cheeses(s) != first_cheeses(1) for s in (2, 3, 4))


def test_levels_source_cycles_past_a_batch():
    """More seeds than one generator batch, walked more than once around."""
    seeds = list(range(100, 170))
    source = levels_source(seeds, "easy")
    levels = [source(0).level for _ in range(160)]
    assert levels == list(itertools.islice(itertools.cycle(seeds), 160))


def test_vec_env_refuses_mazes_of_the_other_mode(level_mazes):
    with pytest.raises(ValueError, match="easy"):
        MazeVecEnv(1, _constant(level_mazes["easy"][0]), mode="hard")


def test_observe_states_refuses_unvalidated_bad_bytes():
    from behavstats.env import Observer
    from behavstats.maze import MazeStateError, serialize
    from behavstats.maze.levels import maze_for_level

    good = serialize(maze_for_level(0))
    with pytest.raises(MazeStateError):
        Observer().observe_states([bytes(good)[:-8]], "hard")
    assert Observer().observe_states([bytes(good)], "hard").shape == (1, 64, 64, 3)
