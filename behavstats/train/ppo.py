"""PPO for the maze agent, in the style of CleanRL's `ppo_procgen.py`: the whole
algorithm reads top to bottom in `train_ppo`.

Environment: `MazeVecEnv` over hard-mode procgen mazes of random level seeds (from
`first_seed` up, so evaluation levels stay unseen), with the cheese re-drawn into
the maze's top-right `region` x `region` corner at every reset (`rand_region`).
A run checkpoints every `checkpoint_every` updates with everything needed for an
exact resume: weights, optimiser, reward-normaliser statistics, global RNG states,
the env's per-slot procgen states and mazes, the level-seed and cheese RNGs and
the counters; so a resumed run matches an uninterrupted one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.distributions import Categorical

from behavstats.env import MazeVecEnv, maze_stream
from behavstats.levelspec import MAX_SEED
from behavstats.maze import Maze
from behavstats.maze.levels import get_state, set_state
from behavstats.policy import Policy, preprocess, save_policy, warn_if_bf16_is_emulated
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
from behavstats.vocabulary import DEFAULT_MODE, TOP_RIGHT_REGION


@dataclass
class PPOConfig:
    """PPO settings. Defaults: the published hyper-parameters (gamma 0.999, lambda 0.95,
    lr 5e-4, clip 0.2, entropy 0.01, 256-step rollouts, 3 epochs, reward
    normalisation) with 64 envs and 8 minibatches, which fit this 2-core CPU."""

    region: int = TOP_RIGHT_REGION
    scale: int = 1
    mode: str = DEFAULT_MODE
    seed: int = 0
    first_seed: int = 1_000_000
    total_steps: int = 5_000_000
    num_envs: int = 64
    num_steps: int = 256
    lr: float = 5e-4
    anneal_lr: bool = False
    gamma: float = 0.999
    gae_lambda: float = 0.95
    num_minibatches: int = 8
    update_epochs: int = 3
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_reward: bool = True
    bf16: bool = True
    checkpoint_every: int = 5
    value_warmup_updates: int = 0
    """Updates at the start that train only the value head, leaving the rest of the
    network untouched (useful from a warm start, whose value head is untrained)."""
    value_warmup_lr: float = 5e-3
    """Learning rate of the value head during the warm-up (Adam moves each weight by
    about lr per step, so fitting the return scale in a few updates needs more)."""
    init_policy: str | None = None
    """Policy file to start from (e.g. a cloning run's policy.pt)."""


class RewardNormalizer:
    """Scales rewards by the running std of the discounted return (as gym's
    NormalizeReward), per env."""

    def __init__(self, num_envs: int, gamma: float, eps: float = 1e-8):
        self.gamma, self.eps = gamma, eps
        self.returns = np.zeros(num_envs)
        self.count, self.mean, self.var = 1e-4, 0.0, 1.0

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        self.returns = self.returns * self.gamma + reward
        batch_mean, batch_var, n = self.returns.mean(), self.returns.var(), len(self.returns)
        delta, total = batch_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + batch_var * n
                    + delta**2 * self.count * n / total) / total
        self.count = total
        self.returns[done] = 0.0
        return reward / np.sqrt(self.var + self.eps)

    def state_dict(self) -> dict:
        return {"returns": self.returns, "count": self.count, "mean": self.mean,
                "var": self.var}

    def load_state_dict(self, state: dict) -> None:
        self.returns, self.count = state["returns"], state["count"]
        self.mean, self.var = state["mean"], state["var"]


class _TrainingLevels:
    """Endless training mazes of random level seeds. Seed k is entry k % 64 of the
    TRAIN_LEVELS stream of block k // 64 (64 integers in [first_seed, MAX_SEED)), so the stream
    restarts exactly from the number of mazes handed out (`position`)."""

    def __init__(self, config: PPOConfig):
        self.seed, self.first_seed, self.mode = config.seed, config.first_seed, config.mode
        self.restart(0)

    def _seeds(self, start: int):
        block, offset = divmod(start, 64)
        while True:
            rng = stream(self.seed, Purpose.TRAIN_LEVELS, block)
            yield from rng.integers(self.first_seed, MAX_SEED, size=64).tolist()[offset:]
            block, offset = block + 1, 0

    def restart(self, position: int) -> None:
        self.position = position
        self._stream = maze_stream(self._seeds(position), self.mode)

    def __call__(self, _slot: int) -> Maze:
        self.position += 1
        return next(self._stream)


