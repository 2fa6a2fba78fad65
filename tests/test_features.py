"""Decision square and distance features against hand-computed values and independent
brute-force computations (simple-path enumeration, breadth-first search written here)."""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from behavstats.features import (
    COLUMNS,
    PUBLISHED_FEATURES,
    features_table,
    level_features,
    maze_features,
)
from behavstats.geometry import decision_square, shortest_path
from behavstats.maze.edits import move_cheese, remove_cheese
from behavstats.maze.model import Maze, MazeStateError

# ----------------------------------------------------------- brute force (independent)


def free_cells(maze: Maze) -> set[tuple[int, int]]:
    """Maze-frame free cells, read straight off the bool grid."""
    m = (maze.world_dim - maze.maze_dim) // 2
    return {(wx - m, wy - m) for wy in range(maze.world_dim) for wx in range(maze.world_dim)
            if maze.free[wy, wx]}


def adjacent(cell):
    x, y = cell
    return [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]


def all_simple_paths(cells, a, b):
    """Every simple path from a to b, by exhaustive depth-first search."""
    out, path = [], [a]

    def walk(here):
        if here == b:
            out.append(list(path))
            return
        for nxt in adjacent(here):
            if nxt in cells and nxt not in path:
                path.append(nxt)
                walk(nxt)
                path.pop()

    walk(a)
    return out


def bfs_steps(cells, source):
    dist = {source: 0}
    queue = deque([source])
    while queue:
        here = queue.popleft()
        for nxt in adjacent(here):
            if nxt in cells and nxt not in dist:
                dist[nxt] = dist[here] + 1
                queue.append(nxt)
    return dist


def bfs_path(cells, a, b):
    """One shortest path (for trees: the only simple path)."""
    parent = {a: None}
    queue = deque([a])
    while queue:
        here = queue.popleft()
        for nxt in adjacent(here):
            if nxt in cells and nxt not in parent:
                parent[nxt] = here
                queue.append(nxt)
    path = [b]
    while path[-1] != a:
        path.append(parent[path[-1]])
    return path[::-1]


def brute_force_row(maze: Maze, *, enumerate_paths: bool) -> dict:
    """All features of a tree maze, computed without behavstats."""
    cells = free_cells(maze)
    d = maze.maze_dim
    start, cheese, tr = (0, 0), maze.cheese, (d - 1, d - 1)
    if enumerate_paths:
        (to_cheese,) = all_simple_paths(cells, start, cheese)  # a tree: exactly one
        (to_tr,) = all_simple_paths(cells, start, tr)
    else:
        to_cheese, to_tr = bfs_path(cells, start, cheese), bfs_path(cells, start, tr)
    if cheese in to_tr or tr in to_cheese:
        dsq = None
    else:
        common = [a for a, b in zip(to_cheese, to_tr, strict=False) if a == b]
        assert to_cheese[: len(common)] == common  # the paths part once, for good
        dsq = common[-1]
    low = d - min(5, d)
    region = [(x, y) for x in range(low, d) for y in range(low, d) if (x, y) in cells]
    points = {"cheese": cheese, "tr": tr, "dsq": dsq}
    row = {"has_dsq": dsq is not None, "dsq": dsq, "cheese_in_tr5": cheese in region}
    for a_name, b_name in (("cheese", "dsq"), ("cheese", "tr"), ("dsq", "tr")):
        a, b = points[a_name], points[b_name]
        pair = f"{a_name}_{b_name}"
        if a is None or b is None:
            row.update({f"euc_{pair}": np.nan, f"taxi_{pair}": np.nan, f"steps_{pair}": np.nan})
            continue
        row[f"euc_{pair}"] = math.hypot(a[0] - b[0], a[1] - b[1])
        row[f"taxi_{pair}"] = abs(a[0] - b[0]) + abs(a[1] - b[1])
        row[f"steps_{pair}"] = bfs_steps(cells, a)[b]
    for name in ("cheese", "dsq"):
        a, pair = points[name], f"{name}_tr5"
        if a is None:
            row.update({f"euc_{pair}": np.nan, f"taxi_{pair}": np.nan, f"steps_{pair}": np.nan})
            continue
        dist = bfs_steps(cells, a)
        row[f"euc_{pair}"] = min(math.hypot(a[0] - x, a[1] - y) for x, y in region)
        row[f"taxi_{pair}"] = min(abs(a[0] - x) + abs(a[1] - y) for x, y in region)
        row[f"steps_{pair}"] = min(dist[c] for c in region)
    m = (maze.world_dim - d) // 2
    row["cheese_norm"] = math.hypot(cheese[0] + m, cheese[1] + m)
    return row


