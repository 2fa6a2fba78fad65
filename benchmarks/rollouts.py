"""Episodes per second of batched rollouts, against a sequential one-env batch-1 loop.

Both sides run the same levels with the same step limit and random-weight policies
(the cost of a step does not depend on the weights); the baseline steps a single
procgen env with a batch-1 forward per step, on a subset extrapolated per step.
Target: >= 10x.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from behavstats.maze import serialize
from behavstats.maze.levels import LevelGenerator, make_env, set_state
from behavstats.policy import Policy, inference, preprocess
from behavstats.rollout import RolloutConfig, run_episodes


def sequential(policy: Policy, mazes: list, max_steps: int) -> tuple[int, float]:
    """Steps taken and seconds of one-env, batch-1 episodes."""
    env = make_env(1, "hard")
    rng = np.random.default_rng(0)
    steps, start = 0, time.perf_counter()
    with inference(policy):
        for maze in mazes:
            set_state(env, 0, serialize(maze))
            for _ in range(max_steps):
                _, ob, _ = env.observe()
                logits = policy(preprocess(ob["rgb"]))[0][0].numpy()
                env.act(np.array([int(np.argmax(logits + rng.gumbel(size=15)))]))
                steps += 1
                if env.observe()[2][0]:
                    break
    return steps, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=128)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--baseline-episodes", type=int, default=6)
    args = parser.parse_args()
    config = RolloutConfig(max_steps=args.max_steps)
    mazes = list(LevelGenerator("hard").mazes(range(args.episodes)))
    headline = None
    for scale in (1, 4):
        torch.manual_seed(0)
        policy = Policy(scale).to(memory_format=torch.channels_last).eval()
        start = time.perf_counter()
        table = run_episodes(policy, mazes, config)
        batched = time.perf_counter() - start
        steps = int(table["steps"].sum())
        base_steps, base_seconds = sequential(policy, mazes[: args.baseline_episodes],
                                              args.max_steps)
        base_eps = args.episodes / (base_seconds / base_steps * steps)
        eps = args.episodes / batched
        print(f"scale {scale}: {eps:.2f} episodes/s ({steps / batched:.0f} steps/s) batched; "
              f"sequential batch-1: {base_eps:.3f} episodes/s "
              f"({base_steps / base_seconds:.0f} steps/s)")
        if scale == 1:
            headline = f"rollouts: {eps:.2f} episodes/s (scale 1, {args.max_steps}-step limit) " \
                       f"({eps / base_eps:.1f}x vs sequential one-env batch-1)"
    print(headline)


if __name__ == "__main__":
    main()
