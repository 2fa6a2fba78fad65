"""The bridge to procgen: observations of arbitrary mazes, and a vectorized env that
starts its episodes from chosen mazes.

procgen is the one source of observations: every picture the policy sees is drawn by
procgen from state bytes written by `behavstats.maze.serialize` (which validates them,
since procgen aborts the process on malformed bytes).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from behavstats.incremental import Frames
from behavstats.maze import Cell, Maze, MouseStates, parse, serialize
from behavstats.maze.codec import ensure_valid
from behavstats.maze.edits import cheese_in_top_right_region
from behavstats.maze.levels import (
    BATCH,
    LevelGenerator,
    ProcgenGym3Env,
    get_state,
    make_env,
    set_state,
)
from behavstats.seeding import Purpose, stream


class Observer:
    """Renders mazes through procgen, reusing one env per mode.

    `observe(mazes)` returns uint8 images (N, 64, 64, 3), in the order given; mazes
    of both modes may be mixed.
    """

    def __init__(self, batch: int = BATCH):
        self.batch = batch
        self._envs: dict[str, ProcgenGym3Env] = {}

    def _env(self, mode: str) -> ProcgenGym3Env:
        if mode not in self._envs:
            self._envs[mode] = make_env(self.batch, mode)
        return self._envs[mode]

    def observe(self, mazes: Sequence[Maze]) -> np.ndarray:
        return self.observe_states([serialize(m) for m in mazes], [m.mode for m in mazes])

    def observe_states(self, states: Sequence[bytes], modes: str | Sequence[str]) -> np.ndarray:
        """Observations of state bytes; `modes` is one mode for all or one per state.
        Bytes not made by `serialize` / `MouseStates` are parsed first, so malformed
        ones raise MazeStateError instead of reaching (and aborting) procgen."""
        modes = [modes] * len(states) if isinstance(modes, str) else list(modes)
        out = np.empty((len(states), 64, 64, 3), dtype=np.uint8)
        by_mode: dict[str, list[int]] = {}
        for i, mode in enumerate(modes):
            by_mode.setdefault(mode, []).append(i)
        for mode, indices in by_mode.items():
            env = self._env(mode)
            for start in range(0, len(indices), self.batch):
                chunk = indices[start : start + self.batch]
                for slot, i in enumerate(chunk):
                    set_state(env, slot, ensure_valid(states[i]))
                _, ob, _ = env.observe()
                out[chunk] = ob["rgb"][: len(chunk)]
        return out


def observe(mazes: Sequence[Maze]) -> np.ndarray:
    """Observations (N, 64, 64, 3) uint8 of the given mazes (one-off; reuse an
    `Observer` for repeated calls)."""
    return Observer(batch=min(BATCH, max(1, len(mazes)))).observe(mazes)


def render(pairs: Sequence[tuple[Maze, Cell]], observer: Observer | None = None,
           reflected: Sequence[bool | None] | None = None) -> np.ndarray:
    """Observations (N, 64, 64, 3) uint8 of each maze with the mouse on the paired cell;
    `reflected` sets the mouse sprite's facing per pair (None: the level's)."""
    observer = observer or Observer()
    states: dict[Maze, MouseStates] = {}
    buffers = []
    for i, (maze, cell) in enumerate(pairs):
        if maze not in states:
            states[maze] = MouseStates(maze)
        buffers.append(states[maze].at(cell, None if reflected is None else reflected[i]))
    if not buffers:
        return np.empty((0, 64, 64, 3), dtype=np.uint8)
    return observer.observe_states(buffers, [maze.mode for maze, _ in pairs])


def base_picture(maze: Maze, observer: Observer | None = None) -> np.ndarray:
    """The maze without the mouse (64, 64, 3) uint8: the pixel-wise majority of three
    renders with the mouse on free cells far apart (each pixel shows the mouse in at
    most one of them). The base of incremental forward passes (`Frames`)."""
    cells = [c for c in maze.free_cells() if c != maze.cheese] or [maze.mouse]

    def apart(cell, chosen):
        return min(max(abs(cell[0] - c[0]), abs(cell[1] - c[1])) for c in chosen)

    chosen = [cells[0]]
    while len(chosen) < 3:
        chosen.append(max(cells, key=lambda c: apart(c, chosen)))
    a, b, c = render([(maze, cell) for cell in chosen], observer)
    return np.where(a == b, a, c)


def frames(pairs: Sequence[tuple[Maze, Cell]], observer: Observer | None = None,
           reflected: Sequence[bool | None] | None = None) -> Frames:
    """`render`'s observations as `Frames` (each with its maze's `base_picture`), which
    the forward engine runs incrementally."""
    observer = observer or Observer()
    owner: dict[Maze, int] = {}
    for maze, _ in pairs:
        owner.setdefault(maze, len(owner))
    bases = [base_picture(maze, observer) for maze in owner]
    return Frames(render(pairs, observer, reflected),
                  np.stack(bases) if bases else np.empty((0, 64, 64, 3), np.uint8),
                  np.array([owner[maze] for maze, _ in pairs], dtype=int))


MazeSource = Callable[[int], Maze]
"""Called with a slot index; returns the maze of that slot's next episode."""


