"""The fast path (scipy's csgraph) against networkx's shortest paths on
`free_cell_graph`, on 550 procgen levels of both modes: every distance of the feature
table, every path length and every decision square agree.

Procgen mazes are trees (checked here: all 550 are), so each shortest path is unique
and networkx's is the package's; edited mazes with loops, where the package's tie rule
decides, are compared in test_geometry.py.
"""

from __future__ import annotations

import math

import networkx as nx
import pytest

from behavstats.features import features_table
from behavstats.geometry import (
    decision_square,
    distances,
    free_cell_graph,
    shortest_path,
    steps_to_path,
)
from behavstats.maze import MOVES
from behavstats.maze.levels import LevelGenerator
from behavstats.vocabulary import TOP_RIGHT_REGION

LEVELS = {"hard": 300, "easy": 250}


@pytest.fixture(scope="module")
def mazes():
    return {mode: list(LevelGenerator(mode).mazes(range(n))) for mode, n in LEVELS.items()}


def nx_decision_square(graph: nx.Graph, start, cheese, top_right):
    """The last cell networkx's paths from the start to the cheese and to the top-right
    cell share; None when either path holds the other's end (no fork)."""
    to_cheese = nx.shortest_path(graph, start, cheese)
    to_top_right = nx.shortest_path(graph, start, top_right)
    if cheese in to_top_right or top_right in to_cheese:
        return None
    shared = [a for a, b in zip(to_cheese, to_top_right, strict=False) if a == b]
    return shared[-1]


def nx_features(maze, graph: nx.Graph) -> dict:
    """The steps_* features and the decision square, from networkx alone."""
    dim, low = maze.maze_dim, max(0, maze.maze_dim - TOP_RIGHT_REGION)
    tr5 = [(x, y) for x, y in graph if low <= x < dim and low <= y < dim]
    dsq = nx_decision_square(graph, maze.start, maze.cheese, maze.top_right)
    from_cheese = nx.single_source_shortest_path_length(graph, maze.cheese)
    row = {"has_dsq": dsq is not None, "steps_cheese_tr": from_cheese[maze.top_right],
           "steps_cheese_tr5": min(from_cheese[c] for c in tr5)}
    if dsq is not None:
        from_dsq = nx.single_source_shortest_path_length(graph, dsq)
        row.update(dsq_x=dsq[0], dsq_y=dsq[1], steps_cheese_dsq=from_cheese[dsq],
                   steps_dsq_tr=from_dsq[maze.top_right],
                   steps_dsq_tr5=min(from_dsq[c] for c in tr5))
    return row


def test_the_graph_is_the_free_cells_and_their_free_neighbours(mazes):
    for maze in mazes["hard"][:50] + mazes["easy"][:50]:
        graph = free_cell_graph(maze)
        assert set(graph) == set(maze.free_cells())
        for x, y in graph:
            neighbours = {(x + dx, y + dy) for dx, dy in MOVES.values()}
            assert set(graph[x, y]) == {c for c in neighbours if maze.is_free(c)}
    # the caller's to change: a new graph each time
    maze = mazes["hard"][0]
    graph = free_cell_graph(maze)
    graph.remove_node(maze.start)
    assert maze.start in free_cell_graph(maze)


def test_fast_path_equals_networkx_on_550_levels(mazes):
    compared = {"levels": 0, "with dsq": 0}
    for mode, level_mazes in mazes.items():
        table = features_table(level_mazes)
        for maze, row in zip(level_mazes, table.to_dict("records"), strict=True):
            graph = free_cell_graph(maze)
            where = f"{mode} level {maze.level}"
            assert nx.is_tree(graph), f"{where}: not a tree, shortest paths may tie"
            expected = nx_features(maze, graph)
            for column, value in expected.items():
                assert row[column] == value, f"{where}: {column} {row[column]} != {value}"
            if not expected["has_dsq"]:
                assert all(math.isnan(row[c]) for c in ("dsq_x", "steps_cheese_dsq",
                                                         "steps_dsq_tr", "steps_dsq_tr5"))
            dsq = decision_square(maze)
            assert dsq == nx_decision_square(graph, maze.start, maze.cheese, maze.top_right)
            # paths, their lengths, and whole distance maps
            for target in (maze.cheese, maze.top_right):
                path = shortest_path(maze, maze.start, target)
                assert path == nx.shortest_path(graph, maze.start, target), where
                assert len(path) - 1 == nx.shortest_path_length(graph, maze.start, target)
            assert dict(distances(maze, maze.cheese)) == \
                nx.single_source_shortest_path_length(graph, maze.cheese)
            on_path = shortest_path(maze, maze.start, maze.cheese)
            assert steps_to_path(maze, on_path) == nx.multi_source_dijkstra_path_length(
                graph, set(on_path))
            compared["levels"] += 1
            compared["with dsq"] += dsq is not None
    assert compared["levels"] == sum(LEVELS.values())
    assert compared["with dsq"] > 100  # the decision squares were compared, not only None
