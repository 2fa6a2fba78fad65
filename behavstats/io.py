"""Atomic file writes: write to a temporary name in the same folder, then rename, so a
reader never sees half a file and an interrupted run loses nothing finished."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path), then rename tmp_path to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_parquet(table: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: table.to_parquet(tmp, index=False))


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    return write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def plain(value: Any) -> Any:
    """`value` as JSON-ready Python: numpy scalars and arrays unwrapped, tuples as
    lists, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_json(path: str | Path) -> dict:
    """A JSON file's contents, or {} when the file does not exist."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def write_json(data: dict, path: str | Path) -> Path:
    """Valid JSON (NaN and infinities as null, numpy values unwrapped)."""
    text = json.dumps(plain(data), indent=2, default=str, allow_nan=False) + "\n"
    return write_atomic(path, lambda tmp: tmp.write_text(text))
