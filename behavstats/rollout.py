"""Episodes of a policy on many levels at once, seeded, sharded and resumable.

Each episode is a function of (policy, level, maze edit, seed) alone: its actions are
drawn with the level's own random stream (`default_rng([seed, level])`, Gumbel-max
over the 15 logits; mazes without a level use their position in the list), so
results do not depend on batching, sharding or the number of workers (up to float
rounding of batched forward passes).

The mouse's path is followed from the actions with procgen's own rule (one cell per
step, diagonals move horizontally, walls block), which the tests check against the
env's state; "reached the cheese" comes from the +10 reward.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from behavstats.env import MazeVecEnv
from behavstats.features import features_table
from behavstats.io import write_json, write_parquet
from behavstats.maze import MOVES, Maze
from behavstats.maze.edits import cheese_in_top_right_region, top_right_region
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import (
    MOVE_ACTION,
    MOVE_GROUPS,
    MOVE_NAMES,
    Policy,
    inference,
    move_probs,
    preprocess,
)

CHEESE_REWARD = 10.0
EPISODE_COLUMNS = ("level", "steps", "reached_cheese", "reached_top_right", "reached_tr5")
_ACTION_DELTA = {a: MOVES.get(name, (0, 0)) for name, group in MOVE_GROUPS.items()
                 for a in group}


@dataclass(frozen=True)
class RolloutConfig:
    """How episodes are run.

    seed: seed of the per-level action streams (and of cheese re-draws).
    sample: sample actions from the policy (True) or take the most probable move.
    max_steps: step limit (procgen's own is 500).
    cheese_region: if set, the cheese is re-drawn into the top-right n x n region
        (the training distribution), per level with default_rng([seed, level]).
    num_envs: episodes run side by side (forward batch size).
    record_path: add a `path` column (list of [x, y] cells, start included).
    """

    seed: int = 0
    mode: str = "hard"
    sample: bool = True
    max_steps: int = 500
    cheese_region: int | None = None
    num_envs: int = 64
    record_path: bool = False


def next_cell(maze: Maze, cell: tuple[int, int], action: int) -> tuple[int, int]:
    """Where procgen's maze moves the mouse: one cell in the action's direction
    (diagonals move horizontally, button actions stay) unless a wall is there."""
    dx, dy = _ACTION_DELTA[action]
    target = (cell[0] + dx, cell[1] + dy)
    return target if maze.is_free(target) else cell


def _level_mazes(levels: Sequence[int], config: RolloutConfig) -> list[Maze]:
    mazes = list(LevelGenerator(config.mode).mazes(levels))
    if config.cheese_region is None:
        return mazes
    return [cheese_in_top_right_region(m, config.cheese_region,
                                       np.random.default_rng([config.seed, m.level]))
            for m in mazes]


def run_episodes(policy: Policy, mazes: Sequence[Maze], config: RolloutConfig = RolloutConfig(),
                 *, progress: bool = False) -> pd.DataFrame:
    """One episode per maze; columns `EPISODE_COLUMNS` (+ `path`), in the given order."""
    if not mazes:
        return pd.DataFrame(columns=list(EPISODE_COLUMNS))
    queue = list(range(len(mazes)))[::-1]
    num = min(config.num_envs, len(mazes))
    slot_episode: list[int | None] = [None] * num
    results: dict[int, dict] = {}
    rngs: dict[int, np.random.Generator] = {}
    position, paths, steps = {}, {}, {}

    def next_maze(slot: int) -> Maze:
        """Start the next episode in `slot` (an idle slot replays maze 0 unrecorded)."""
        if not queue:
            slot_episode[slot] = None
            return mazes[0]
        episode = queue.pop()
        slot_episode[slot] = episode
        maze = mazes[episode]
        stream = episode if maze.level is None else maze.level
        rngs[episode] = np.random.default_rng([config.seed, stream])
        position[episode], paths[episode], steps[episode] = maze.mouse, [maze.mouse], 0
        return maze

    env = MazeVecEnv(num, next_maze, config.mode)
    bar = tqdm(total=len(mazes), disable=not progress, desc="episodes")
    with inference(policy):
        while any(e is not None for e in slot_episode):
            logits = policy(preprocess(env.observe()))[0].float()
            actions = np.full(num, MOVE_ACTION["NOOP"], dtype=np.int32)
            active = [(s, e) for s, e in enumerate(slot_episode) if e is not None]
            for slot, episode in active:
                if config.sample:
                    gumbel = torch.from_numpy(rngs[episode].gumbel(size=logits.shape[1]))
                    actions[slot] = int(torch.argmax(logits[slot] + gumbel))
                else:
                    move = int(torch.argmax(move_probs(logits[slot : slot + 1])[0]))
                    actions[slot] = MOVE_ACTION[MOVE_NAMES[move]]
            for slot, episode in active:
                position[episode] = next_cell(mazes[episode], position[episode],
                                              int(actions[slot]))
                paths[episode].append(position[episode])
                steps[episode] += 1
            reward, _, first = env.step(actions)
            for slot, episode in active:
                if first[slot] or steps[episode] >= config.max_steps:
                    reached = bool(first[slot]) and reward[slot] >= CHEESE_REWARD
                    results[episode] = _summary(mazes[episode], steps[episode], reached,
                                                paths[episode], config.record_path)
                    bar.update(1)
                    if not first[slot]:
                        env.restart(slot)
    bar.close()
    return pd.DataFrame([results[i] for i in range(len(mazes))])


def _summary(maze: Maze, steps: int, reached_cheese: bool, path: list, record_path: bool
             ) -> dict:
    tr5 = set(top_right_region(maze, 5, exclude_mouse=False))
    row = {"level": maze.level, "steps": steps, "reached_cheese": reached_cheese,
           "reached_top_right": maze.top_right in path,
           "reached_tr5": any(cell in tr5 for cell in path)}
    if record_path:
        row["path"] = [list(c) for c in path]
    return row


def level_episodes(policy: Policy, levels: Sequence[int], config: RolloutConfig = RolloutConfig(),
                   *, progress: bool = False) -> pd.DataFrame:
    """Episodes of procgen levels joined with their maze features (`features_table`
    columns; with `cheese_region`, the features of the edited mazes)."""
    mazes = _level_mazes(levels, config)
    episodes = run_episodes(policy, mazes, config, progress=progress)
    feats = features_table(mazes).drop(columns=["level"])
    return pd.concat([episodes.reset_index(drop=True), feats], axis=1)


def _shard_task(state: dict, scale: int, levels: list[int], config: RolloutConfig
                ) -> pd.DataFrame:
    """Worker side of `gather`: rebuild the policy from its weights and run a shard."""
    torch.set_num_threads(1)
    policy = Policy(scale)
    policy.load_state_dict(state)
    return level_episodes(policy.to(memory_format=torch.channels_last), levels, config)


def policy_fingerprint(policy: Policy) -> str:
    """Short hash of the weights, to tell whether saved episodes belong to this policy."""
    digest = hashlib.sha256()
    for name, tensor in sorted(policy.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().float().numpy().tobytes())
    return digest.hexdigest()[:16]


class GatherMismatchError(ValueError):
    """An output folder holding episodes of another policy, config or level list."""


def gather(policy: Policy, levels: Sequence[int], out_dir: str | Path,
           config: RolloutConfig = RolloutConfig(), *, shard_size: int = 500,
           executor: Executor | None = None, progress: bool = False) -> pd.DataFrame:
    """Episodes of many levels, written as parquet shards to out_dir, and returned.

    Shards are written atomically as they finish (out_dir/shard-00000.parquet, ...),
    with out_dir/manifest.json describing policy, config and levels. Calling again
    on the same folder resumes: finished shards are read, not recomputed. A folder
    of another policy/config/level list raises GatherMismatchError. With an
    `executor` (e.g. ProcessPoolExecutor, or dask's `Client(...).get_executor()`)
    shards run in parallel; results are the same as without one.
    """
    out_dir = Path(out_dir)
    levels = [int(level) for level in levels]
    manifest = {"policy": policy_fingerprint(policy), "config": asdict(config),
                "levels": levels, "shard_size": shard_size}
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists():
        found = json.loads(manifest_path.read_text())
        if found != manifest:
            differs = [k for k in manifest if found.get(k) != manifest[k]]
            raise GatherMismatchError(
                f"{out_dir} holds episodes with a different {', '.join(differs)}; use another "
                "folder or delete it")
    write_json(manifest, manifest_path)
    shards = [levels[i : i + shard_size] for i in range(0, len(levels), shard_size)]
    paths = [out_dir / f"shard-{i:05d}.parquet" for i in range(len(shards))]
    todo = [i for i, path in enumerate(paths) if not _valid_shard(path, shards[i])]
    bar = tqdm(total=len(levels), initial=len(levels) - sum(len(shards[i]) for i in todo),
               disable=not progress, desc="episodes", unit="level")
    if executor is None:
        for i in todo:
            write_parquet(level_episodes(policy, shards[i], config), paths[i])
            bar.update(len(shards[i]))
    else:
        state = {k: v.detach().cpu() for k, v in policy.state_dict().items()}
        futures = {executor.submit(_shard_task, state, policy.scale, shards[i], config): i
                   for i in todo}
        for future in as_completed(futures):
            i = futures[future]
            write_parquet(future.result(), paths[i])
            bar.update(len(shards[i]))
    bar.close()
    return load_episodes(out_dir)


def _valid_shard(path: Path, levels: list[int]) -> bool:
    if not path.exists():
        return False
    try:
        table = pd.read_parquet(path, columns=["level"])
    except Exception:
        return False
    return table["level"].tolist() == levels


def load_episodes(out_dir: str | Path) -> pd.DataFrame:
    """All shards of a gather folder as one table, in level order of the manifest."""
    paths = sorted(Path(out_dir).glob("shard-*.parquet"))
    if not paths:
        raise FileNotFoundError(f"no episode shards in {out_dir}")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
