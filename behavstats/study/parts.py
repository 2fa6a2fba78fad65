"""Resumable study parts: each part writes into its own folder and records a hash of
everything its result depends on (its settings, the policy's weights, the package
version). Re-running a study skips a part whose record matches and whose files are
all present, and recomputes it otherwise."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from behavstats.io import read_json, write_json

RECORD = "part.json"
STARTED = ".started.json"


def config_hash(settings: dict) -> str:
    """Stable hash of JSON-able settings."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()
                          ).hexdigest()[:16]


@dataclass
class PartOutcome:
    name: str
    reused: bool
    seconds: float


def run_part(study_dir: Path, name: str, settings: dict, compute: Callable[[Path], None],
             *, log: Callable[[str], None] = print) -> PartOutcome:
    """Run `compute(part_dir)` unless a finished record with the same settings hash is
    there. The record (part_dir/part.json) is written only after compute returns, so
    an interrupted part is recomputed from scratch next time; compute itself may
    resume inside part_dir (e.g. episode shards) when its settings are unchanged."""
    part_dir = study_dir / name
    digest = config_hash(settings)
    record = read_json(part_dir / RECORD)
    if record.get("hash") == digest and all((part_dir / f).exists() for f in record["files"]):
        log(f"[{name}] reusing finished part ({record['seconds']:.0f} s when computed)")
        return PartOutcome(name, True, record["seconds"])
    (part_dir / RECORD).unlink(missing_ok=True)
    if read_json(part_dir / STARTED).get("hash") != digest and part_dir.exists():
        shutil.rmtree(part_dir)  # another configuration's leftovers
    write_json({"hash": digest, "settings": settings}, part_dir / STARTED)
    log(f"[{name}] computing")
    started = time.time()
    compute(part_dir)
    seconds = time.time() - started
    files = sorted(str(p.relative_to(part_dir)) for p in part_dir.rglob("*")
                   if p.is_file() and p.name not in (RECORD, STARTED))
    write_json({"hash": digest, "settings": settings, "seconds": seconds, "files": files},
               part_dir / RECORD)
    log(f"[{name}] done in {seconds:.0f} s")
    return PartOutcome(name, False, seconds)
