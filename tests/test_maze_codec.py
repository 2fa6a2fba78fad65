"""The procgen state codec against real procgen state bytes: byte-identical round trips,
rejection of every malformed buffer, and proof that whatever the parser accepts cannot
take the interpreter down (procgen aborts the process on bad bytes)."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from behavstats.maze.codec import (
    END_MARKER,
    ENTITY_FIELDS,
    ENTITY_FORMAT,
    ENTITY_SIZE,
    parse,
    parse_state,
    serialize,
)
from behavstats.maze.edits import move_cheese, move_mouse
from behavstats.maze.model import CHEESE, EMPTY, WALL, Maze, MazeStateError

MODES = ("hard", "easy")


def with_field(state: bytes, name: str, value, fmt: str = "<i") -> bytes:
    """`state` with one top-level scalar field overwritten."""
    out = bytearray(state)
    struct.pack_into(fmt, out, parse_state(state).offsets[name], value)
    return bytes(out)


def with_mouse_field(state: bytes, name: str, value) -> bytes:
    """`state` with one field of the mouse entity overwritten."""
    mouse = parse_state(state).fields["entities"][0]
    index = ENTITY_FIELDS.index(name)
    fmt = "<" + ENTITY_FORMAT[1 + index]
    out = bytearray(state)
    struct.pack_into(fmt, out, mouse["offset"] + 4 * index, value)
    return bytes(out)


def with_grid_cell(state: bytes, wx: int, wy: int, code: int) -> bytes:
    parsed = parse_state(state)
    w = parsed.fields["grid"].shape[1]
    out = bytearray(state)
    struct.pack_into("<i", out, parsed.offsets["grid"] + 12 + 4 * (wy * w + wx), code)
    return bytes(out)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_is_byte_identical_on_200_levels(level_states, mode):
    states = level_states[mode]
    assert len(states) >= 200
    sizes = set()
    for seed, state in enumerate(states):
        maze = parse(state, level=seed)
        sizes.add(maze.maze_dim)
        assert serialize(maze) == state
        assert serialize(maze, state) == state
        assert maze.mode == mode and maze.world_dim == {"hard": 25, "easy": 15}[mode]
    # the sample covers many maze sizes, from the smallest to the largest
    assert min(sizes) == 3 and max(sizes) == {"hard": 25, "easy": 15}[mode]


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_mid_episode(mode):
    """States after random moves (mouse elsewhere, facing either way, timers running)."""
    from behavstats.maze.levels import make_env

    env = make_env(8, mode, start_level=7)
    rng = np.random.default_rng(0)
    seen_mice = set()
    for step in range(60):
        env.act(rng.integers(0, 15, size=8).astype(np.int32))
        if step % 6 == 5:
            for state in env.get_state():
                maze = parse(state)
                seen_mice.add(maze.mouse)
                assert serialize(maze) == state
                fields = parse_state(state).fields
                assert fields["cur_time"] >= 0
    assert len(seen_mice) > 5  # the mice did move around


def test_parse_reads_the_grid_mouse_and_cheese(level_states):
    state = level_states["hard"][0]
    parsed = parse_state(state)
    maze = parse(state)
    grid = parsed.fields["grid"]
    assert grid.shape == (25, 25)
    assert set(np.unique(grid)) <= {WALL, EMPTY, CHEESE}
    np.testing.assert_array_equal(maze.free, grid != WALL)
    (cy, cx), = np.argwhere(grid == CHEESE)
    m = (25 - maze.maze_dim) // 2
    assert maze.cheese == (cx - m, cy - m)
    mouse = parsed.fields["entities"][0]
    assert (mouse["x"], mouse["y"]) == (m + 0.5, m + 0.5)
    assert maze.mouse == (0, 0) == maze.start
    assert maze.background_index == parsed.fields["background_index"]
    assert parsed.size == len(state)


def test_identity_is_what_procgen_draws(level_mazes, observer):
    """Background and sprite facing are drawn, written by serialize and part of a
    maze's identity; the level seed is not."""
    maze = level_mazes["hard"][5]
    picture = observer.observe([maze])[0]
    for changed in (dataclasses.replace(maze, background_index=(maze.background_index + 1) % 9),
                    dataclasses.replace(maze, reflected=not maze.reflected)):
        assert changed != maze
        assert parse(serialize(changed)) == changed
        assert not np.array_equal(observer.observe([changed])[0], picture)
    relabelled = dataclasses.replace(maze, level=12345)
    assert relabelled == maze and hash(relabelled) == hash(maze)
    with pytest.raises(MazeStateError, match="background_index"):
        serialize(dataclasses.replace(maze, background_index=9))