def train_ppo(config: PPOConfig, run_dir: Path, *, progress: bool = True,
              stop_after_updates: int | None = None) -> Policy:
    """Run (or resume) PPO into run_dir: checkpoint.pt, ppo_log.csv, and at the end
    policy.pt.

    `stop_after_updates` ends this call early (after checkpointing), as an
    interruption would; calling again resumes.
    """
    warn_if_bf16_is_emulated(config.bf16)
    run_dir.mkdir(parents=True, exist_ok=True)
    batch_size = config.num_envs * config.num_steps
    minibatch_size = batch_size // config.num_minibatches
    num_updates = config.total_steps // batch_size

    # Seeding and model.
    torch.manual_seed(config.seed)
    if config.init_policy:
        policy = load_init_policy(config.init_policy, config.scale)
    else:
        policy = Policy(config.scale)
    previous = dict(policy.metadata.get("training") or {})
    policy.metadata["training"] = {**previous, "method": previous.get("method", "ppo"),
                                   "ppo": asdict(config)}
    if previous.get("method") == "cloning":
        policy.metadata["training"]["method"] = "cloning + ppo"
    policy.to(memory_format=torch.channels_last).train()
    value_head = [p for n, p in policy.named_parameters() if n.startswith("fc_value.")]
    others = [p for n, p in policy.named_parameters() if not n.startswith("fc_value.")]
    optimizer = torch.optim.Adam([{"params": others}, {"params": value_head}], lr=config.lr,
                                 eps=1e-5)
    normalizer = RewardNormalizer(config.num_envs, config.gamma)
    counters = {"update": 0, "global_step": 0, "seconds": 0.0}

    # Environment (restored exactly when resuming).
    # The step budget may change between calls (stop early, or train on) unless the
    # learning rate is annealed over it.
    saved = load_checkpoint(run_dir, "ppo", asdict(config),
                            may_differ=() if config.anneal_lr else ("total_steps",))
    levels = _TrainingLevels(config)
    env = MazeVecEnv(config.num_envs, levels, config.mode, cheese_region=config.region,
                     seed=config.seed)
    episode_return = np.zeros(config.num_envs)
    episode_length = np.zeros(config.num_envs, dtype=int)
    next_done = torch.zeros(config.num_envs)
    if saved is not None:
        policy.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        normalizer.load_state_dict(saved["normalizer"])
        restore_rng_states(saved["rng"])
        counters = saved["counters"]
        for i, state in enumerate(saved["env"]["states"]):
            set_state(env.env, i, state)
        env.mazes = saved["env"]["mazes"]
        env.rng.bit_generator.state = saved["env"]["cheese_rng"]
        levels.restart(saved["env"]["levels_position"])
        episode_return, episode_length = saved["episodes"]["return"], saved["episodes"]["length"]
        next_done = saved["episodes"]["next_done"]

    # Storage.
    obs = torch.zeros((config.num_steps, config.num_envs, 64, 64, 3), dtype=torch.uint8)
    actions = torch.zeros((config.num_steps, config.num_envs), dtype=torch.long)
    logprobs = torch.zeros((config.num_steps, config.num_envs))
    rewards = torch.zeros((config.num_steps, config.num_envs))
    dones = torch.zeros((config.num_steps, config.num_envs))
    values = torch.zeros((config.num_steps, config.num_envs))
    next_obs = torch.from_numpy(env.observe().copy())
    log_path = run_dir / "ppo_log.csv"
    truncate_log(log_path, "update", counters["update"])
    stopped_at = counters["update"] + (stop_after_updates or num_updates)

    while counters["update"] < min(num_updates, stopped_at):
        started = time.time()
        update = counters["update"]
        lr = config.lr * (1.0 - update / num_updates) if config.anneal_lr else config.lr
        optimizer.param_groups[0]["lr"] = lr
        optimizer.param_groups[1]["lr"] = config.value_warmup_lr \
            if update < config.value_warmup_updates else lr
        finished_returns, finished_lengths = [], []

        # Rollout.
        policy.eval()
        for step in range(config.num_steps):
            obs[step], dones[step] = next_obs, next_done
            with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=config.bf16):
                logits, value = policy(preprocess(next_obs))
            dist = Categorical(logits=logits.float())
            action = dist.sample()
            actions[step], logprobs[step] = action, dist.log_prob(action)
            values[step] = value.float()
            reward, ob, first = env.step(action.numpy())
            episode_return += reward
            episode_length += 1
            for i in np.flatnonzero(first):
                finished_returns.append(episode_return[i])
                finished_lengths.append(episode_length[i])
            episode_return[first], episode_length[first] = 0.0, 0
            if config.normalize_reward:
                reward = normalizer(reward, first)
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.from_numpy(ob.copy())
            next_done = torch.as_tensor(first, dtype=torch.float32)
        counters["global_step"] += batch_size

        # Generalised advantage estimation.
        with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=config.bf16):
            next_value = policy(preprocess(next_obs))[1].float()
        advantages = torch.zeros_like(rewards)
        last_gae = torch.zeros(config.num_envs)
        for t in reversed(range(config.num_steps)):
            not_done = 1.0 - (next_done if t == config.num_steps - 1 else dones[t + 1])
            following = next_value if t == config.num_steps - 1 else values[t + 1]
            delta = rewards[t] + config.gamma * following * not_done - values[t]
            last_gae = delta + config.gamma * config.gae_lambda * not_done * last_gae
            advantages[t] = last_gae
        returns = advantages + values

        # Optimisation.
        policy.train()
        b_obs = obs.reshape(-1, 64, 64, 3)
        b_actions, b_logprobs = actions.reshape(-1), logprobs.reshape(-1)
        b_advantages, b_returns = advantages.reshape(-1), returns.reshape(-1)
        warming_up = update < config.value_warmup_updates
        stats = {"pg_loss": [], "v_loss": [], "entropy": [], "approx_kl": [], "clipfrac": []}
        for _ in range(config.update_epochs):
            order = torch.randperm(batch_size)
            for start in range(0, batch_size, minibatch_size):
                mb = order[start : start + minibatch_size]
                with torch.autocast("cpu", torch.bfloat16, enabled=config.bf16):
                    logits, new_value = policy(preprocess(b_obs[mb]))
                dist = Categorical(logits=logits.float())
                new_logprob, entropy = dist.log_prob(b_actions[mb]), dist.entropy()
                log_ratio = new_logprob - b_logprobs[mb]
                ratio = log_ratio.exp()
                adv = b_advantages[mb]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(
                    1 - config.clip_coef, 1 + config.clip_coef)).mean()
                v_loss = 0.5 * ((new_value.float() - b_returns[mb]) ** 2).mean()
                loss = config.vf_coef * v_loss if warming_up else \
                    pg_loss - config.ent_coef * entropy.mean() + config.vf_coef * v_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if warming_up:  # only the value head learns; the policy stays as it was
                    for name, parameter in policy.named_parameters():
                        if not name.startswith("fc_value."):
                            parameter.grad = None
                torch.nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
                optimizer.step()
                with torch.no_grad():
                    stats["approx_kl"].append(((ratio - 1) - log_ratio).mean().item())
                    stats["clipfrac"].append(
                        ((ratio - 1).abs() > config.clip_coef).float().mean().item())
                stats["pg_loss"].append(pg_loss.item())
                stats["v_loss"].append(v_loss.item())
                stats["entropy"].append(entropy.mean().item())

        counters["update"] += 1
        counters["seconds"] += time.time() - started
        ended = len(finished_returns)
        row = {"update": counters["update"], "steps": counters["global_step"],
               "seconds": round(counters["seconds"], 1), "episodes": ended,
               "mean_return": float(np.mean(finished_returns)) if ended else float("nan"),
               "success_rate": float(np.mean(np.array(finished_returns) > 0))
               if ended else float("nan"),
               "episode_length": float(np.mean(finished_lengths)) if ended else float("nan"),
               **{k: float(np.mean(v)) for k, v in stats.items()}}
        append_log(log_path, row)
        if progress:
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in row.items()), flush=True)
        done_all = counters["update"] >= num_updates
        if counters["update"] % config.checkpoint_every == 0 or done_all \
                or counters["update"] >= stopped_at:
            save_checkpoint({"kind": "ppo", "config": asdict(config), "counters": counters,
                             "model": policy.state_dict(), "optimizer": optimizer.state_dict(),
                             "normalizer": normalizer.state_dict(), "rng": rng_states(),
                             "env": {"states": [get_state(env.env, i) for i in range(env.num)],
                                     "mazes": env.mazes, "cheese_rng": env.rng.bit_generator.state,
                                     "levels_position": levels.position},
                             "episodes": {"return": episode_return, "length": episode_length,
                                          "next_done": next_done}}, run_dir)

    if counters["update"] < num_updates:
        return policy.eval()
    policy.metadata["training"]["ppo_steps"] = counters["global_step"]
    policy.metadata["training"]["ppo_seconds"] = counters["seconds"]
    save_policy(policy, run_dir / "policy.pt")
    return policy.eval()
