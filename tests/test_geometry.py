"""The one maze graph against networkx computations written here on a graph built
independently (`nx.grid_2d_graph` cut down to the free cells), on real procgen levels
and on levels with walls knocked out (loops, so ties)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from behavstats.geometry import (
    DecisionPoint,
    _distances,
    decision_point,
    decision_square,
    distances,
    first_moves,
    move_between,
    reachable,
    shortest_path,
    steps_to_path,
)
from behavstats.maze import MOVE_NAMES, MOVES, Maze, MazeStateError
from behavstats.maze.edits import move_cheese, move_mouse
from behavstats.maze.levels import LevelGenerator


def reference_graph(maze: Maze) -> nx.Graph:
    """Maze-frame free cells joined to their free 4-neighbours, without behavstats."""
    m = (maze.world_dim - maze.maze_dim) // 2
    grid = nx.grid_2d_graph(maze.world_dim, maze.world_dim)  # nodes (wx, wy)
    free = grid.subgraph((wx, wy) for wx, wy in grid if maze.free[wy, wx])
    return nx.relabel_nodes(free, {(wx, wy): (wx - m, wy - m) for wx, wy in free})


def with_loops(maze: Maze, rng: np.random.Generator, n: int) -> Maze:
    """`maze` with n walls between two free cells opened (a procgen maze is a tree)."""
    free = maze.free.copy()
    walls = [(y, x) for y in range(1, maze.world_dim - 1) for x in range(1, maze.world_dim - 1)
             if not free[y, x] and ((free[y, x - 1] and free[y, x + 1])
                                    or (free[y - 1, x] and free[y + 1, x]))]
    for i in rng.choice(len(walls), size=n, replace=False):
        free[walls[i]] = True
    return Maze(free=free, maze_dim=maze.maze_dim, cheese=maze.cheese, mouse=maze.mouse,
                level=maze.level, mode=maze.mode)


@pytest.fixture(scope="module")
def trees() -> list[Maze]:
    return [*LevelGenerator("hard").mazes(range(25)), *LevelGenerator("easy").mazes(range(10))]


@pytest.fixture(scope="module")
def loopy(trees) -> list[Maze]:
    rng = np.random.default_rng(0)
    return [with_loops(m, rng, 4) for m in trees if m.maze_dim >= 7]


def some_cells(maze: Maze) -> list:
    cells = maze.free_cells()
    return [maze.start, maze.cheese, maze.top_right, *cells[:: max(1, len(cells) // 6)]]


def moves_of(path) -> list[int]:
    return [move_between(a, b) for a, b in zip(path, path[1:], strict=False)]


def test_distances_and_paths_match_networkx(trees, loopy):
    for maze in trees + loopy:
        graph = reference_graph(maze)
        for source in some_cells(maze):
            assert dict(distances(maze, source)) == nx.single_source_shortest_path_length(
                graph, source)
        for target in (maze.cheese, maze.top_right):
            path = shortest_path(maze, maze.start, target)
            assert path[0] == maze.start and path[-1] == target
            assert len(path) - 1 == nx.shortest_path_length(graph, maze.start, target)
            assert all(graph.has_edge(a, b) for a, b in zip(path, path[1:], strict=False))
        on_path = shortest_path(maze, maze.start, maze.cheese)
        assert steps_to_path(maze, on_path) == nx.multi_source_dijkstra_path_length(
            graph, set(on_path))


def test_tie_rule_takes_the_first_moves_in_move_names_order(loopy):
    """Of all shortest paths (networkx enumerates them), the one whose moves, as
    `MOVE_NAMES` indices, compare smallest."""
    ties = 0
    for maze in loopy:
        graph = reference_graph(maze)
        for source in some_cells(maze)[:4]:
            for target in (maze.cheese, maze.top_right):
                every = [moves_of(p) for p in nx.all_shortest_paths(graph, source, target)]
                assert moves_of(shortest_path(maze, source, target)) == min(every)
                ties += len(every) > 1
    assert ties >= 10  # the loops did make ties


def test_tie_rule_by_hand(build_maze):
    """In an open 3 x 3 room: up first, then right; back: left first, then down (so a
    path reversed is not the path back)."""
    room = build_maze("""
        ...
        ...
        ...
    """)
    assert shortest_path(room, (0, 0), (2, 2)) == [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]
    assert shortest_path(room, (2, 2), (0, 0)) == [(2, 2), (1, 2), (0, 2), (0, 1), (0, 0)]
    assert first_moves(room, (2, 2))[(0, 0)] == MOVE_NAMES.index("UP")
    assert first_moves(room, (0, 0))[(1, 1)] == MOVE_NAMES.index("LEFT")


def test_results_do_not_depend_on_the_cache_or_on_maze_identity(loopy):
    maze = loopy[0]
    paths = {t: shortest_path(maze, maze.start, t) for t in (maze.cheese, maze.top_right)}
    _distances.cache_clear()
    rebuilt = Maze(free=maze.free.copy(), maze_dim=maze.maze_dim, cheese=maze.cheese,
                   mouse=maze.mouse, level=None, mode=maze.mode)
    assert {t: shortest_path(rebuilt, rebuilt.start, t) for t in paths} == paths
    # the graph is the walls': the mouse, the cheese and bookkeeping do not change it
    other = move_cheese(move_mouse(maze, maze.top_right), maze.start)
    assert distances(other, maze.cheese) is distances(maze, maze.cheese)
    with pytest.raises(TypeError):
        distances(maze, maze.cheese)[maze.start] = 0  # read-only: shared by every caller


def test_first_move_is_one_step_along_a_shortest_path(trees, loopy):
    for maze in trees[:10] + loopy[:10]:
        graph = reference_graph(maze)
        for target in (maze.cheese, maze.top_right):
            to_target = nx.single_source_shortest_path_length(graph, target)
            moves = first_moves(maze, target)
            assert set(moves) == set(to_target) - {target}
            for cell, move in moves.items():
                dx, dy = MOVES[MOVE_NAMES[move]]
                assert to_target.get((cell[0] + dx, cell[1] + dy)) == to_target[cell] - 1
                assert move == moves_of(shortest_path(maze, cell, target))[0]


def test_decision_point_moves_follow_the_paths_that_define_it(trees, loopy):
    forks = 0
    for maze in trees + loopy:
        point = decision_point(maze)
        if point is None:
            continue
        forks += 1
        for target, move in ((maze.cheese, point.to_cheese),
                             (maze.top_right, point.to_top_right)):
            path = shortest_path(maze, maze.start, target)
            at = path.index(point.cell)
            assert move == move_between(point.cell, path[at + 1])
        assert point.to_cheese != point.to_top_right
    assert forks >= 10


def test_decision_point_with_a_tie_towards_the_cheese(build_maze):
    """From the decision square (0, 2) both UP and RIGHT start a 3-step path to the
    cheese; the tie rule takes UP, the way the path to the cheese goes."""
    maze = build_maze("""
        ####.
        ..C#.
        .....
        .####
        .####
    """)
    up, right = MOVE_NAMES.index("UP"), MOVE_NAMES.index("RIGHT")
    assert shortest_path(maze, maze.start, maze.cheese) == [
        (0, 0), (0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert decision_point(maze) == DecisionPoint((0, 2), to_cheese=up, to_top_right=right)


def test_no_decision_square_when_one_path_contains_the_other(build_maze):
    """Up the left column, along the top row to the top-right cell, down to the cheese
    (a dead end branches off on the way). The paths never part: their last shared cell
    would be the top-right cell, or the cheese once it is moved onto the top row. The
    agent need not choose, so there is no decision square."""
    tr_first = build_maze("""
        .....
        .###.
        ..##.
        .###C
        .####
    """)
    cheese_first = move_cheese(tr_first, (2, 4))
    assert (4, 4) in shortest_path(tr_first, (0, 0), tr_first.cheese)
    assert (2, 4) in shortest_path(cheese_first, (0, 0), cheese_first.top_right)
    for maze in (tr_first, cheese_first):
        assert decision_square(maze) is None and decision_point(maze) is None
    # the same corridor with the cheese off it does fork, where the dead end leaves
    assert decision_square(move_cheese(tr_first, (1, 2))) == (0, 2)


def test_unreachable_targets_and_walls(build_maze):
    boxed = build_maze("""
        ....
        .##.
        .#C#
        ..#.
    """)
    assert not reachable(boxed, boxed.start, boxed.cheese)
    assert reachable(boxed, boxed.start, boxed.top_right)
    assert boxed.cheese not in distances(boxed, boxed.start)
    assert boxed.start not in first_moves(boxed, boxed.cheese)
    assert first_moves(boxed, boxed.cheese) == {}
    with pytest.raises(nx.NetworkXNoPath):
        shortest_path(boxed, boxed.start, boxed.cheese)
    with pytest.raises(MazeStateError, match="no path"):
        decision_square(boxed)
    with pytest.raises(MazeStateError, match="no path"):
        boxed.validate(check_path=True)
    wall, outside = (1, 2), (9, 9)
    for cell in (wall, outside):
        assert not reachable(boxed, boxed.start, cell)
        assert not reachable(boxed, cell, boxed.start)
        with pytest.raises(nx.NodeNotFound):
            distances(boxed, cell)
        with pytest.raises(nx.NodeNotFound):
            shortest_path(boxed, cell, boxed.start)
        with pytest.raises(nx.NodeNotFound):
            shortest_path(boxed, boxed.start, cell)