def assert_row_matches(row: dict, expected: dict):
    assert row["has_dsq"] == expected["has_dsq"]
    assert row["cheese_in_tr5"] == expected["cheese_in_tr5"]
    if expected["dsq"] is None:
        assert np.isnan(row["dsq_x"]) and np.isnan(row["dsq_y"])
    else:
        assert (row["dsq_x"], row["dsq_y"]) == expected["dsq"]
    for name in PUBLISHED_FEATURES:
        if np.isnan(expected[name]):
            assert np.isnan(row[name]), name
        else:
            assert row[name] == pytest.approx(expected[name], abs=1e-12), name


# ----------------------------------------------------------- hand-built mazes

# A 7 x 7 tree maze in a 9 x 9 world. Paths from the start (0, 0): up the left column
# to (0, 6), then right to the top-right (6, 6): 12 steps. To the cheese (5, 1): up to
# (0, 3), right to (3, 3), down to (3, 1), right: 3 + 3 + 2 + 2 = 10 steps. They part
# at (0, 3): the decision square.
FORK = """
    #########
    #.......#
    #.###.###
    #.###.###
    #....####
    #.##.####
    #.##..C##
    #.#######
    #########
"""
# Every column by hand. tr5 = free cells with x, y >= 2: (2..6, 6), (4, 5), (4, 4),
# (2, 3), (3, 3), (3, 2). The cheese's nearest tr5 cell is (3, 2) (euclid sqrt 5, taxi
# 3, three steps via (4, 1), (3, 1)); the decision square's is (2, 3) (2 / 2 / 2).
# cheese_norm: the cheese's world cell is (6, 2).
FORK_EXPECTED = {
    "has_dsq": True, "dsq": (0, 3), "cheese_in_tr5": False,
    "euc_cheese_dsq": math.sqrt(29), "euc_cheese_tr": math.sqrt(26),
    "euc_dsq_tr": math.sqrt(45), "euc_cheese_tr5": math.sqrt(5), "euc_dsq_tr5": 2.0,
    "taxi_cheese_dsq": 7, "taxi_cheese_tr": 6, "taxi_dsq_tr": 9, "taxi_cheese_tr5": 3,
    "taxi_dsq_tr5": 2,
    "steps_cheese_dsq": 7, "steps_cheese_tr": 16, "steps_dsq_tr": 9, "steps_cheese_tr5": 3,
    "steps_dsq_tr5": 2,
    "cheese_norm": math.sqrt(40),
}

# No fork 1: the top-right cell lies on the path to the cheese (up, right, down).
TR_ON_PATH = """
    .....
    .###.
    .###.
    .###C
    .####
"""
# No fork 2: the cheese lies on the path to the top-right cell.
CHEESE_ON_PATH = """
    ..C..
    .####
    .####
    .####
    .####
"""
# The cheese is the top-right cell.
CHEESE_AT_TR = """
    ....C
    .###.
    .#...
    .###.
    ...#.
"""
# The paths part at the start itself: cheese to the right, top-right up.
FORK_AT_START = """
    #######
    #.....#
    #.#####
    #.#####
    #.#####
    #..C..#
    #######
"""
NAN = float("nan")
NO_DSQ = {"has_dsq": False, "dsq": None, "euc_cheese_dsq": NAN, "taxi_cheese_dsq": NAN,
          "steps_cheese_dsq": NAN, "euc_dsq_tr": NAN, "taxi_dsq_tr": NAN, "steps_dsq_tr": NAN,
          "euc_dsq_tr5": NAN, "taxi_dsq_tr5": NAN, "steps_dsq_tr5": NAN}
# By hand; tr5 is the whole 5 x 5 maze, so every cheese is in it (all tr5 distances 0).
EDGE_CASES = {
    "tr on the path to the cheese": (TR_ON_PATH, {
        **NO_DSQ, "cheese_in_tr5": True, "euc_cheese_tr": 3.0, "taxi_cheese_tr": 3,
        "steps_cheese_tr": 3, "euc_cheese_tr5": 0.0, "taxi_cheese_tr5": 0,
        "steps_cheese_tr5": 0, "cheese_norm": math.sqrt(17)}),
    "cheese on the path to tr": (CHEESE_ON_PATH, {
        **NO_DSQ, "cheese_in_tr5": True, "euc_cheese_tr": 2.0, "taxi_cheese_tr": 2,
        "steps_cheese_tr": 2, "euc_cheese_tr5": 0.0, "taxi_cheese_tr5": 0,
        "steps_cheese_tr5": 0, "cheese_norm": math.sqrt(20)}),
    "cheese at tr": (CHEESE_AT_TR, {
        **NO_DSQ, "cheese_in_tr5": True, "euc_cheese_tr": 0.0, "taxi_cheese_tr": 0,
        "steps_cheese_tr": 0, "euc_cheese_tr5": 0.0, "taxi_cheese_tr5": 0,
        "steps_cheese_tr5": 0, "cheese_norm": math.sqrt(32)}),
}


