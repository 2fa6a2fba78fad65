"""The result shape of the sweeps: a frozen dataclass whose fields are tidy DataFrames,
saved one CSV per field (`<field>.csv`) and loaded back; `summary()` gives one row per
reported quantity (`SUMMARY_COLUMNS`), the shape of the shared results base, so the
sweeps can move onto it with little change.

Random streams of the sweeps (`stream`) are `SeedSequence([seed, purpose, *key])`
with these purpose ints, so each use draws from its own stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from behavstats.interventions.effects import bootstrap_ci
from behavstats.io import write_csv

SUMMARY_COLUMNS = ("quantity", "condition", "estimate", "ci_low", "ci_high", "n")
BOOTSTRAP = 1
"""Purpose of the bootstrap draws; key: the row of the result table."""
PATH_CELLS = 2
"""Purpose of choosing observation cells along an episode's path; key: the level."""
CONTROL_LABELS = 3
"""Purpose of the probes' control-task labels; key: the level and the target."""
SPLIT = 4
"""Purpose of the probes' train/test split of levels."""
RANDOM_NETWORK = 5
"""Purpose of the probes' randomly initialised network."""


def stream(seed: int, purpose: int, *key: int) -> np.random.SeedSequence:
    """The seed sequence of one purpose (and key) of a run seeded with `seed`."""
    return np.random.SeedSequence([int(seed), purpose, *(int(k) for k in key)])


def mean_interval(values: np.ndarray, seed: int, row: int) -> dict[str, float]:
    """estimate (mean), ci_low, ci_high (percentile bootstrap) and n of the non-NaN
    values, drawn from the BOOTSTRAP stream of table row `row`."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    low, high = bootstrap_ci(values, seed=stream(seed, BOOTSTRAP, row))
    if not len(values):
        return {"estimate": float("nan"), "ci_low": low, "ci_high": high, "n": 0}
    estimate = float(values.mean())  # the interval is widened by rounding to hold it
    return {"estimate": estimate, "ci_low": min(low, estimate), "ci_high": max(high, estimate),
            "n": len(values)}


@dataclasses.dataclass(frozen=True)
class TableResult:
    """Base of the sweep results: every field is a DataFrame."""

    figures: ClassVar[dict[str, str]] = {}
    """Figure file stem -> name of the plotting method that draws it."""

    def summary(self) -> pd.DataFrame:
        raise NotImplementedError

    def save(self, out_dir: str | Path, *, figures: bool = True) -> list[Path]:
        """Write `<field>.csv` for every field (and the figures); returns the paths."""
        out_dir = Path(out_dir)
        paths = [write_csv(getattr(self, f.name), out_dir / f"{f.name}.csv")
                 for f in dataclasses.fields(self)]
        if figures:
            from behavstats.plots import save_figure

            for stem, method in self.figures.items():
                axes = getattr(self, method)()
                figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
                paths.append(save_figure(figure, out_dir / f"{stem}.png"))
        return paths

    @classmethod
    def load(cls, out_dir: str | Path) -> Any:
        """The result `save` wrote into `out_dir`."""
        return cls(**{f.name: pd.read_csv(Path(out_dir) / f"{f.name}.csv")
                      for f in dataclasses.fields(cls)})


def summary_frame(rows: pd.DataFrame, quantity: Callable[[pd.Series], str],
                  condition: Callable[[pd.Series], str]) -> pd.DataFrame:
    """`SUMMARY_COLUMNS` of table rows that have estimate, ci_low, ci_high and n."""
    out = rows[["estimate", "ci_low", "ci_high", "n"]].copy()
    out.insert(0, "condition", rows.apply(condition, axis=1))
    out.insert(0, "quantity", rows.apply(quantity, axis=1))
    return out.reset_index(drop=True)[list(SUMMARY_COLUMNS)]
