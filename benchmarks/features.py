"""Seed -> features throughput of `behavstats.features.level_features`.

Fast path: one reused batch of procgen envs re-seeded through the state bytes
(`LevelGenerator`), each state parsed once, each maze searched breadth-first three
times for all 16 features (`maze_features`).

Baseline, measured in the same run on a sample and extrapolated per level: the
straightforward way, a fresh `ProcgenGym3Env(start_level=s, num_levels=1)` per seed,
its state parsed, and every feature computed on its own (networkx graph of the maze
rebuilt, shortest paths and decision square recomputed for each of the 16 columns).
The baseline's values are checked against the fast path's.

Usage: python benchmarks/features.py [--levels 10000] [--mode hard] [--sample 40]
The headline is printed last: `features: R levels/s (Kx vs per-seed env + per-feature
graph)`.
"""

from __future__ import annotations

import argparse
import math
import time

import networkx as nx
import numpy as np
import pandas as pd

from behavstats.features import PUBLISHED_FEATURES, level_features
from behavstats.maze.codec import parse
from behavstats.maze.levels import ProcgenGym3Env

BASELINE = "per-seed env + per-feature graph"
TARGET_SECONDS = 60.0


def _graph(maze) -> nx.Graph:
    """The free cells of a maze (maze-frame) as a networkx grid graph, from scratch."""
    m = (maze.world_dim - maze.maze_dim) // 2
    graph = nx.Graph()
    for wy, wx in zip(*np.nonzero(maze.free), strict=True):
        cell = (int(wx) - m, int(wy) - m)
        graph.add_node(cell)
        for dx, dy in ((1, 0), (0, 1)):
            wx2, wy2 = wx + dx, wy + dy
            if wx2 < maze.world_dim and wy2 < maze.world_dim and maze.free[wy2, wx2]:
                graph.add_edge(cell, (int(wx2) - m, int(wy2) - m))
    return graph


def _dsq(maze):
    graph = _graph(maze)
    to_cheese = nx.shortest_path(graph, (0, 0), maze.cheese)
    to_tr = nx.shortest_path(graph, (0, 0), maze.top_right)
    if maze.cheese in to_tr or maze.top_right in to_cheese:
        return None
    common = [a for a, b in zip(to_cheese, to_tr, strict=False) if a == b]
    return common[-1]


def _tr5(maze):
    d = maze.maze_dim
    low = d - min(5, d)
    return [(x, y) for x in range(low, d) for y in range(low, d) if maze.is_free((x, y))]


def _point(maze, name):
    return {"cheese": maze.cheese, "tr": maze.top_right}.get(name) or _dsq(maze)


def _feature(maze, column: str) -> float:
    """One column, recomputing the graph, paths and decision square it needs."""
    if column == "cheese_norm":
        return math.hypot(*maze.world_cell(maze.cheese))
    metric, source, target = column.split("_")
    a = _point(maze, source)
    if a is None:
        return math.nan
    targets = _tr5(maze) if target == "tr5" else [_point(maze, target)]
    if targets == [None]:
        return math.nan
    if metric == "euc":
        return min(math.dist(a, b) for b in targets)
    if metric == "taxi":
        return float(min(abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in targets))
    lengths = nx.single_source_shortest_path_length(_graph(maze), a)
    return float(min(lengths[b] for b in targets))


def baseline_levels(seeds: list[int], mode: str) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        env = ProcgenGym3Env(num=1, env_name="maze", start_level=seed, num_levels=1,
                             distribution_mode=mode)
        maze = parse(env.callmethod("get_state")[0], level=seed)
        rows.append({c: _feature(maze, c) for c in PUBLISHED_FEATURES})
        env.close()
    return pd.DataFrame(rows, columns=list(PUBLISHED_FEATURES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=10_000)
    parser.add_argument("--mode", default="hard", choices=("hard", "easy"))
    parser.add_argument("--sample", type=int, default=40,
                        help="levels run through the baseline (extrapolated per level)")
    parser.add_argument("--start", type=int, default=0, help="first level seed")
    args = parser.parse_args()
    seeds = list(range(args.start, args.start + args.levels))

    t0 = time.perf_counter()
    ProcgenGym3Env(num=1, env_name="maze", distribution_mode=args.mode).close()
    print(f"procgen asset loading (once per process, excluded): "
          f"{time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    table = level_features(seeds, args.mode)
    fast_seconds = time.perf_counter() - t0
    fast_rate = len(seeds) / fast_seconds
    print(f"fast path: {len(seeds)} {args.mode} levels, seed to features, in "
          f"{fast_seconds:.1f} s ({1e3 / fast_rate:.2f} ms/level; has_dsq "
          f"{table.has_dsq.mean():.0%})")
    if args.levels >= 10_000:
        verdict = "met" if fast_seconds < TARGET_SECONDS else "MISSED"
        print(f"target: {args.levels} levels in < {TARGET_SECONDS:.0f} s: {verdict}")

    sample = seeds[: min(args.sample, len(seeds))]
    t0 = time.perf_counter()
    baseline = baseline_levels(sample, args.mode)
    base_seconds = time.perf_counter() - t0
    base_rate = len(sample) / base_seconds
    print(f"baseline ({BASELINE}): {len(sample)} levels in {base_seconds:.1f} s "
          f"({1e3 / base_rate:.1f} ms/level, extrapolated to {len(seeds)} levels: "
          f"{len(seeds) / base_rate:.0f} s)")
    fast_sample = table.loc[: len(sample) - 1, list(PUBLISHED_FEATURES)].astype(float)
    pd.testing.assert_frame_equal(fast_sample.reset_index(drop=True), baseline,
                                  check_exact=False, rtol=1e-12)
    print(f"checked: the baseline's 16 features equal the fast path's on {len(sample)} "
          "levels")

    print(f"features: {fast_rate:.0f} levels/s ({fast_rate / base_rate:.1f}x vs {BASELINE})")


if __name__ == "__main__":
    main()
