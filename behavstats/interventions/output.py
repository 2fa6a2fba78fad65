"""Writing an experiment's tables, summary and figures into a folder, each file
atomically (`behavstats.io`), so an interrupted run never leaves half a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from behavstats.io import plain, write_csv, write_json


def write_outputs(out_dir: str | Path, tables: dict[str, pd.DataFrame], summary: dict,
                  figures: dict[str, Callable[[], Any]]) -> list[Path]:
    """Write `tables` as CSV (name -> name.csv), `summary` as summary.json and each
    figure (name -> function returning an Axes or array of Axes) as name.png;
    returns the paths written."""
    from behavstats.plots import save_figure  # matplotlib only when writing figures

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_csv(table, out_dir / f"{name}.csv") for name, table in tables.items()]
    paths.append(write_json(plain(summary), out_dir / "summary.json"))
    for name, draw in figures.items():
        axes = draw()
        figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
        paths.append(save_figure(figure, out_dir / f"{name}.png"))
    return paths
