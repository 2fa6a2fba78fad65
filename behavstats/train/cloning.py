"""Behavioural cloning from a shortest-path expert: a warm start for PPO on a CPU.

Data are never stored as images: each chunk draws fresh training mazes (level seeds
from `first_seed` on), moves the cheese into the top-right n x n region (the
training distribution), puts the mouse on every free cell, labels it with the
expert's first step towards the cheese, randomises the mouse sprite's mirroring,
and renders through procgen. Chunk k is a pure function of (seed, k), so a run
resumed from its last checkpoint (saved after every chunk) continues exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from behavstats.engine import probs
from behavstats.env import Observer
from behavstats.maze import MouseStates
from behavstats.maze.edits import cheese_in_top_right_region
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import (
    MOVE_ACTION,
    MOVE_NAMES,
    Policy,
    preprocess,
    save_policy,
    warn_if_bf16_is_emulated,
)
from behavstats.seeding import Purpose, stream
from behavstats.train.checkpoint import (
    append_log,
    load_checkpoint,
    load_init_policy,
    restore_rng_states,
    rng_states,
    save_checkpoint,
    truncate_log,
)
from behavstats.train.expert import expert_actions
from behavstats.vocabulary import DEFAULT_MODE, TOP_RIGHT_REGION


@dataclass
class CloningConfig:
    """Settings of a cloning run (defaults: what trained a competent agent here)."""

    region: int = TOP_RIGHT_REGION
    """Cheese drawn into the maze's top-right region x region corner."""
    scale: int = 1
    mode: str = DEFAULT_MODE
    seed: int = 0
    first_seed: int = 1_000_000
    """Training mazes are level seeds first_seed, first_seed + 1, ...; evaluation
    levels (0 - 99,999 by convention) stay unseen."""
    chunk_mazes: int = 400
    """Mazes per data chunk (about 60k observations in hard mode)."""
    passes: int = 2
    """Training passes over each chunk before a fresh one is rendered."""
    chunks: int = 40
    batch: int = 128
    lr: float = 7e-4
    warmup_steps: int = 300
    grad_clip: float = 5.0
    bf16: bool = True
    validation_mazes: int = 60
    validation_first_seed: int = 900_000
    init_policy: str | None = None
    """Policy file to continue from (e.g. an earlier cloning run's policy.pt, to train
    on fresh mazes with a new learning-rate schedule); its training record is kept
    in the new policy's metadata as `warm_start`."""


