"""The shared shape of every experiment's result.

A result is a frozen dataclass of tidy DataFrames (each documented by its class) plus
`params`, a small dict of JSON values (the run's settings). `summary()` gives one row
per reported quantity (`SUMMARY_COLUMNS`: a `vocabulary.Estimate` of a quantity under
a condition, quantities labelled in `behavstats.quantities`) with the published
figure beside it where one exists (joined on (quantity, condition),
`behavstats.reference`); `save(dir)` / `load(dir)` round-trip it (one parquet file per
table, params.json, and summary.parquet: the summary is computed once, when first
asked for, and saved with the tables, so a report of a saved result renders the
numbers of the code that produced them; a result saved before a column was renamed
loads under the new name, `renamed_columns`). `write(dir)` adds the result's figures
and the CSV copies of the tables named in `csv_tables` (the files a command
promises). A field declared with `figure_only()` holds what only figures need
(example mazes, maps): it is not saved.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd

from behavstats.io import plain, read_json, write_atomic, write_csv, write_json
from behavstats.reference import published_figures
from behavstats.vocabulary import NAN, SUMMARY_COLUMNS, Estimate

PARAMS = "params.json"
SUMMARY = "summary.parquet"


def figure_only(default: Any = ()) -> Any:
    """A dataclass field for figure material: not compared, not saved."""
    return field(default=default, compare=False, repr=False, metadata={"saved": False})


def quantity_row(quantity: str, condition: str, estimate: float, ci_low: float = NAN,
                 ci_high: float = NAN, n: float = NAN, p_value: float = NAN,
                 q_value: float = NAN) -> dict:
    """One summary row: `Estimate(...).row(quantity, condition)` written out."""
    return Estimate(estimate, ci_low, ci_high, n, p_value, q_value).row(quantity, condition)


def interval_row(quantity: str, condition: str, stats: Estimate | dict) -> dict:
    """Deprecated: `stats.row(quantity, condition)` (the bootstrap helpers of
    `interventions.effects` return an `Estimate`). A dict of the old shape (n, mean,
    ci_low, ci_high) is still read."""
    warnings.warn("interval_row(quantity, condition, estimate) is "
                  "estimate.row(quantity, condition)", DeprecationWarning, stacklevel=2)
    if not isinstance(stats, Estimate):
        stats = Estimate(stats["mean"], stats["ci_low"], stats["ci_high"], stats["n"])
    return stats.row(quantity, condition)


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    """Summary rows as a DataFrame of `SUMMARY_COLUMNS` (floats, n may be NaN)."""
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return table.astype({c: float for c in SUMMARY_COLUMNS[2:]})


def with_published(table: pd.DataFrame) -> pd.DataFrame:
    """Summary rows with the `published` figure of the same (quantity, condition)
    joined beside them (the column left out when none has one)."""
    published = published_figures()[["quantity", "condition", "published"]]
    joined = table.merge(published, on=["quantity", "condition"], how="left")
    return joined if joined["published"].notna().any() else table


@dataclass(frozen=True)
class Result:
    """Base of the result dataclasses (declared `@dataclass(frozen=True, eq=False)`, so
    that `==` compares tables). Subclasses set `topic` (the key of their published
    notes) and `_rows()` (their summary rows)."""

    topic: ClassVar[str]
    csv_tables: ClassVar[tuple[str, ...]] = ()
    settings_type: ClassVar[type | None] = None
    """The experiment's settings class (`behavstats.experiments`), rebuilt from params
    by `settings`."""
    renamed_columns: ClassVar[dict[str, dict[str, str]]] = {}
    """Columns renamed since an earlier version, per table: {table: {old: new}}; `load`
    gives a result saved before under the new names."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", plain(self.params))  # JSON values only

    def __eq__(self, other: object) -> bool:
        """Same type, params and tables (DataFrames equal, values and dtypes)."""
        if type(other) is not type(self) or other.params != self.params:
            return False
        mine, theirs = self.tables(), other.tables()
        return all((a is None and b is None) or (a is not None and b is not None and a.equals(b))
                   for a, b in ((mine[k], theirs[k]) for k in mine))

    def _rows(self) -> list[dict]:
        raise NotImplementedError

    @property
    def settings(self):
        """The settings object this result was computed with (read from params)."""
        if self.settings_type is None:
            raise AttributeError(f"{type(self).__name__} has no settings object")
        return self.settings_type.from_dict(self.params)

    def summary(self) -> pd.DataFrame:
        """One row per reported quantity: `SUMMARY_COLUMNS`, plus `published` where a
        published figure of the same (quantity, condition) exists. Computed once (or
        read from the saved summary.parquet); a copy each call."""
        if "_summary" not in self.__dict__:
            object.__setattr__(self, "_summary", with_published(summary_frame(self._rows())))
        return self.__dict__["_summary"].copy()

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Figure name -> function drawing it (an Axes or array of Axes); none here."""
        return {}

    def write(self, directory: str | Path) -> list[Path]:
        """`save` plus every figure as <name>.png and each of `csv_tables` as
        <name>.csv; returns the paths written."""
        from behavstats.plots import save_figure  # matplotlib only when drawing

        paths = self.save(directory)
        paths += [write_csv(getattr(self, name), Path(directory) / f"{name}.csv")
                  for name in self.csv_tables]
        for name, draw in self.figures().items():
            axes = draw()
            figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
            paths.append(save_figure(figure, Path(directory) / f"{name}.png"))
        return paths

    def to_json(self) -> str:
        """params and the summary's records as indented JSON (NaN as null)."""
        records = self.summary().to_dict("records")
        return json.dumps(plain({"params": self.params, "summary": records}), indent=2,
                          allow_nan=False)

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """The saved tables by field name (None: not measured in this run)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "params" and f.metadata.get("saved", True)}

    def save(self, directory: str | Path) -> list[Path]:
        """Write <table>.parquet for each table and params.json, each atomically; a
        table that is None leaves no file (nor a stale one)."""
        directory = Path(directory)
        paths = []
        for name, table in self.tables().items():
            path = directory / f"{name}.parquet"
            if table is None:
                path.unlink(missing_ok=True)
            else:
                paths.append(write_atomic(path, lambda tmp, t=table: t.to_parquet(tmp)))
        paths.append(write_atomic(directory / SUMMARY,
                                  lambda tmp: self.summary().to_parquet(tmp)))
        paths.append(write_json(self.params, directory / PARAMS))
        return paths

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """The result `save` wrote into `directory` (figure material left empty)."""
        directory = Path(directory)
        if not (directory / PARAMS).exists():
            raise FileNotFoundError(f"{directory} holds no saved {cls.__name__} ({PARAMS})")
        values: dict[str, Any] = {"params": read_json(directory / PARAMS)}
        for f in fields(cls):
            if f.name != "params" and f.metadata.get("saved", True):
                path = directory / f"{f.name}.parquet"
                values[f.name] = cls.upgrade(f.name, pd.read_parquet(path)) \
                    if path.exists() else None
        result = cls(**values)
        if (directory / SUMMARY).exists():
            object.__setattr__(result, "_summary",
                               cls.upgrade("summary", pd.read_parquet(directory / SUMMARY)))
        return result

    @classmethod
    def upgrade(cls, name: str, table: pd.DataFrame) -> pd.DataFrame:
        """A saved table (or the saved summary, `name` "summary") in today's spellings:
        the `renamed_columns` of the table renamed."""
        renamed = cls.renamed_columns.get(name)
        return table.rename(columns=renamed) if renamed else table