class MazeVecEnv:
    """A vectorized procgen maze env whose episodes start from mazes we choose.

    Each of the `num` slots draws its next maze from `next_maze(slot)` whenever an
    episode ends (and at construction). With `cheese_region=n`, the cheese of every
    new episode is re-drawn uniformly into the maze's top-right n x n region (the
    `rand_region` training distribution), using `seed`.

    `step(actions)` returns (reward, obs, first) like gym3: `first[i]` is True when
    slot i has just started a new episode (its obs is that episode's first frame and
    its reward is the last reward of the episode that ended).
    """

    def __init__(self, num: int, next_maze: MazeSource, mode: str = "hard",
                 cheese_region: int | None = None, seed: int = 0):
        self.num = num
        self.mode = mode
        self.next_maze = next_maze
        self.cheese_region = cheese_region
        self.rng = stream(seed, Purpose.TRAIN_CHEESE)
        self.env = make_env(num, mode)
        self.mazes: list[Maze] = [self._start(i) for i in range(num)]

    def restart(self, slot: int) -> Maze:
        """End slot's episode now and start its next maze (e.g. at a step limit)."""
        self.mazes[slot] = self._start(slot)
        return self.mazes[slot]

    def _start(self, slot: int) -> Maze:
        maze = self.next_maze(slot)
        if maze.mode != self.mode:
            raise ValueError(f"maze of level {maze.level} is {maze.mode}, env is {self.mode}")
        if self.cheese_region is not None:
            maze = cheese_in_top_right_region(maze, self.cheese_region, self.rng)
        set_state(self.env, slot, serialize(maze))
        return maze

    def observe(self) -> np.ndarray:
        """Current observations (num, 64, 64, 3) uint8."""
        return self.env.observe()[1]["rgb"]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.env.act(np.asarray(actions, dtype=np.int32))
        reward, _, first = self.env.observe()
        reward, first = reward.copy(), first.copy()
        for slot in np.flatnonzero(first):
            self.mazes[slot] = self._start(int(slot))
        return reward, self.observe(), first

    def mouse_cells(self) -> list[tuple[int, int]]:
        """Maze-frame cell of each slot's mouse (read from the env's state)."""
        return [parse(get_state(self.env, i)).mouse for i in range(self.num)]


def maze_stream(seeds: Iterable[int], mode: str = "hard") -> Iterator[Maze]:
    """Mazes of a (possibly endless) stream of level seeds, generated a batch at a time."""
    generator = LevelGenerator(mode)
    seeds = iter(seeds)
    while chunk := list(itertools.islice(seeds, generator.batch)):
        yield from generator.mazes(chunk)


def levels_source(seeds: Iterable[int], mode: str = "hard") -> MazeSource:
    """A `next_maze` that walks through the given level seeds, then cycles."""
    stream = maze_stream(itertools.cycle(list(seeds)), mode)
    return lambda _slot: next(stream)
