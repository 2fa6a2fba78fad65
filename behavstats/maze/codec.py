"""Parse and write upstream procgen 0.10.7 maze state bytes (`get_state`/`set_state`).

The format is a sequence of little-endian int32/float32 fields, length-prefixed
strings and a few records, with variable-length strings (random-generator states),
so it is read field by field, never at fixed offsets. The layout is declared once
in `_LAYOUT`; `parse_state` records where each field sits so that `serialize` can
write a `Maze` back into the bytes of the level it came from.

procgen aborts the whole interpreter on malformed bytes, so everything is validated
here before any buffer can reach `set_state`.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from behavstats.maze.coords import world_to_maze
from behavstats.maze.model import CHEESE, EMPTY, N_BACKGROUNDS, WALL, Maze, MazeStateError

END_MARKER = 0xCAFECAFE
ENTITY_FORMAT = "<ffffffiiiiiifffiiiiiifiiiffffff"
ENTITY_SIZE = struct.calcsize(ENTITY_FORMAT)
ENTITY_FIELDS = (
    "x", "y", "vx", "vy", "rx", "ry", "type", "image_type", "image_theme", "render_z",
    "will_erase", "collides_with_entities", "collision_margin", "rotation", "vrot",
    "is_reflected", "fire_time", "spawn_time", "life_time", "expire_time", "use_abs_coords",
    "friction", "smart_step", "avoids_collisions", "auto_erase", "alpha", "health", "theta",
    "grow_rate", "alpha_decay", "climber_spawn_x",
)
_REFLECTED = 4 * ENTITY_FIELDS.index("is_reflected")
"""Offset of is_reflected in an entity record."""
MOUSE_TYPE = 0
GAME_NAME = b"maze"
MAX_STRING = 1 << 20
SERIALIZE_VERSION = 0
WORLD_DIM_OF_MODE = {0: 15, 1: 25}
"""procgen's distribution_mode (0 easy, 1 hard) -> the maze's world size."""
MT_WORDS = 625
"""Numbers in the text of a std::mt19937 (624 state words and the position)."""
_BOOL_FIELDS = ("paint_vel_info", "restrict_themes", "use_sequential_levels", "use_easy_jump",
                "random_agent_start")
_FIXED_FIELDS = {
    "version": SERIALIZE_VERSION,  # fassert
    "use_generated_assets": 0,  # fassert
    "center_agent": 0,  # would draw a window around the mouse, not the whole world
    "grid_step": 1,  # 0 = free physics: step counts follow the (unchecked) velocity
    "is_waiting_for_step": 0,  # 1 deadlocks the next act/observe/get_state
    "use_procgen_background": 0,  # 1 frees a static image (crash at exit)
    "use_backgrounds": 1,  # else no background is drawn, which a Maze does not record
    "use_monochrome_assets": 0,  # else sprites are drawn as coloured squares (ditto)
    "has_useful_vel_info": 0,  # else paint_vel_info draws the velocity in a corner
    "bg_tile_ratio": 0.0,  # < 0 tiles the background: a tiny ratio never finishes
    "out_of_bounds_object": WALL,  # else the mouse can leave the world and be erased
    "min_visibility": 0.0,  # else the world is drawn smaller than the observation
}
"""Fields that are the same in every maze state procgen writes, with what goes wrong
when they are not."""
_MOUSE_FIXED = {
    "type": MOUSE_TYPE, "image_type": MOUSE_TYPE, "image_theme": 0,  # abort when drawn
    "rx": 0.5, "ry": 0.5, "grow_rate": 1.0,  # a huge radius hangs collision checks
    "will_erase": 0, "auto_erase": 1, "expire_time": -1,  # the mouse would be erased
    "smart_step": 1, "render_z": 1, "use_abs_coords": 0, "collides_with_entities": 0,
    "collision_margin": 0.0, "rotation": 0.0, "vrot": 0.0, "friction": 1.0, "alpha": 1.0,
    "alpha_decay": 1.0,
}
"""The mouse entity's fields that procgen's maze never changes."""


def _ints(names: str) -> list[tuple[str, str]]:
    return [(n, "i") for n in names.split()]


def _floats(names: str) -> list[tuple[str, str]]:
    return [(n, "f") for n in names.split()]


_LAYOUT: list[tuple[str, str]] = [
    ("version", "i"),
    ("game_name", "s"),
    *_ints(
        "paint_vel_info use_generated_assets use_monochrome_assets restrict_themes "
        "use_backgrounds center_agent debug_mode distribution_mode use_sequential_levels "
        "use_easy_jump plain_assets physics_mode grid_step level_seed_low level_seed_high "
        "game_type game_n"
    ),
    ("level_seed_rand_gen", "rng"),
    ("rand_gen", "rng"),
    ("reward", "f"),
    *_ints(
        "done level_complete action timeout current_level_seed prev_level_seed "
        "episodes_remaining episode_done last_reward_timer"
    ),
    ("last_reward", "f"),
    *_ints("default_action fixed_asset_seed cur_time is_waiting_for_step grid_size"),
    ("entities", "entities"),
    *_ints("use_procgen_background background_index"),
    *_floats("bg_tile_ratio bg_pct_x char_dim"),
    *_ints("last_move_action move_action special_action"),
    *_floats("mixrate maxspeed max_jump action_vx action_vy action_vrot center_x center_y"),
    *_ints("random_agent_start has_useful_vel_info step_rand_int"),
    ("basic_abstract_rand_gen", "rng"),
    *_ints("main_width main_height out_of_bounds_object"),
    *_floats("unit view_dim x_off y_off visibility min_visibility"),
    ("grid", "grid"),
    *_ints("maze_dim world_dim"),
    ("end_marker", "u"),
]


@dataclass(frozen=True)
class ParsedState:
    """Every field of one state buffer, with the byte offset at which it starts.

    `fields` maps a name of `_LAYOUT` to its value (ints, floats, bytes for strings,
    (is_seeded, state) for random generators, a list of dicts for entities, a flat
    int32 array for the grid); `offsets` maps the same names to positions.
    """

    fields: dict
    offsets: dict[str, int]
    size: int


class _Reader:
    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise MazeStateError(
                f"state bytes end early: need {n} bytes for {what} at offset {self.pos}, "
                f"buffer has {len(self.buf)}"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> bytes:
        n = self.unpack("<i", f"length of {what}")
        if not 0 <= n <= MAX_STRING:
            raise MazeStateError(f"implausible length {n} for {what} at offset {self.pos - 4}")
        return self.take(n, what)


def _compile(layout: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Group runs of scalar fields into one struct format each (parsing speed)."""
    steps: list[tuple[str, list[str]]] = []
    for name, kind in layout:
        if kind in "ifu" and steps and steps[-1][0].startswith("<"):
            fmt, names = steps[-1]
            steps[-1] = (fmt + kind.replace("u", "I"), [*names, name])
        elif kind in "ifu":
            steps.append(("<" + kind.replace("u", "I"), [name]))
        else:
            steps.append((kind, [name]))
    return steps


