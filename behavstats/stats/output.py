"""Writing a study's results to a directory, each file atomically."""

import json
import math
from pathlib import Path
from typing import Any

from behavstats.io import write_atomic, write_csv
from behavstats.stats.study import StudyResult

TABLES = {"coefficients.csv": "coefficients", "single_feature.csv": "single_feature",
          "vif.csv": "vif", "selection.csv": "selection",
          "sign_stability.csv": "sign_stability", "logit.csv": "logit"}
"""CSV file name -> StudyResult attribute."""


def write_study(result: StudyResult, out_dir: Path) -> None:
    """Write accuracy.json, the CSV tables of `TABLES` and the figures coefficients.png,
    correlation.png and sign_stability.png into `out_dir` (created if missing).

    Each file is written under a temporary name and renamed into place, so a reader
    never sees a half-written file. NaN in accuracy.json becomes null (valid JSON).
    """
    from behavstats.plots import save_figure
    from behavstats.plots.stats import (  # matplotlib only when figures are wanted
        plot_coefficients,
        plot_correlation,
        plot_sign_stability,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_json_safe(result.accuracy), indent=2, allow_nan=False) + "\n"
    write_atomic(out_dir / "accuracy.json", lambda path: path.write_text(text))
    for name, attribute in TABLES.items():
        table = getattr(result, attribute)
        write_csv(table, out_dir / name)
    figures = {"coefficients.png": plot_coefficients(result.coefficients),
               "correlation.png": plot_correlation(result.correlation),
               "sign_stability.png": plot_sign_stability(result.sign_stability)}
    for name, ax in figures.items():
        save_figure(ax.figure, out_dir / name, dpi=150)


def _json_safe(value: Any) -> Any:
    """`value` with numpy scalars as Python numbers and non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