def test_every_column_by_hand(build_maze):
    maze = build_maze(FORK, maze_dim=7)
    assert maze.cheese == (5, 1) and maze.world_dim == 9
    row = maze_features(maze)
    assert_row_matches(row, FORK_EXPECTED)
    assert (row["cheese_x"], row["cheese_y"], row["maze_dim"]) == (5, 1, 7)
    assert decision_square(maze) == (0, 3)
    # and the brute force agrees with the hand computation
    assert_row_matches(row, brute_force_row(maze, enumerate_paths=True))


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_no_fork_edge_cases(build_maze, case):
    picture, expected = EDGE_CASES[case]
    maze = build_maze(picture)
    row = maze_features(maze)
    assert_row_matches(row, expected)
    assert_row_matches(row, brute_force_row(maze, enumerate_paths=True))
    assert decision_square(maze) is None


def test_fork_at_the_start(build_maze):
    maze = build_maze(FORK_AT_START, maze_dim=5)
    assert maze.cheese == (2, 0)
    assert decision_square(maze) == (0, 0)
    row = maze_features(maze)
    expected = brute_force_row(maze, enumerate_paths=True)
    assert expected["dsq"] == (0, 0)
    assert_row_matches(row, expected)
    assert row["steps_cheese_dsq"] == 2 and row["steps_dsq_tr"] == 8


def test_decision_square_does_not_follow_a_moved_mouse(build_maze):
    """The start is the maze's start cell, wherever the mouse is."""
    maze = build_maze(FORK.replace("#.#######", "#M#######", 1), maze_dim=7)
    assert maze.mouse == (0, 0)
    moved = build_maze(FORK.replace("#.......#", "#..M....#", 1), maze_dim=7)
    assert moved.mouse == (2, 6)
    assert decision_square(moved) == decision_square(maze) == (0, 3)
    assert decision_square(moved, start=(2, 6)) == (2, 6)  # from there: left or right


def _random_tree_maze(rng, k: int, margin: int, mode: str = "hard") -> Maze:
    """A random spanning tree of a k x k grid of rooms (randomised Prim: grow the tree
    by a random edge out of it), drawn as a (2k - 1)-cell maze in a world with the
    given margin; the cheese on a random free cell other than the start."""
    d = 2 * k - 1
    world = d + 2 * margin
    free = np.zeros((world, world), dtype=bool)
    tree = {(0, 0)}
    free[margin, margin] = True

    def edges_out(room):
        x, y = room
        return [(room, (x + dx, y + dy)) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= x + dx < k and 0 <= y + dy < k]

    frontier = edges_out((0, 0))
    while frontier:
        (x, y), (nx_, ny_) = frontier.pop(int(rng.integers(len(frontier))))
        if (nx_, ny_) in tree:
            continue
        tree.add((nx_, ny_))
        free[margin + y + ny_, margin + x + nx_] = True  # the wall between the rooms
        free[margin + 2 * ny_, margin + 2 * nx_] = True
        frontier += edges_out((nx_, ny_))
    cells = [(x, y) for x in range(d) for y in range(d)
             if free[margin + y, margin + x] and (x, y) != (0, 0)]
    cheese = cells[rng.integers(len(cells))]
    return Maze(free=free, maze_dim=d, cheese=cheese, mouse=(0, 0), mode=mode)


def test_random_tree_mazes_against_path_enumeration():
    rng = np.random.default_rng(0)
    kinds = {"fork": 0, "no fork": 0}
    for _ in range(60):
        maze = _random_tree_maze(rng, k=int(rng.integers(2, 6)), margin=int(rng.integers(0, 3)))
        expected = brute_force_row(maze, enumerate_paths=True)
        assert_row_matches(maze_features(maze), expected)
        kinds["fork" if expected["has_dsq"] else "no fork"] += 1
    assert min(kinds.values()) >= 5


