"""Episodes of a policy on many levels at once, seeded, sharded and resumable.

A maze episode is a walk on (mouse cell, sprite facing): nothing else in the picture
changes until the mouse steps on the cheese, which ends the episode with procgen's
+10 reward. So the engine does not step procgen envs: it follows procgen's move
rule (`Maze.step`; the tests check it, and every observation, against the env),
renders each (cell, facing) an episode reaches once through procgen, and reuses the
policy's logits when the episode comes back there (agents that miss the cheese
wander over the same cells for hundreds of steps). Episodes run side by side and
their new states share forward batches, run incrementally against a picture of
each maze without the mouse (`behavstats.incremental`).

Each episode is a function of (policy, level, maze edit, seed) alone: its actions are
drawn with the level's own ACTIONS stream (`behavstats.seeding`; Gumbel-max over the
15 logits; mazes without a level use their position in the list), and its cheese
re-draw with the level's CHEESE_REGION stream, so results do not depend on batching,
sharding or the number of workers (up to float rounding of batched forward passes).
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

from behavstats.engine import forward
from behavstats.env import Observer, base_picture
from behavstats.episodes import MANIFEST, load_episodes, shard_name
from behavstats.errors import UserError
from behavstats.features import features_table
from behavstats.incremental import Frames, picture_key, worthwhile
from behavstats.io import write_json, write_parquet
from behavstats.maze import Cell, Maze, MouseStates
from behavstats.maze.edits import cheese_in_top_right_region, top_right_region
from behavstats.maze.levels import LevelGenerator
from behavstats.maze.model import level_id
from behavstats.policy import MOVE_ACTION, MOVE_GROUPS, MOVE_NAMES, Policy, move_probs
from behavstats.seeding import Purpose, stream
from behavstats.vocabulary import PROCGEN_STEP_LIMIT, REACHED, TOP_RIGHT_REGION

CHEESE_REWARD = 10.0
"""procgen's reward for stepping on the cheese (the end of the episode)."""
EPISODE_COLUMNS = ("level", "steps", *REACHED)
ACTION_MOVE = {action: name for name, group in MOVE_GROUPS.items() for action in group}
"""The move (a `MOVE_NAMES` name) each of the 15 actions makes."""


@dataclass(frozen=True)
class RolloutConfig:
    """How episodes are run.

    seed: seed of the per-level action and cheese re-draw streams.
    sample: sample actions from the policy (True) or take the most probable move.
    max_steps: step limit, at most procgen's own (500).
    cheese_region: if set, the cheese is re-drawn into the top-right n x n region
        (the training distribution), per level.
    parallel_episodes: episodes run side by side (their new states share batches).
    batch: forward batch size.
    bf16: forward passes under bfloat16 autocast: faster, probabilities within
        about 1e-2, so episodes can differ from fp32 ones.
    record_path: add a `path` column (list of [x, y] cells, start included).
    """

    seed: int = 0
    mode: str = "hard"
    sample: bool = True
    max_steps: int = PROCGEN_STEP_LIMIT
    cheese_region: int | None = None
    parallel_episodes: int = 256
    batch: int = 64
    bf16: bool = False
    record_path: bool = False

    def __post_init__(self):
        if not 1 <= self.max_steps <= PROCGEN_STEP_LIMIT:
            raise ValueError(f"max_steps must be between 1 and procgen's limit "
                             f"{PROCGEN_STEP_LIMIT}, got {self.max_steps}")


def _level_mazes(levels: Sequence[int], config: RolloutConfig) -> list[Maze]:
    mazes = list(LevelGenerator(config.mode).mazes(levels))
    if config.cheese_region is None:
        return mazes
    return [cheese_in_top_right_region(m, config.cheese_region,
                                       stream(config.seed, Purpose.CHEESE_REGION, m.level))
            for m in mazes]


class _Episode:
    """A running episode: where the mouse is and faces, its path, its random stream,
    and the logits of every (cell, facing) it has met."""

    def __init__(self, index: int, maze: Maze, seed: int, observer: Observer,
                 incremental: bool):
        self.index, self.maze = index, maze
        self.base = base_picture(maze, observer) if incremental else None
        self.base_key = picture_key(self.base) if incremental else None
        self.states = MouseStates(maze)
        self.cell, self.facing = maze.mouse, maze.reflected
        self.path: list[Cell] = [maze.mouse]
        self.rng = stream(seed, Purpose.ACTIONS, level_id(maze, index))
        self.logits: dict[tuple[Cell, bool], np.ndarray] = {}

    @property
    def state(self) -> tuple[Cell, bool]:
        return self.cell, self.facing

    def act(self, action: int) -> None:
        self.cell, self.facing = self.maze.step(self.cell, self.facing, ACTION_MOVE[action])
        self.path.append(self.cell)

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    @property
    def reached_cheese(self) -> bool:
        return self.cell == self.maze.cheese