def _chunk_data(config: CloningConfig, chunk: int, generator: LevelGenerator,
                observer: Observer, first_seed: int, n_mazes: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(observations uint8 (N,64,64,3), expert actions (N,), maze sizes (N,))."""
    cheese_rng = stream(config.seed, Purpose.CLONING_CHEESE, chunk + 1)
    facing_rng = stream(config.seed, Purpose.CLONING_FACING, chunk + 1)
    states, actions, sizes = [], [], []
    for maze in generator.mazes(range(first_seed, first_seed + n_mazes)):
        maze = cheese_in_top_right_region(maze, config.region, cheese_rng)
        placer = MouseStates(maze)
        for cell, action in expert_actions(maze).items():
            states.append(placer.at(cell, reflected=bool(facing_rng.integers(2))))
            actions.append(action)
            sizes.append(maze.maze_dim)
    obs = observer.observe_states(states, config.mode)
    return obs, np.array(actions, dtype=np.int64), np.array(sizes)


def accuracy_by_size(policy: Policy, obs: np.ndarray, actions: np.ndarray,
                     sizes: np.ndarray) -> dict[str, float]:
    """Share of cells where the argmax move equals the expert's, overall and by
    maze-size band (3-9, 11-17, 19-25)."""
    move_of_action = {MOVE_ACTION[name]: i for i, name in enumerate(MOVE_NAMES)}
    predicted = probs(policy, obs).argmax(1)
    correct = predicted == np.vectorize(move_of_action.get)(actions)
    bands = {"all": np.ones_like(sizes, bool), "3-9": sizes <= 9,
             "11-17": (sizes >= 11) & (sizes <= 17), "19-25": sizes >= 19}
    return {k: float(correct[m].mean()) if m.any() else math.nan for k, m in bands.items()}


def train_cloning(config: CloningConfig, run_dir: Path, *, progress: bool = True,
                  stop_after_chunks: int | None = None) -> Policy:
    """Run (or resume) cloning into run_dir: checkpoint.pt, cloning_log.csv, and at the
    end policy.pt. `stop_after_chunks` ends this call early (after checkpointing), as
    an interruption would; calling again resumes."""
    warn_if_bf16_is_emulated(config.bf16)
    run_dir.mkdir(parents=True, exist_ok=True)
    generator, observer = LevelGenerator(config.mode), Observer()
    torch.manual_seed(config.seed)
    training = {"method": "cloning", "cloning": asdict(config)}
    if config.init_policy:
        policy = load_init_policy(config.init_policy, config.scale)
        training["warm_start"] = policy.metadata.get("training")
        policy.metadata["training"] = training
    else:
        policy = Policy(config.scale, metadata={"training": training})
    policy.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    steps_per_chunk_est = config.passes * config.chunk_mazes * 150 // config.batch
    total_steps = max(1, steps_per_chunk_est * config.chunks)
    state = {"chunk": 0, "step": 0, "samples": 0, "seconds": 0.0}
    saved = load_checkpoint(run_dir, "cloning", asdict(config))
    if saved is not None:
        policy.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        restore_rng_states(saved["rng"])
        state = saved["state"]
    val = _chunk_data(config, -1, generator, observer, config.validation_first_seed,
                      config.validation_mazes)
    log_path = run_dir / "cloning_log.csv"
    truncate_log(log_path, "chunk", state["chunk"])
    last = config.chunks if stop_after_chunks is None else min(
        config.chunks, state["chunk"] + stop_after_chunks)
    for chunk in range(state["chunk"], last):
        started = time.time()
        obs, actions, _ = _chunk_data(config, chunk, generator, observer,
                                      config.first_seed + chunk * config.chunk_mazes,
                                      config.chunk_mazes)
        policy.train()
        losses = []
        bar = tqdm(total=config.passes * len(obs), disable=not progress,
                   desc=f"cloning chunk {chunk + 1}/{config.chunks}", unit="obs")
        for _ in range(config.passes):
            order = torch.randperm(len(obs))
            for start in range(0, len(obs), config.batch):
                idx = order[start : start + config.batch].numpy()
                lr = config.lr * min(1.0, (state["step"] + 1) / config.warmup_steps) * 0.5 * (
                    1 + math.cos(math.pi * min(1.0, state["step"] / total_steps)))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                    logits, _ = policy(preprocess(obs[idx]))
                loss = torch.nn.functional.cross_entropy(logits.float(),
                                                         torch.from_numpy(actions[idx]))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
                optimizer.step()
                state["step"] += 1
                state["samples"] += len(idx)
                losses.append(loss.item())
                bar.update(len(idx))
        bar.close()
        acc = accuracy_by_size(policy, *val)
        state["chunk"] = chunk + 1
        state["seconds"] += time.time() - started
        row = {"chunk": chunk + 1, "samples": state["samples"], "seconds": round(state["seconds"]),
               "loss": float(np.mean(losses)), **{f"val_acc_{k}": v for k, v in acc.items()}}
        append_log(log_path, row)
        save_checkpoint({"kind": "cloning", "config": asdict(config), "state": state,
                         "model": policy.state_dict(), "optimizer": optimizer.state_dict(),
                         "rng": rng_states()}, run_dir)
        if progress:
            tqdm.write(f"chunk {chunk + 1}: loss {row['loss']:.3f} val acc {acc}")
    if state["chunk"] < config.chunks:
        return policy.eval()
    policy.metadata["training"]["cloning_samples"] = state["samples"]
    policy.metadata["training"]["cloning_seconds"] = state["seconds"]
    save_policy(policy, run_dir / "policy.pt")
    return policy.eval()