_STEPS = _compile(_LAYOUT)


def parse_state(buf: bytes) -> ParsedState:
    """Read every field of a maze state buffer, validating as it goes.

    Raises MazeStateError if the buffer is not a complete, well-formed maze state.
    """
    if not isinstance(buf, bytes | bytearray | memoryview):
        raise MazeStateError(f"state must be bytes, got {type(buf).__name__}")
    r = _Reader(bytes(buf))
    fields: dict = {}
    offsets: dict[str, int] = {}
    for kind, names in _STEPS:
        name = names[0]
        offsets[name] = r.pos
        if kind.startswith("<"):
            for i, n in enumerate(names):
                offsets[n] = r.pos + 4 * i
            values = struct.unpack(kind, r.take(4 * len(names), " ".join(names)))
            fields.update(zip(names, values, strict=True))
        elif kind == "s":
            fields[name] = r.string(name)
        elif kind == "rng":
            fields[name] = (r.unpack("<i", name), r.string(name))
        elif kind == "entities":
            fields[name] = _read_entities(r)
        elif kind == "grid":
            fields[name] = _read_grid(r)
        if name == "game_name" and fields[name] != GAME_NAME:
            raise MazeStateError(f"not a maze state: game name is {fields[name]!r}")
    if fields["end_marker"] != END_MARKER:
        raise MazeStateError(
            f"end marker is {fields['end_marker']:#x}, expected {END_MARKER:#x}: "
            "the buffer is not an upstream procgen 0.10.7 maze state"
        )
    if r.pos != len(r.buf):
        raise MazeStateError(f"{len(r.buf) - r.pos} trailing bytes after the end marker")
    _check_consistency(fields)
    return ParsedState(fields=fields, offsets=offsets, size=len(r.buf))


def _read_entities(r: _Reader) -> list[dict]:
    count = r.unpack("<i", "entity count")
    if not 0 <= count <= 1024:
        raise MazeStateError(f"implausible entity count {count}")
    entities = []
    for i in range(count):
        offset = r.pos
        values = struct.unpack(ENTITY_FORMAT, r.take(ENTITY_SIZE, f"entity {i}"))
        entities.append({"offset": offset, **dict(zip(ENTITY_FIELDS, values, strict=True))})
    return entities


