"""Every figure of the package: `plot_x(..., ax=None) -> Axes`, one module per topic.

matplotlib and seaborn are imported only inside this folder (and by report.py).
"""

from __future__ import annotations

from pathlib import Path


def save_figure(figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure atomically and close it."""
    import matplotlib.pyplot as plt

    from behavstats.io import write_atomic

    path = Path(path)
    write_atomic(path, lambda tmp: figure.savefig(tmp, dpi=dpi, bbox_inches="tight",
                                                  format=path.suffix.lstrip(".") or "png"))
    plt.close(figure)
    return path
