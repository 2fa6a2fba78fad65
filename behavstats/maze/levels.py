"""Mazes of procgen level seeds, generated in batches through one reused env.

Creating a procgen env per seed costs about 0.14 s. Instead a batch of envs is
pointed at each seed by writing `level_seed_low/high` into its state with the
episode at its time limit; one NOOP step then makes procgen reset into exactly
that level (same grid, cheese and background as a fresh env with start_level=seed,
which the tests check).
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Iterable, Iterator

import numpy as np
from tqdm.auto import tqdm

from behavstats.errors import UserError
from behavstats.levelspec import check_seeds
from behavstats.maze.codec import ParsedState, parse, parse_state
from behavstats.maze.model import Maze
from behavstats.vocabulary import WORLD_DIMS

# procgen imports gym, which prints a notice about gym being unmaintained to stderr on
# import; procgen's envs do not use gym, so our users do not need it.
with contextlib.redirect_stderr(io.StringIO()):
    from procgen import ProcgenGym3Env

NOOP = 4
BATCH = 64
_MAX_STATE = 2**20


def check_mode(mode: str) -> str:
    if mode not in WORLD_DIMS:
        raise UserError(f"mode must be one of {sorted(WORLD_DIMS)}, got {mode!r}")
    return mode


def make_env(num: int, mode: str, start_level: int = 0, num_levels: int = 0
             ) -> ProcgenGym3Env:
    """A procgen maze env in the given distribution mode.

    Its `libenv_close` binding is made at once. cffi makes a library's bindings on
    first use, under one lock shared by every env; an env that the garbage collector
    frees while another env is being built (inside that lock) would otherwise wait
    for the lock in its `close()` forever: a hung process (seen in a test run)."""
    env = ProcgenGym3Env(
        num=num, env_name="maze", start_level=start_level, num_levels=num_levels,
        distribution_mode=check_mode(mode),
    )
    env._c_lib.libenv_close  # noqa: B018 (the binding is made by the lookup)
    return env


def get_state(env: ProcgenGym3Env, index: int) -> bytes:
    """State bytes of one env of a vectorized env."""
    buf = env._ffi.new("char[]", _MAX_STATE)
    n = env.call_c_func("get_state", index, buf, _MAX_STATE)
    return bytes(env._ffi.buffer(buf, n))


def set_state(env: ProcgenGym3Env, index: int, state: bytes) -> None:
    """Set the state of one env (the caller has validated `state`)."""
    env.call_c_func("set_state", index, state, len(state))


def _seed_state(template: bytes, parsed: ParsedState, seed: int) -> bytes:
    """A copy of `template` (parsed as `parsed`) that resets into level `seed` on the
    next step."""
    out = bytearray(template)
    timeout = parsed.fields["timeout"]
    for name, value in (("level_seed_low", seed), ("level_seed_high", seed + 1),
                        ("cur_time", timeout - 1), ("episodes_remaining", 0)):
        struct.pack_into("<i", out, parsed.offsets[name], value)
    return bytes(out)


class LevelGenerator:
    """Reusable generator of level states and mazes for one distribution mode."""

    def __init__(self, mode: str = "hard", batch: int = BATCH):
        self.mode = check_mode(mode)
        self.batch = batch
        self._env: ProcgenGym3Env | None = None

    def _environment(self) -> ProcgenGym3Env:
        if self._env is None:
            self._env = make_env(self.batch, self.mode)
        return self._env

    def states(self, seeds: Iterable[int]) -> Iterator[bytes]:
        """Start-of-episode state bytes of each level seed, in order."""
        env = self._environment()
        seeds = check_seeds(seeds)
        template = get_state(env, 0)
        parsed = parse_state(template)
        for start in range(0, len(seeds), self.batch):
            chunk = seeds[start : start + self.batch]
            for i in range(self.batch):
                set_state(env, i, _seed_state(template, parsed, chunk[min(i, len(chunk) - 1)]))
            env.act(np.full(self.batch, NOOP, dtype=np.int32))
            yield from env.get_state()[: len(chunk)]

    def mazes(self, seeds: Iterable[int], *, progress: bool = False) -> Iterator[Maze]:
        """The Maze of each level seed, in order."""
        seeds = list(seeds)
        states = self.states(seeds)
        for seed, state in tqdm(zip(seeds, states, strict=True), total=len(seeds),
                                disable=not progress, desc=f"levels ({self.mode})"):
            yield parse(state, level=seed, mode=self.mode)


def maze_for_level(seed: int, mode: str = "hard") -> Maze:
    """The Maze of one level seed (for many seeds use `LevelGenerator.mazes`)."""
    return next(LevelGenerator(mode, batch=1).mazes([seed]))