def _read_grid(r: _Reader) -> np.ndarray:
    w = r.unpack("<i", "grid width")
    h = r.unpack("<i", "grid height")
    n = r.unpack("<i", "grid size")
    if w <= 0 or h <= 0 or w * h != n or n > 1 << 16:
        raise MazeStateError(f"inconsistent grid header w={w} h={h} n={n}")
    codes = np.frombuffer(r.take(4 * n, "grid cells"), dtype="<i4").reshape(h, w)
    known = (codes == WALL) | (codes == EMPTY) | (codes == CHEESE)
    if not known.all():
        unknown = sorted(set(codes[~known].tolist()))
        raise MazeStateError(f"unknown maze cell codes {sorted(unknown)} in the grid")
    return codes


def _check_consistency(fields: dict) -> None:
    """Reject every well-formed buffer that procgen would still choke on.

    procgen trusts the bytes it is given. Measured consequences of single wrong values
    that the layout alone does not catch: `fassert` aborts (version, generated assets,
    an unseeded generator at the next step), uncaught C++ exceptions (background index
    or mouse image theme out of range), a division by zero at the next reset
    (level_seed_low == level_seed_high), a deadlock (is_waiting_for_step), a crash at
    exit (use_procgen_background), hangs (huge mouse radius, tiny background tile
    ratio) and a mouse that disappears. So the fields procgen's maze never changes must
    hold their values, and the others must lie in their ranges.
    """
    def bad(message: str) -> MazeStateError:
        return MazeStateError(f"{message}: the buffer is not an intact upstream procgen "
                              "0.10.7 maze state (use bytes from get_state or serialize)")

    for name, value in _FIXED_FIELDS.items():
        if fields[name] != value:
            raise bad(f"{name} is {fields[name]}, expected {value}")
    for name in _BOOL_FIELDS:
        if fields[name] not in (0, 1):
            raise bad(f"{name} is {fields[name]}, expected 0 or 1")
    mode = fields["distribution_mode"]
    if mode not in WORLD_DIM_OF_MODE:
        raise bad(f"distribution_mode is {mode}; only easy (0) and hard (1) mazes are "
                  "supported")
    for name in ("level_seed_rand_gen", "rand_gen", "basic_abstract_rand_gen"):
        seeded, text = fields[name]
        if seeded not in (0, 1) or (seeded == 0 and name != "basic_abstract_rand_gen"):
            raise bad(f"random generator {name} has is_seeded = {seeded}")
        if text.translate(None, b"0123456789 ") or text.count(b" ") != MT_WORDS - 1:
            raise bad(f"random generator {name} has a malformed state")
    if fields["level_seed_low"] >= fields["level_seed_high"]:
        raise bad(f"level seed range [{fields['level_seed_low']}, "
                  f"{fields['level_seed_high']}) is empty")
    if not 0 <= fields["background_index"] < N_BACKGROUNDS:
        raise bad(f"background_index {fields['background_index']} is not in "
                  f"[0, {N_BACKGROUNDS})")

    grid = fields["grid"]
    world_dim, maze_dim = fields["world_dim"], fields["maze_dim"]
    if world_dim != WORLD_DIM_OF_MODE[mode]:
        raise bad(f"world_dim is {world_dim} but distribution_mode {mode} has "
                  f"{WORLD_DIM_OF_MODE[mode]}")
    if grid.shape != (world_dim, world_dim):
        raise bad(f"grid is {grid.shape}, but world_dim is {world_dim}")
    sizes = (fields["main_width"], fields["main_height"], fields["grid_size"])
    if sizes != (world_dim, world_dim, world_dim * world_dim):
        raise bad(f"main_width, main_height, grid_size are {sizes} for a {world_dim}-cell "
                  "world")
    if not (1 <= maze_dim <= world_dim and maze_dim % 2 == 1):
        raise bad(f"maze_dim {maze_dim} is not an odd size within the world")
    if int((grid == CHEESE).sum()) > 1:
        raise bad("more than one cheese cell in the grid")

    entities = fields["entities"]
    mice = sum(e["type"] == MOUSE_TYPE for e in entities)
    if len(entities) != 1 or mice != 1:
        raise bad(f"expected exactly one entity, the mouse; found {len(entities)} "
                  f"entities of which {mice} mice")
    mouse = entities[0]
    for name, value in _MOUSE_FIXED.items():
        if mouse[name] != value:
            raise bad(f"the mouse's {name} is {mouse[name]}, expected {value}")
    if not all(math.isfinite(mouse[k]) and 0 <= mouse[k] < world_dim for k in ("x", "y")):
        raise bad(f"the mouse at ({mouse['x']}, {mouse['y']}) is outside the "
                  f"{world_dim}-cell world")
    if mouse["is_reflected"] not in (0, 1):
        raise bad(f"the mouse's is_reflected is {mouse['is_reflected']}, expected 0 or 1")


