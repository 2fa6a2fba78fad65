"""Incremental against plain forward passes, at scale 1 and scale 4, in one run.

(a) The probabilities of every free cell of K 25 x 25 mazes, through the engine with
`Frames` (incremental) and with the bare observations (plain), same batches; both
include the base pictures' and activations' cost (the incremental pass starts from
an empty store). (b) `behavstats evaluate --levels 0:200` with the default agent and
with its exact scale-4 copy (`widen`, saved with `save_policy`), each as a fresh
process, and the ratio (target <= 3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from behavstats import incremental
from behavstats.engine import probs
from behavstats.env import Observer, frames
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import load_policy, save_policy, widen
from behavstats.vfield import FieldRows


def full_size_mazes(count: int) -> list:
    mazes = [m for m in LevelGenerator("hard").mazes(range(400)) if m.maze_dim == 25]
    return mazes[:count]


def forward_times(policy, views) -> tuple[float, float, float]:
    """Seconds of the plain and the incremental pass, and their largest difference."""
    incremental._STORES.pop(policy, None)
    start = time.perf_counter()
    plain = probs(policy, views.obs)
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    fast = probs(policy, views)
    return plain_s, time.perf_counter() - start, float(np.abs(plain - fast).max())


def evaluate_run(policy_path: Path, levels: str, threads: int) -> tuple[float, str]:
    """Seconds and JSON result of `behavstats evaluate` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "behavstats", "evaluate", "--policy",
                           str(policy_path), "--levels", levels, "--json", "--quiet"],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mazes", type=int, default=8)
    parser.add_argument("--levels", default="0:200")
    parser.add_argument("--skip-evaluate", action="store_true")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch threads (default: one per core, as `behavstats "
                             "evaluate` runs; on a machine busy with other work a second "
                             "thread spin-waits and 1 is faster)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    agent = load_policy("default")
    wide = widen(agent, 4)
    mazes = full_size_mazes(args.mazes)
    rows = FieldRows.of(mazes)
    views = frames(rows.pairs(mazes), Observer())
    probs(agent, views.take(np.arange(64)))  # warm up
    print(f"forward over every cell of {len(mazes)} 25x25 mazes ({len(views)} observations)")
    for scale, policy in ((1, agent), (4, wide)):
        plain, fast, diff = forward_times(policy, views)
        print(f"  scale {scale}: plain {plain:6.2f} s  incremental {fast:6.2f} s  "
              f"speed-up {plain / fast:4.2f}x  max |dp| {diff:.1e}")
    if args.skip_evaluate:
        return
    with tempfile.TemporaryDirectory() as tmp:
        paths = {1: save_policy(agent, Path(tmp) / "scale1.pt"),
                 4: save_policy(wide, Path(tmp) / "scale4.pt")}
        runs = {scale: evaluate_run(path, args.levels, args.threads)
                for scale, path in paths.items()}
    seconds = {scale: run[0] for scale, run in runs.items()}
    same = runs[1][1] == runs[4][1]
    print(f"behavstats evaluate --levels {args.levels}: scale 1 {seconds[1]:.1f} s, scale 4 "
          f"{seconds[4]:.1f} s, ratio {seconds[4] / seconds[1]:.2f} (target <= 3); "
          f"same results: {same}")


if __name__ == "__main__":
    main()