@pytest.mark.parametrize("mode", ["hard", "easy"])
def test_procgen_levels_against_brute_force(level_mazes, mode):
    mazes = level_mazes[mode][:120]
    table = features_table(mazes)
    assert list(table.columns) == list(COLUMNS)
    for maze, (_, row) in zip(mazes, table.iterrows(), strict=True):
        assert_row_matches(row.to_dict(), brute_force_row(maze, enumerate_paths=False))
        assert row["level"] == maze.level and row["mode"] == mode
    with_dsq = table[table.has_dsq]
    assert 0.2 < len(with_dsq) / len(table) < 0.9
    # a tree: the decision square lies on the path from the cheese to the top-right
    np.testing.assert_array_equal(with_dsq.steps_cheese_tr,
                                  with_dsq.steps_cheese_dsq + with_dsq.steps_dsq_tr)
    assert table.loc[~table.has_dsq, ["dsq_x", "steps_dsq_tr5"]].isna().all().all()


def test_shortest_paths_in_a_maze_with_loops(build_maze):
    """Edited mazes may have loops: steps are still the shortest, paths valid."""
    maze = build_maze("""
        .......
        .#.#.#.
        .......
        .#.#.#C
        .......
        .#.#.#.
        .......
    """)
    cells = free_cells(maze)
    row = maze_features(maze)
    for a, b, name in [(maze.cheese, maze.top_right, "steps_cheese_tr")]:
        assert row[name] == min(len(p) for p in all_simple_paths(cells, a, b)) - 1
    for target in (maze.cheese, maze.top_right):
        path = shortest_path(maze, (0, 0), target)
        assert path[0] == (0, 0) and path[-1] == target
        assert len(path) - 1 == bfs_steps(cells, (0, 0))[target]
        assert all(b in adjacent(a) and b in cells for a, b in zip(path, path[1:], strict=False))
    dsq = decision_square(maze)
    assert dsq == (row["dsq_x"], row["dsq_y"])
    assert dsq in shortest_path(maze, (0, 0), maze.cheese)
    assert dsq in shortest_path(maze, (0, 0), maze.top_right)
    assert decision_square(maze) == dsq  # deterministic


def test_unsolvable_and_cheeseless_mazes(build_maze):
    boxed = build_maze("""
        ....
        .##.
        .#C#
        ..#.
    """)
    with pytest.raises(MazeStateError, match="no path"):
        maze_features(boxed)
    with pytest.raises(MazeStateError, match="no path"):
        decision_square(boxed)
    with pytest.raises(nx.NetworkXNoPath):
        shortest_path(boxed, (0, 0), boxed.cheese)
    walled_start = build_maze("""
        ...
        ..C
        #..
    """)
    with pytest.raises(MazeStateError, match="start"):
        maze_features(walled_start)
    no_cheese = remove_cheese(build_maze(FORK, maze_dim=7))
    row = maze_features(no_cheese)
    assert row["has_dsq"] is False and row["cheese_in_tr5"] is False
    assert all(np.isnan(row[c]) for c in PUBLISHED_FEATURES)
    assert decision_square(no_cheese) is None


def test_features_table_types_and_order(level_mazes):
    mazes = level_mazes["easy"][:20] + level_mazes["hard"][:20]
    table = features_table(mazes)
    assert table.level.tolist() == [m.level for m in mazes]
    assert str(table.level.dtype) == "Int64" and table.has_dsq.dtype == bool
    assert table.cheese_in_tr5.dtype == bool and str(table["mode"].dtype) == "string"
    assert table.maze_dim.dtype == np.int64
    for name in PUBLISHED_FEATURES:
        assert table[name].dtype == float
    empty = features_table([])
    assert list(empty.columns) == list(COLUMNS) and len(empty) == 0


def test_level_features_serial_and_parallel(level_mazes):
    seeds = [7, 3, 150, 3, 42, *range(60, 100)]
    serial = level_features(seeds, "easy")
    expected = features_table([level_mazes["easy"][s] for s in seeds[:5]])
    pd.testing.assert_frame_equal(serial.iloc[:5].reset_index(drop=True), expected)
    with ThreadPoolExecutor(2) as pool:
        parallel = level_features(seeds, "easy", executor=pool, chunk=16)
    pd.testing.assert_frame_equal(parallel, serial)
    assert serial.level.tolist() == seeds


def test_moving_the_cheese_changes_the_features(build_maze):
    maze = build_maze(FORK, maze_dim=7)
    onto_path = move_cheese(maze, (0, 5))  # on the way to the top-right: no fork
    row = maze_features(onto_path)
    assert row["has_dsq"] is False and row["steps_cheese_tr"] == 7
    assert_row_matches(row, brute_force_row(onto_path, enumerate_paths=True))