def run_episodes(policy: Policy, mazes: Sequence[Maze], config: RolloutConfig = RolloutConfig(),
                 *, progress: bool = False) -> pd.DataFrame:
    """One episode per maze; columns `EPISODE_COLUMNS` (+ `path`), in the given order.

    Each running episode steps on through (cell, facing) states whose logits it has
    until it meets a new one; then the new states of every running episode share one
    forward pass. So a pass has up to `parallel_episodes` rows, not the handful that
    turn up in any single step (agents that miss the cheese mostly revisit)."""
    observer = Observer(batch=config.batch)
    waiting = list(enumerate(mazes))[::-1]
    running: list[_Episode] = []
    results: dict[int, dict] = {}
    incremental = worthwhile(policy)
    bar = tqdm(total=len(mazes), disable=not progress, desc="episodes")
    while waiting or running:
        while waiting and len(running) < config.parallel_episodes:
            index, maze = waiting.pop()
            running.append(_Episode(index, maze, config.seed, observer, incremental))
        _evaluate_new_states(policy, running, observer, config)
        still = []
        for episode in running:
            if _step_while_known(episode, config):
                results[episode.index] = _summary(episode, config.record_path)
                bar.update(1)
            else:
                still.append(episode)
        running = still
    bar.close()
    if not results:
        return pd.DataFrame(columns=list(EPISODE_COLUMNS))
    return pd.DataFrame([results[i] for i in range(len(mazes))])


def _step_while_known(episode: _Episode, config: RolloutConfig) -> bool:
    """Step `episode` while its state's logits are known; whether it has ended."""
    while episode.state in episode.logits:
        episode.act(_choose_action(episode.logits[episode.state], episode.rng, config.sample))
        if episode.reached_cheese or episode.steps >= config.max_steps:
            return True
    return False


def _evaluate_new_states(policy: Policy, running: list[_Episode], observer: Observer,
                         config: RolloutConfig) -> None:
    """Logits of every running episode's current state it has not met before."""
    new = [episode for episode in running if episode.state not in episode.logits]
    if not new:
        return
    obs = observer.observe_states([e.states.at(e.cell, e.facing) for e in new],
                                  [e.maze.mode for e in new])
    views = obs if new[0].base is None else Frames(
        obs, np.stack([e.base for e in new]), np.arange(len(new)),
        tuple(e.base_key for e in new))
    logits = forward(policy, views, batch=config.batch, bf16=config.bf16).numpy()
    for episode, row in zip(new, logits, strict=True):
        episode.logits[episode.state] = row


def _choose_action(logits: np.ndarray, rng: np.random.Generator, sample: bool) -> int:
    """A Gumbel-max sample from the 15 logits with the episode's own stream (so a
    level's actions do not depend on the other episodes), or the most probable move."""
    if sample:
        return int(np.argmax(logits + rng.gumbel(size=len(logits))))
    move = int(move_probs(torch.from_numpy(logits[None])).argmax(dim=1)[0])
    return MOVE_ACTION[MOVE_NAMES[move]]


def _summary(episode: _Episode, record_path: bool) -> dict:
    maze, path = episode.maze, episode.path
    tr5 = set(top_right_region(maze, TOP_RIGHT_REGION, exclude_mouse=False))
    row = {"level": maze.level, "steps": episode.steps, "reached_cheese": episode.reached_cheese,
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


class GatherMismatchError(UserError):
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
    manifest_path = out_dir / MANIFEST
    if manifest_path.exists():
        found = json.loads(manifest_path.read_text())
        if found != manifest:
            differs = [k for k in manifest if found.get(k) != manifest[k]]
            raise GatherMismatchError(
                f"{out_dir} holds episodes with a different {', '.join(differs)}; use another "
                "folder or delete it")
    write_json(manifest, manifest_path)
    shards = [levels[i : i + shard_size] for i in range(0, len(levels), shard_size)]
    paths = [out_dir / shard_name(i) for i in range(len(shards))]
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