# ---------------------------------------------------------------- rejections


@pytest.fixture(scope="module")
def state(level_states) -> bytes:
    return level_states["hard"][3]


def test_truncated_buffers_are_rejected(state):
    lengths = [*range(0, len(state), 97), *range(len(state) - 40, len(state))]
    for n in lengths:
        with pytest.raises(MazeStateError):
            parse(state[:n])
    with pytest.raises(MazeStateError, match="end early"):
        parse(state[:-1])


def test_trailing_bytes_are_rejected(state):
    with pytest.raises(MazeStateError, match="trailing"):
        parse(state + b"\x00")
    with pytest.raises(MazeStateError, match="trailing"):
        parse(state + struct.pack("<I", END_MARKER))


def test_bad_end_marker_is_rejected(state):
    bad = state[:-4] + struct.pack("<I", END_MARKER ^ 1)
    with pytest.raises(MazeStateError, match="end marker"):
        parse(bad)


@pytest.mark.parametrize("code", [0, 1, 7, 50, 52, 101, -51, 2**31 - 1])
def test_unknown_cell_code_is_rejected(state, code):
    with pytest.raises(MazeStateError, match="unknown maze cell code"):
        parse(with_grid_cell(state, 0, 0, code))


def _with_entities(state: bytes, records: list[bytes]) -> bytes:
    parsed = parse_state(state)
    start = parsed.offsets["entities"]
    end = start + 4 + ENTITY_SIZE * len(parsed.fields["entities"])
    return state[:start] + struct.pack("<i", len(records)) + b"".join(records) + state[end:]


def test_zero_or_two_mice_are_rejected(state):
    mouse = parse_state(state).fields["entities"][0]["offset"]
    record = state[mouse : mouse + ENTITY_SIZE]
    assert _with_entities(state, [record]) == state  # the surgery itself is exact
    with pytest.raises(MazeStateError, match="found 0 entities"):
        parse(_with_entities(state, []))
    with pytest.raises(MazeStateError, match="found 2 entities of which 2 mice"):
        parse(_with_entities(state, [record, record]))
    other = bytearray(record)
    struct.pack_into("<i", other, 4 * ENTITY_FIELDS.index("type"), 3)
    with pytest.raises(MazeStateError, match="of which 1 mice"):
        parse(_with_entities(state, [record, bytes(other)]))
    with pytest.raises(MazeStateError, match="entity count"):
        parse(_count_only(state, -1))


def _count_only(state: bytes, count: int) -> bytes:
    out = bytearray(state)
    struct.pack_into("<i", out, parse_state(state).offsets["entities"], count)
    return bytes(out)


@pytest.mark.parametrize("name", [b"mazf", b"coinrun", b""])
def test_wrong_game_name_is_rejected(state, name):
    offset = parse_state(state).offsets["game_name"]
    old_length = struct.unpack_from("<i", state, offset)[0]
    bad = state[:offset] + struct.pack("<i", len(name)) + name + state[offset + 4 + old_length:]
    with pytest.raises(MazeStateError, match="not a maze state"):
        parse(bad)


def test_non_bytes_and_mode_mismatch_are_rejected(level_states):
    with pytest.raises(MazeStateError, match="must be bytes"):
        parse("maze")  # type: ignore[arg-type]
    with pytest.raises(MazeStateError, match="is a hard maze"):
        parse(level_states["hard"][0], mode="easy")
    with pytest.raises(MazeStateError, match="is a easy maze"):
        parse(level_states["easy"][0], mode="hard")


