"""Writing a study's results to a directory, each file atomically."""

from pathlib import Path

from behavstats.io import plain, write_csv, write_json
from behavstats.stats.study import StudyResult

TABLES = {"coefficients.csv": "coefficients", "single_feature.csv": "single_feature",
          "vif.csv": "vif", "selection.csv": "selection",
          "sign_stability.csv": "sign_stability", "logit.csv": "logit",
          "published_model.csv": "published_model", "key_vif.csv": "key_vif"}
"""CSV file name -> StudyResult attribute (written when not None)."""


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
    write_json(plain(result.accuracy), out_dir / "accuracy.json")
    for name, attribute in TABLES.items():
        table = getattr(result, attribute)
        if table is not None:
            write_csv(table, out_dir / name)
        else:  # no stale table of an earlier study in the same folder
            (out_dir / name).unlink(missing_ok=True)
    figures = {"coefficients.png": plot_coefficients(result.coefficients),
               "correlation.png": plot_correlation(result.correlation),
               "sign_stability.png": plot_sign_stability(result.sign_stability)}
    for name, ax in figures.items():
        save_figure(ax.figure, out_dir / name, dpi=150)
