"""Episodes per second of `run_episodes` / `gather`, against sequential one-env batch-1
loops, on vanilla hard levels with procgen's 500-step limit.

The engine renders each (mouse cell, facing) an episode meets once and reuses its
logits on revisits, so its speed depends on how much the agent wanders: scale 1 uses
a trained policy (`--policy`, the shipped default); scale 4 has no trained policy, and
its random weights wander more than a trained agent, so read its ratio as optimistic.
Two baselines are measured in the same run, on the first few of the same levels (their
per-step cost extrapolated to the steps the engine took):
  - notebook loop: what the research notebooks do: a fresh single-level procgen env
    per level, the policy as loaded (fp32, default memory format), a batch-1 forward
    and a torch Categorical sample per step;
  - tuned loop: one reused env re-seeded through its state bytes, the channels_last
    policy, inference mode, Gumbel-max sampling: batch 1 done as well as we can.
Target: >= 10x. Both ratios are printed; the headline is the notebook loop.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from behavstats.maze import serialize
from behavstats.maze.levels import LevelGenerator, ProcgenGym3Env, make_env, set_state
from behavstats.policy import Policy, inference, load_policy, native_bf16, preprocess
from behavstats.rollout import RolloutConfig, gather, run_episodes


def notebook_loop(policy: Policy, levels: list[int], max_steps: int) -> tuple[int, float]:
    """Steps taken and seconds of notebook-style episodes (fresh env per level)."""
    steps, start = 0, time.perf_counter()
    with torch.no_grad():
        for level in levels:
            env = ProcgenGym3Env(num=1, env_name="maze", start_level=level, num_levels=1,
                                 distribution_mode="hard")
            for _ in range(max_steps):
                _, ob, _ = env.observe()
                obs = torch.tensor(ob["rgb"], dtype=torch.float32).permute(0, 3, 1, 2) / 255.0
                dist = torch.distributions.Categorical(logits=policy(obs)[0])
                env.act(dist.sample().numpy())
                steps += 1
                if env.observe()[2][0]:
                    break
    return steps, time.perf_counter() - start


def tuned_loop(policy: Policy, mazes: list, max_steps: int) -> tuple[int, float]:
    """Steps taken and seconds of one reused env, batch-1, channels_last episodes."""
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


def engine_runs(policy: Policy, levels: list[int], max_steps: int, workers: int | None
                ) -> dict[str, tuple[int, int, float]]:
    """Episodes, steps and seconds of the engine: fp32, bf16 (on a CPU with native
    bfloat16 only: emulated, it is about 10x slower) and (with workers) gather."""
    mazes = list(LevelGenerator("hard").mazes(levels))
    configs = {"run_episodes fp32": RolloutConfig(max_steps=max_steps)}
    if native_bf16():
        configs["run_episodes bf16"] = RolloutConfig(max_steps=max_steps, bf16=True)
    out = {}
    for name, config in configs.items():
        start = time.perf_counter()
        table = run_episodes(policy, mazes, config)
        out[name] = len(table), int(table["steps"].sum()), time.perf_counter() - start
    if workers:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(workers) as pool:
            table = gather(policy, levels, folder, configs["run_episodes fp32"],
                           shard_size=-(-len(levels) // workers), executor=pool)
        out[f"gather fp32, {workers} workers"] = (len(table), int(table["steps"].sum()),
                                                  time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=256)
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--baseline-episodes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policy", default="default", help="trained scale-1 policy")
    args = parser.parse_args()
    trained = load_policy(args.policy)
    headline = None
    for scale, count in ((1, args.episodes), (4, args.episodes // 4)):
        torch.manual_seed(0)
        loaded = trained if scale == 1 else Policy(scale).eval()
        policy = Policy(scale).to(memory_format=torch.channels_last).eval()
        policy.load_state_dict(loaded.state_dict())
        levels = list(range(count))
        subset = levels[: args.baseline_episodes]
        note_steps, note_s = notebook_loop(loaded, subset, args.max_steps)
        tuned_steps, tuned_s = tuned_loop(policy, list(LevelGenerator("hard").mazes(subset)),
                                          args.max_steps)
        print(f"scale {scale} ({'trained' if scale == 1 else 'random weights'}): notebook loop "
              f"{note_steps / note_s:.0f} steps/s, tuned batch-1 loop "
              f"{tuned_steps / tuned_s:.0f} steps/s")
        runs = engine_runs(policy, levels, args.max_steps, args.workers if scale == 1 else None)
        for name, (episodes, steps, seconds) in runs.items():
            vs_note = steps / seconds / (note_steps / note_s)
            vs_tuned = steps / seconds / (tuned_steps / tuned_s)
            print(f"  {name}: {episodes / seconds:.2f} episodes/s ({steps / seconds:.0f} "
                  f"steps/s): {vs_note:.1f}x vs notebook loop, {vs_tuned:.1f}x vs tuned loop")
            if scale == 1 and name.startswith("gather"):
                headline = (f"rollouts: {episodes / seconds:.2f} episodes/s (scale 1, trained, "
                            f"fp32, {args.max_steps}-step limit, {args.workers} workers) "
                            f"({vs_note:.1f}x vs sequential one-env batch-1 notebook loop; "
                            f"{vs_tuned:.1f}x vs tuned batch-1 loop)")
    print(headline)


if __name__ == "__main__":
    main()
