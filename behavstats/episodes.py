"""The episodes folders that `gather` and `behavstats study` write, read back as one
table (torch-free, so a command that only reads episodes never loads the network).

A gather folder holds `manifest.json` (policy, config, levels, shard size) and one
parquet shard per `shard_size` levels (`shard-00000.parquet`, ...); a study folder
holds its episodes part in `episodes/` (the joined `episodes.parquet` and the gather
folder `shards/`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from behavstats.errors import UserError
from behavstats.io import read_json

MANIFEST = "manifest.json"
JOINED = "episodes.parquet"


def shard_name(index: int) -> str:
    """The file name of a gather folder's shard `index`."""
    return f"shard-{index:05d}.parquet"


def load_episodes(path: str | Path) -> pd.DataFrame:
    """One episodes table from a parquet file, a gather folder (its shards in level
    order, all of them: a folder an interrupted gather left is refused with what to do)
    or a study folder (its episodes part). Raises UserError for anything else."""
    path = Path(path)
    if path.is_file():
        return _read(path)
    if not path.is_dir():
        raise UserError(f"{path} does not exist: pass an episodes parquet file, the folder "
                        "`behavstats gather` wrote, or a study folder")
    if (path / "episodes").is_dir():  # a study folder
        path = path / "episodes"
    if (path / JOINED).is_file():
        return _read(path / JOINED)
    if (path / "shards" / MANIFEST).is_file():
        path = path / "shards"
    if not (path / MANIFEST).is_file():
        raise UserError(f"{path} holds no episodes: no {MANIFEST} of `behavstats gather`, "
                        f"no {JOINED}, no study's episodes/ folder")
    manifest = read_json(path / MANIFEST)
    levels, size = manifest["levels"], manifest["shard_size"]
    paths = [path / shard_name(i) for i in range(-(-len(levels) // size))]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{path} is incomplete: {len(missing)} of {len(paths)} shards are "
                        f"missing ({missing[0]}, ...); run the same `behavstats gather` "
                        "command again to finish it (finished shards are kept)")
    return pd.concat([_read(p) for p in paths], ignore_index=True)


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UserError(f"{path} is not a parquet table ({exc})") from None
