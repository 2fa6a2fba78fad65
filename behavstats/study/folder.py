"""A study folder read back: every part's saved result (by the part's own `load`), its
record and error, and study.json. The study writes the folder and this reads it, so
whatever renders a study (the report) depends on the study, never the reverse."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from behavstats.io import read_json
from behavstats.results import SUMMARY_COLUMNS
from behavstats.study.pipeline import PARTS, part_error


@dataclass(frozen=True)
class Study:
    """path, study.json (`info`), and per part name its loaded result (None when the
    part has not run or could not), its part.json record and its error message."""

    path: Path
    info: dict
    results: dict[str, Any]
    records: dict[str, dict]
    errors: dict[str, str | None]

    @classmethod
    def of(cls, study: Study | str | Path) -> Study:
        """`study` itself, or the folder at that path loaded."""
        return study if isinstance(study, Study) else cls.load(study)

    @classmethod
    def load(cls, path: str | Path) -> Study:
        path = Path(path)
        results, records, errors = {}, {}, {}
        for part in PARTS:
            folder = path / part.name
            records[part.name] = read_json(folder / "part.json")
            errors[part.name] = part_error(folder)
            results[part.name] = None
            if records[part.name] and not errors[part.name]:
                with suppress(FileNotFoundError):  # a part of an older version
                    results[part.name] = part.load(folder)
        return cls(path, read_json(path / "study.json"), results, records, errors)

    def summary(self, part: str) -> pd.DataFrame:
        """The part's `summary()` (empty when it has none)."""
        result = self.results.get(part)
        if result is None or not hasattr(result, "summary"):
            return pd.DataFrame(columns=[*SUMMARY_COLUMNS, "published"])
        return result.summary()

    @property
    def quick(self) -> bool:
        return bool(self.info.get("config", {}).get("quick"))