def _mouse(parsed: ParsedState) -> dict:
    return next(e for e in parsed.fields["entities"] if e["type"] == MOUSE_TYPE)


def parse(buf: bytes, *, level: int | None = None, mode: str | None = None) -> Maze:
    """State bytes -> Maze (raises MazeStateError on anything malformed, or when `mode`
    is given and differs from the state's distribution mode). `level` defaults to the
    state's current level seed."""
    parsed = parse_state(buf)
    f = parsed.fields
    mouse = _mouse(parsed)
    grid = f["grid"]
    world_dim, maze_dim = f["world_dim"], f["maze_dim"]
    cheese_cells = np.argwhere(grid == CHEESE)
    wx, wy = int(mouse["x"]), int(mouse["y"])
    cheese = None
    if len(cheese_cells):
        cy, cx = cheese_cells[0]
        cheese = world_to_maze(int(cx), int(cy), maze_dim, world_dim)
    state_mode = "hard" if f["distribution_mode"] == 1 else "easy"
    if mode is not None and mode != state_mode:
        raise MazeStateError(f"mode {mode!r} was asked for, but the state is a {state_mode} "
                             "maze: pass mode=None to take it from the state")
    mode = state_mode
    return Maze(
        free=grid != WALL,
        maze_dim=maze_dim,
        cheese=cheese,
        mouse=world_to_maze(wx, wy, maze_dim, world_dim),
        level=f["current_level_seed"] if level is None else level,
        mode=mode,
        background_index=f["background_index"],
        reflected=bool(mouse["is_reflected"]),
        source_state=bytes(buf),
    )


class ValidState(bytes):
    """State bytes made by this module from a validated maze (`serialize`,
    `MouseStates.at`): safe to give procgen without parsing them again."""


def ensure_valid(state: bytes) -> bytes:
    """`state` if it is a ValidState; otherwise parse it first (MazeStateError if bad)."""
    if not isinstance(state, ValidState):
        parse_state(state)
    return state


def serialize(maze: Maze, original: bytes | None = None, *, check_path: bool = False
              ) -> ValidState:
    """Write `maze` into the state bytes of the level it was made from.

    Grid cells, the mouse's position and facing and the background come from `maze`;
    every other field (random generators, timers) stays as in `original`. Refuses, with
    MazeStateError, a maze that procgen must not see: different world size, mouse or
    cheese off the grid or on a wall, and (if `check_path`) no path from the mouse to
    the cheese. `original` defaults to the maze's own `source_state`.
    """
    original = maze.source_state if original is None else original
    if original is None:
        raise MazeStateError("this maze has no source state bytes: pass the level's original bytes")
    parsed = parse_state(original)
    if parsed.fields["world_dim"] != maze.world_dim or parsed.fields["maze_dim"] != maze.maze_dim:
        raise MazeStateError(
            f"maze is {maze.maze_dim}/{maze.world_dim} (maze/world) but the original state is "
            f"{parsed.fields['maze_dim']}/{parsed.fields['world_dim']}: serialize into the "
            "bytes of the same level"
        )
    maze.validate(check_path=check_path)
    out = bytearray(original)
    codes = maze.cell_codes().astype("<i4")
    grid_start = parsed.offsets["grid"] + 12
    out[grid_start : grid_start + codes.nbytes] = codes.tobytes()
    mouse_offset = _mouse(parsed)["offset"]
    wx, wy = maze.world_cell(maze.mouse)
    struct.pack_into("<ff", out, mouse_offset, wx + 0.5, wy + 0.5)
    struct.pack_into("<i", out, mouse_offset + _REFLECTED, int(maze.reflected))
    struct.pack_into("<i", out, parsed.offsets["background_index"], maze.background_index)
    return ValidState(out)


class MouseStates:
    """State bytes of one maze with the mouse put on any free cell.

    Serializes and parses the maze once, then only patches the mouse entity, which
    makes the thousands of observations of vector fields and cloning data cheap.
    `reflected` sets the mouse sprite's mirroring (None keeps the maze's).
    """

    def __init__(self, maze: Maze):
        self.maze = maze
        self._base = serialize(maze)
        self._mouse_offset = _mouse(parse_state(self._base))["offset"]

    def at(self, cell: tuple[int, int], reflected: bool | None = None) -> ValidState:
        if not self.maze.is_free(cell):
            raise MazeStateError(f"cannot put the mouse at {cell}: it is a wall or off the grid")
        out = bytearray(self._base)
        wx, wy = self.maze.world_cell(cell)
        struct.pack_into("<ff", out, self._mouse_offset, wx + 0.5, wy + 0.5)
        if reflected is not None:
            struct.pack_into("<i", out, self._mouse_offset + _REFLECTED, int(reflected))
        return ValidState(out)