def _rng_text_with(state: bytes, name: str, text: bytes) -> bytes:
    offset = parse_state(state).offsets[name] + 4
    length = struct.unpack_from("<i", state, offset)[0]
    return state[:offset] + struct.pack("<i", len(text)) + text + state[offset + 4 + length:]


def _rng_text(state: bytes, name: str) -> bytes:
    return parse_state(state).fields[name][1]


# Single wrong values that procgen does not survive (each was measured: abort, uncaught
# exception, division by zero, deadlock, hang, crash at exit) or that would make the
# picture or the maze wrong.
CORRUPTIONS = {
    "version": lambda s: with_field(s, "version", 1),
    "generated assets": lambda s: with_field(s, "use_generated_assets", 1),
    "background index": lambda s: with_field(s, "background_index", 9),
    "negative background index": lambda s: with_field(s, "background_index", -1),
    "procgen background": lambda s: with_field(s, "use_procgen_background", 1),
    "unseeded rand_gen": lambda s: with_field(s, "rand_gen", 0),
    "unseeded level generator": lambda s: with_field(s, "level_seed_rand_gen", 0),
    "empty seed range": lambda s: with_field(s, "level_seed_high",
                                             parse_state(s).fields["level_seed_low"]),
    "waiting for step": lambda s: with_field(s, "is_waiting_for_step", 1),
    "centred view": lambda s: with_field(s, "center_agent", 1),
    "free physics": lambda s: with_field(s, "grid_step", 0),
    "tiled background": lambda s: with_field(s, "bg_tile_ratio", -1e-9, "<f"),
    "walkable outside": lambda s: with_field(s, "out_of_bounds_object", EMPTY),
    "extreme mode": lambda s: with_field(s, "distribution_mode", 2),
    "memory mode": lambda s: with_field(s, "distribution_mode", 10),
    "world size": lambda s: with_field(s, "world_dim", 31),
    "even maze": lambda s: with_field(s, "maze_dim", 4),
    "main width": lambda s: with_field(s, "main_width", 3),
    "grid size": lambda s: with_field(s, "grid_size", 5000),
    "bool option": lambda s: with_field(s, "use_backgrounds", 2),
    "mouse theme": lambda s: with_mouse_field(s, "image_theme", 5),
    "mouse image": lambda s: with_mouse_field(s, "image_type", 150),
    "mouse radius": lambda s: with_mouse_field(s, "rx", 1e9),
    "mouse growth": lambda s: with_mouse_field(s, "grow_rate", 2.0),
    "mouse erased": lambda s: with_mouse_field(s, "will_erase", 1),
    "mouse expires": lambda s: with_mouse_field(s, "expire_time", 3),
    "mouse x nan": lambda s: with_mouse_field(s, "x", float("nan")),
    "mouse y inf": lambda s: with_mouse_field(s, "y", float("inf")),
    "mouse off world": lambda s: with_mouse_field(s, "x", 25.5),
    "mouse below world": lambda s: with_mouse_field(s, "y", -0.5),
    "mouse reflection": lambda s: with_mouse_field(s, "is_reflected", 7),
    "two cheeses": lambda s: with_grid_cell(s, 0, 0, CHEESE),  # plus the level's own
    "rng text letter": lambda s: _rng_text_with(
        s, "rand_gen", _rng_text(s, "rand_gen")[:-1] + b"x"),
    "rng text short": lambda s: _rng_text_with(
        s, "rand_gen", _rng_text(s, "rand_gen").rsplit(b" ", 1)[0]),
    "huge string": lambda s: with_field(s, "game_name", 2**30),
    "negative string": lambda s: with_field(s, "game_name", -4),
    "grid header": lambda s: _grid_header(s, 25, 25, 624),
}


