"""Atomic, validated training checkpoints (weights, optimiser, RNG states, counters)."""

from __future__ import annotations

from pathlib import Path

import torch

from behavstats.io import write_atomic
from behavstats.policy import CheckpointError

CHECKPOINT_NAME = "checkpoint.pt"


def rng_states() -> dict:
    """The global random state training uses (torch's: action sampling, minibatch order;
    numpy randomness goes through seeded Generators whose states are saved by the
    trainers themselves)."""
    return {"torch": torch.get_rng_state()}


def restore_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])


def save_checkpoint(payload: dict, run_dir: Path) -> Path:
    """Write `payload` to run_dir/checkpoint.pt atomically."""
    return write_atomic(run_dir / CHECKPOINT_NAME, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(run_dir: Path, kind: str) -> dict | None:
    """The run's checkpoint, None if it has none; CheckpointError if it is unusable."""
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
    return payload
