"""Level-seed lists and their compact specs ('0:1000', '7', '1,5,9'), both ways.

procgen keeps a level's seed range [seed, seed + 1] in 32-bit signed ints, so seeds
lie in 0 .. 2**31 - 2. A spec names at most MAX_LEVELS levels: more is hours of work
per command (and 0:99999999999 would not fit in memory); split bigger runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from behavstats.errors import UserError

MAX_SEED = 2**31 - 2
MAX_LEVELS = 1_000_000


class LevelSpecError(UserError):
    """A level spec that is malformed, out of procgen's seed range, or too long."""


def check_seeds(seeds: Iterable[int]) -> list[int]:
    """The seeds as ints, or LevelSpecError naming those outside 0 .. MAX_SEED."""
    seeds = [int(s) for s in seeds]
    bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
    if bad:
        raise LevelSpecError(f"level seeds must lie in [0, {MAX_SEED}], got {bad[:5]}")
    return seeds


def parse_levels(spec: str) -> list[int]:
    """'A:B' (B excluded), 'N', or 'A,B,C' -> level seeds: at least one, at most
    MAX_LEVELS, none twice, each in 0 .. MAX_SEED."""
    try:
        if ":" in spec:
            start, stop = (int(p) for p in spec.split(":"))
            seeds = range(start, stop)
        else:
            seeds = [int(p) for p in spec.split(",")]
    except ValueError as exc:
        raise LevelSpecError(f"levels must look like 0:1000, 7 or 1,5,9 (got {spec!r})") \
            from exc
    if not 1 <= len(seeds) <= MAX_LEVELS:
        raise LevelSpecError(f"{spec!r} names {len(seeds)} levels; give 1 to {MAX_LEVELS:,} "
                             "(split bigger runs)")
    if len(set(seeds)) < len(seeds):
        raise LevelSpecError(f"{spec!r} names a level more than once")
    check_seeds([min(seeds), max(seeds)])
    return list(seeds)


def format_levels(seeds: Iterable[int]) -> str:
    """The compact spec of a list of seeds, which `parse_levels` turns back into it:
    'A:B' for a run of two or more consecutive seeds, else 'A,B,C'."""
    seeds = [int(s) for s in seeds]
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}:{seeds[-1] + 1}"
    return ",".join(map(str, seeds))