def _grid_header(state: bytes, w: int, h: int, n: int) -> bytes:
    out = bytearray(state)
    struct.pack_into("<iii", out, parse_state(state).offsets["grid"], w, h, n)
    return bytes(out)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupted_fields_are_rejected(state, name):
    bad = CORRUPTIONS[name](state)
    assert bad != state
    with pytest.raises(MazeStateError):
        parse(bad)


def test_bad_mazes_never_reach_procgen(observer, level_mazes):
    """Observer.observe goes through serialize, which validates first: a test process
    that is still alive after this test never handed procgen the bad bytes."""
    maze = level_mazes["hard"][3]
    wall = next(c for c in itertools.product(range(maze.maze_dim), repeat=2)
                if not maze.is_free(c))
    bad_mazes = [dataclasses.replace(maze, mouse=wall),
                 dataclasses.replace(maze, cheese=(maze.maze_dim + 40, 0))]
    bad_mazes += [dataclasses.replace(maze, source_state=make(maze.source_state))
                  for make in CORRUPTIONS.values()]
    for bad in bad_mazes:
        with pytest.raises(MazeStateError):
            observer.observe([bad])
    assert observer.observe([maze]).shape == (1, 64, 64, 3)


def _fuzzed(state: bytes, rng: np.random.Generator) -> list[bytes]:
    """Single-value corruptions of every scalar field and mouse field, random grid
    cells and random bytes."""
    parsed = parse_state(state)
    out = []
    values = [0, 1, -1, 2, 9, 51, 100, 2**31 - 1, -(2**31)]
    for name, offset in parsed.offsets.items():
        if name in ("grid", "entities", "end_marker"):
            continue
        for value in rng.choice(values, size=3, replace=False):
            b = bytearray(state)
            struct.pack_into("<i", b, offset, int(value))
            out.append(bytes(b))
        b = bytearray(state)
        struct.pack_into("<f", b, offset, float(rng.choice([np.nan, -3.0, 0.5, 1e9])))
        out.append(bytes(b))
    mouse = parsed.fields["entities"][0]["offset"]
    for i in range(len(ENTITY_FIELDS)):
        for value in rng.choice(values, size=2, replace=False):
            b = bytearray(state)
            struct.pack_into("<i", b, mouse + 4 * i, int(value))
            out.append(bytes(b))
    grid = parsed.offsets["grid"] + 12
    for _ in range(40):
        b = bytearray(state)
        cell = int(rng.integers(625))
        struct.pack_into("<i", b, grid + 4 * cell, int(rng.choice([WALL, EMPTY, CHEESE, 3])))
        out.append(bytes(b))
    for _ in range(300):
        b = bytearray(state)
        b[int(rng.integers(len(b)))] = int(rng.integers(256))
        out.append(bytes(b))
    return out


CHILD = textwrap.dedent("""
    import pickle, sys
    import numpy as np
    from procgen import ProcgenGym3Env
    accepted, crasher = pickle.load(open(sys.argv[1], "rb"))
    env = ProcgenGym3Env(num=1, env_name="maze", start_level=0, num_levels=0,
                         distribution_mode="hard")
    rng = np.random.default_rng(0)
    for state in accepted:
        env.call_c_func("set_state", 0, state, len(state))
        env.observe()
        for _ in range(3):
            env.act(rng.integers(0, 15, size=1).astype(np.int32))
            env.observe()
        env.get_state()
    print("SURVIVED", len(accepted), flush=True)
    env.call_c_func("set_state", 0, crasher, len(crasher))
    env.observe()
    print("CRASHER SURVIVED", flush=True)
""")


