"""Atomic, validated training checkpoints (weights, optimiser, RNG states, counters),
and the trainers' CSV logs."""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import torch

from behavstats.io import write_atomic, write_csv
from behavstats.policy import CheckpointError, Policy, load_policy

CHECKPOINT_NAME = "checkpoint.pt"


def rng_states() -> dict:
    """The global random state training uses (torch's: action sampling, minibatch order;
    numpy randomness goes through seeded Generators whose states are saved by the
    trainers themselves)."""
    return {"torch": torch.get_rng_state()}


def restore_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])


def load_init_policy(path: str, scale: int) -> Policy:
    """The policy a run starts from, which must have the run's scale."""
    policy = load_policy(path)
    if policy.scale != scale:
        raise ValueError(f"init policy {path} has scale {policy.scale}, the run's config "
                         f"says {scale}")
    return policy


def save_checkpoint(payload: dict, run_dir: Path) -> Path:
    """Write `payload` to run_dir/checkpoint.pt atomically."""
    return write_atomic(run_dir / CHECKPOINT_NAME, lambda tmp: torch.save(payload, tmp))


def append_log(path: Path, row: dict) -> None:
    """Append `row` to the CSV log at `path` (its keys as the header when the file is
    new)."""
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def truncate_log(path: Path, column: str, last: int) -> None:
    """Drop log rows past `last` in `column` (rows of work redone after a resume from an
    earlier checkpoint)."""
    if path.exists():
        log = pd.read_csv(path)
        write_csv(log[log[column] <= last], path)


def load_checkpoint(run_dir: Path, kind: str, config: dict | None = None,
                    may_differ: Collection[str] = ()) -> dict | None:
    """The run's checkpoint, None if it has none; CheckpointError if it is unusable or
    was written by a run with other settings than `config` (resuming it would mix two
    experiments), apart from the keys in `may_differ` (e.g. a step budget)."""
    path = run_dir / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise CheckpointError(f"{path} is corrupt ({exc}); delete it to start afresh") from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        found = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is a {found!r} checkpoint, expected {kind!r}")
    saved = payload.get("config", {})
    differs = sorted(k for k in config or {} if k not in may_differ and saved.get(k) != config[k])
    if differs:
        raise CheckpointError(f"{path} was written with other settings ({', '.join(differs)}); "
                              "resume with the same settings or use another folder")
    return payload
