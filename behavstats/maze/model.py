"""The immutable `Maze`: a procgen maze level as plain data.

Cells are maze-frame (x, y) tuples (see `behavstats.maze.coords`). The grid of
free cells covers the whole world (the maze plus its wall margin), so edits such
as a corridor to the world's top-right can open cells outside the maze proper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from behavstats.errors import UserError
from behavstats.maze.coords import margin, maze_to_world
from behavstats.vocabulary import WORLD_DIMS  # noqa: F401  (its old home)

WALL, EMPTY, CHEESE = 51, 100, 2
"""procgen's maze grid codes."""

Cell = tuple[int, int]
MOVES: dict[str, Cell] = {"LEFT": (-1, 0), "DOWN": (0, -1), "UP": (0, 1), "RIGHT": (1, 0)}
"""Maze-frame displacement of each move (y grows upwards)."""
MOVE_NAMES = ("LEFT", "DOWN", "NOOP", "UP", "RIGHT")
"""The policy's five moves, in the order of its move probabilities (`MOVES` keeps it)."""

N_BACKGROUNDS = 9
"""procgen's topdown_backgrounds, the maze's background images."""


class MazeStateError(UserError):
    """State bytes or a maze that procgen must not be given (it would abort the process)."""


@dataclass(frozen=True, eq=False)
class Maze:
    """One maze level.

    free: bool array (world_dim, world_dim), indexed [wy, wx] with wy from the bottom
        (procgen's grid order); True where the mouse may walk. Read-only.
    maze_dim: side of the maze proper (odd), centred in the world.
    cheese: maze-frame cell of the cheese, or None when removed.
    mouse: maze-frame cell of the mouse.
    level: the level seed it came from, for bookkeeping.
    mode: "hard" or "easy" (procgen's distribution mode).
    background_index: procgen's background image (one of 9).
    reflected: the mouse sprite is mirrored, i.e. faces right (procgen's is_reflected).
    source_state: the state bytes of the level this maze was parsed from (edits keep
        them), which procgen needs to show the maze; None for hand-built mazes.

    Identity (`==`, `hash`) is everything procgen draws, so that caches keyed by a maze
    (observations, activations) are right: the free cells, world and maze size, mode,
    cheese, mouse cell and facing, and background. `serialize` writes all of these into
    the state bytes; every other field of them draws nothing in the maze (the codec
    fixes the display options; the backgrounds are square, so bg_pct_x shifts nothing).
    `level` and `source_state` are not part of it: two levels that draw the same
    picture are the same maze to a policy, and per-level results are labelled by the
    caller's list of levels, never looked up by maze.
    """

    free: np.ndarray
    maze_dim: int
    cheese: Cell | None
    mouse: Cell
    level: int | None = None
    mode: str = "hard"
    background_index: int = 0
    reflected: bool = False
    source_state: bytes | None = field(default=None, repr=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        free = np.array(self.free, dtype=bool)
        if free.ndim != 2 or free.shape[0] != free.shape[1]:
            raise MazeStateError(f"free-cell grid must be square, got shape {free.shape}")
        maze_dim = int(self.maze_dim)
        if not 1 <= maze_dim <= free.shape[0] or (free.shape[0] - maze_dim) % 2:
            raise MazeStateError(
                f"maze_dim {maze_dim} cannot be centred in a {free.shape[0]}-cell world: it "
                "must be at most the world size and differ from it by an even number")
        free.flags.writeable = False
        object.__setattr__(self, "free", free)
        object.__setattr__(self, "maze_dim", maze_dim)
        object.__setattr__(self, "mouse", (int(self.mouse[0]), int(self.mouse[1])))
        if self.cheese is not None:
            object.__setattr__(self, "cheese", (int(self.cheese[0]), int(self.cheese[1])))
        object.__setattr__(self, "background_index", int(self.background_index))
        object.__setattr__(self, "reflected", bool(self.reflected))
        drawn = (free.shape, self.maze_dim, self.mode, self.cheese, self.mouse,
                 self.background_index, self.reflected)
        key = free.tobytes() + repr(drawn).encode()
        object.__setattr__(self, "_key", key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Maze) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    @property
    def world_dim(self) -> int:
        return self.free.shape[0]

    @property
    def top_right(self) -> Cell:
        """The maze's top-right cell (always free in a procgen maze)."""
        return (self.maze_dim - 1, self.maze_dim - 1)

    @property
    def start(self) -> Cell:
        """Where procgen puts the mouse: the maze's bottom-left cell."""
        return (0, 0)

    def world_cell(self, cell: Cell) -> Cell:
        return maze_to_world(cell[0], cell[1], self.maze_dim, self.world_dim)

    def in_world(self, cell: Cell) -> bool:
        wx, wy = self.world_cell(cell)
        return 0 <= wx < self.world_dim and 0 <= wy < self.world_dim

    def is_free(self, cell: Cell) -> bool:
        if not self.in_world(cell):
            return False
        wx, wy = self.world_cell(cell)
        return bool(self.free[wy, wx])

    def free_cells(self) -> list[Cell]:
        """Every free cell in maze-frame coordinates, sorted by (x, y)."""
        wys, wxs = np.nonzero(self.free.T)
        m = margin(self.maze_dim, self.world_dim)
        return list(zip((wys - m).tolist(), (wxs - m).tolist(), strict=True))

    def step(self, cell: Cell, facing_right: bool, move: str) -> tuple[Cell, bool]:
        """Where procgen puts the mouse after `move` (a `MOVES` name or NOOP), and which
        way its sprite then faces (procgen's is_reflected): one cell in the move's
        direction unless a wall is there; LEFT turns it to face left and RIGHT to face
        right whether or not it moved, other moves keep the facing."""
        dx, dy = MOVES.get(move, (0, 0))
        target = (cell[0] + dx, cell[1] + dy)
        return (target if self.is_free(target) else cell), \
            (facing_right if dx == 0 else dx > 0)

    def cell_codes(self) -> np.ndarray:
        """procgen grid codes (world_dim, world_dim), [wy, wx], wy from the bottom."""
        codes = np.where(self.free, EMPTY, WALL).astype(np.int32)
        if self.cheese is not None:
            wx, wy = self.world_cell(self.cheese)
            codes[wy, wx] = CHEESE
        return codes

    def validate(self, *, check_path: bool = False) -> None:
        """Raise MazeStateError unless procgen can safely be given this maze."""
        if not 0 <= self.background_index < N_BACKGROUNDS:
            raise MazeStateError(f"background_index {self.background_index} is not in "
                                 f"[0, {N_BACKGROUNDS})")
        for name, cell in (("mouse", self.mouse), ("cheese", self.cheese)):
            if cell is None:
                continue
            if not self.in_world(cell):
                raise MazeStateError(f"{name} at {cell} is outside the {self.world_dim}-cell world")
            if not self.is_free(cell):
                raise MazeStateError(f"{name} at {cell} is on a wall")
        if check_path and self.cheese is not None and not self._connected(self.mouse,
                                                                            self.cheese):
            raise MazeStateError(f"no path from the mouse at {self.mouse} to the cheese "
                                 f"at {self.cheese}")

    def _connected(self, a: Cell, b: Cell) -> bool:
        """Whether free cells `a` and `b` lie in one 4-connected region of free cells:
        the check `validate` needs, without the graph of `behavstats.geometry`, which
        builds on this module (use its `reachable` elsewhere)."""
        from scipy import ndimage

        regions, _ = ndimage.label(self.free)  # 4-neighbours by default
        (ax, ay), (bx, by) = self.world_cell(a), self.world_cell(b)
        return regions[ay, ax] == regions[by, bx] != 0


def level_id(maze: Maze, position: int) -> int:
    """The maze's level seed, or its `position` among the levels given when it has none
    (a hand-built maze): the key of its per-level results and random streams."""
    return int(maze.level) if maze.level is not None else position