def test_accepted_corruptions_cannot_kill_procgen(state, tmp_path):
    """Fuzz: every corrupted buffer is either rejected by parse, or procgen survives
    it (set_state, render, steps, and a forced reset to the next level) in a separate
    process. The same process then gets one buffer parse rejects, and dies: the
    validation is what keeps the interpreter alive."""
    rng = np.random.default_rng(1)
    accepted = []
    rejected = 0
    for bad in _fuzzed(state, rng):
        try:
            parse(bad)
        except MazeStateError:
            rejected += 1
            continue
        accepted.append(bad)
        # the same buffer at its time limit: the next step resets to a new level
        parsed = parse_state(bad)
        forced = with_field(bad, "cur_time", parsed.fields["timeout"] - 1)
        forced = with_field(forced, "episodes_remaining", 0)
        try:
            parse(forced)
        except MazeStateError:
            continue
        accepted.append(forced)
    assert rejected > 200 and len(accepted) > 100
    crasher = CORRUPTIONS["version"](state)
    path = tmp_path / "states.pkl"
    path.write_bytes(pickle.dumps((accepted, crasher)))
    result = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                            text=True, timeout=120)
    assert f"SURVIVED {len(accepted)}" in result.stdout, result.stderr[-2000:]
    assert "CRASHER SURVIVED" not in result.stdout
    assert result.returncode != 0


# ---------------------------------------------------------------- serialize


def test_serialize_refuses_unsafe_mazes(level_mazes, build_maze):
    maze = max(level_mazes["hard"][:50], key=lambda m: m.maze_dim)
    wall = next((x, y) for x in range(maze.maze_dim) for y in range(maze.maze_dim)
                if not maze.is_free((x, y)))
    margin_cell = (-1, 0) if maze.maze_dim < 25 else (0, -1)
    for name, cell, match in [("mouse", wall, "on a wall"), ("cheese", wall, "on a wall"),
                              ("mouse", (25, 0), "outside"), ("cheese", (0, -30), "outside"),
                              ("mouse", margin_cell, "on a wall|outside")]:
        bad = dataclasses.replace(maze, **{name: cell})
        with pytest.raises(MazeStateError, match=match):
            serialize(bad)
    # an unreachable cheese: wall it in
    free = maze.free.copy()
    cx, cy = maze.world_cell(maze.cheese)
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        free[cy + dy, cx + dx] = False
    boxed = Maze(free=free, maze_dim=maze.maze_dim, cheese=maze.cheese, mouse=maze.mouse,
                 source_state=maze.source_state)
    serialize(boxed)  # procgen can show it...
    with pytest.raises(MazeStateError, match="no path"):
        serialize(boxed, check_path=True)  # ...but it cannot be solved
    assert serialize(maze, check_path=True) == maze.source_state


def test_serialize_needs_the_bytes_of_a_same_sized_level(level_mazes, build_maze):
    hand = build_maze("""
        ...
        .#.
        ..C
    """)
    with pytest.raises(MazeStateError, match="no source state"):
        serialize(hand)
    mazes = level_mazes["hard"]
    a = mazes[0]
    b = next(m for m in mazes if m.maze_dim != a.maze_dim)
    with pytest.raises(MazeStateError, match="same level"):
        serialize(a, b.source_state)
    with pytest.raises(MazeStateError, match="same level"):
        serialize(level_mazes["easy"][0], a.source_state)


def test_serialize_writes_edits_into_the_bytes(level_mazes):
    maze = next(m for m in level_mazes["hard"] if m.maze_dim >= 9)
    target = next(c for c in maze.free_cells()
                  if c not in (maze.cheese, maze.mouse) and min(c) >= 0)
    mouse_target = next(c for c in maze.free_cells()
                        if c not in (maze.cheese, maze.mouse, target) and min(c) >= 0)
    edited = move_mouse(move_cheese(maze, target), mouse_target)
    state = serialize(edited)
    assert len(state) == len(maze.source_state)
    back = parse(state)
    assert back == edited
    assert back.cheese == target and back.mouse == mouse_target
    fields = parse_state(state).fields
    m = (25 - maze.maze_dim) // 2
    mouse = fields["entities"][0]
    assert (mouse["x"], mouse["y"]) == (mouse_target[0] + m + 0.5, mouse_target[1] + m + 0.5)
    # nothing but the grid and the mouse's position changed
    before = parse_state(maze.source_state).fields
    for name, value in before.items():
        if name not in ("grid", "entities"):
            assert fields[name] == value, name
