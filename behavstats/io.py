"""Atomic file writes: write to a temporary name in the same folder, then rename, so a
reader never sees half a file and an interrupted run loses nothing finished."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path), then rename tmp_path to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_parquet(table: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def write_json(data: dict, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2,
                                                                     default=str) + "\n"))
