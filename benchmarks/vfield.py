"""Vector fields of 25 x 25 mazes at scale 4: cost against the bare batched forward.

Measures, in one run: (a) `vector_fields` over all free cells of K full-size mazes
(render + forward), (b) the bare batched forward pass over the same number of
pre-rendered observations, (c) a naive baseline that builds one env per cell and runs
batch-1 forwards (on a sample of cells, extrapolated). Target: (a) <= 1.15 x (b).
Random weights: the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from behavstats.env import Observer
from behavstats.maze import MouseStates
from behavstats.maze.levels import LevelGenerator, get_state, make_env, set_state
from behavstats.policy import Policy, inference, preprocess
from behavstats.vfield import field_cells, vector_fields


def full_size_mazes(count: int) -> list:
    mazes = []
    for maze in LevelGenerator("hard").mazes(range(2000)):
        if maze.maze_dim == 25:
            mazes.append(maze)
        if len(mazes) == count:
            return mazes
    raise RuntimeError("not enough 25x25 levels in seeds 0-1999")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mazes", type=int, default=4)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--baseline-cells", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(0)
    policy = Policy(args.scale).to(memory_format=torch.channels_last).eval()
    mazes = full_size_mazes(args.mazes)
    observer = Observer()
    states = [MouseStates(m).at(c) for m in mazes for c in field_cells(m)]
    obs = observer.observe_states(states, "hard")
    n = len(obs)
    vector_fields(policy, mazes[:1], observer=observer)  # warm up

    start = time.perf_counter()
    with inference(policy):
        for i in range(0, n, 64):
            policy(preprocess(obs[i : i + 64]))
    bare = time.perf_counter() - start

    start = time.perf_counter()
    vector_fields(policy, mazes, observer=observer)
    fields = time.perf_counter() - start

    sample = states[:: max(1, n // args.baseline_cells)][: args.baseline_cells]
    start = time.perf_counter()
    with inference(policy):
        for state in sample:
            env = make_env(1, "hard")
            set_state(env, 0, state)
            _, ob, _ = env.observe()
            policy(preprocess(ob["rgb"]))
            get_state(env, 0)
    naive = (time.perf_counter() - start) / len(sample) * n

    print(f"{len(mazes)} mazes of 25x25, {n} cells, scale {args.scale}")
    print(f"bare batched forward: {bare:.2f} s ({n / bare:.0f} obs/s)")
    print(f"vector fields:        {fields:.2f} s ({n / fields:.0f} cells/s)")
    print(f"one env per cell, batch 1 (extrapolated from {len(sample)} cells): {naive:.1f} s")
    print(f"vfield: {fields / bare:.3f}x bare forward time ({naive / fields:.1f}x vs "
          "one-env-per-cell batch-1)")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
