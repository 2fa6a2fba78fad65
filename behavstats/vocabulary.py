"""The package's words, defined once and importable without torch or numpy.

Every producer (experiments, the study, the regression), the findings, the command
line and the explorer spell these names through this module: the layers the
published vectors live at, the procgen modes, the top-right region, the published
feature sets and the decision-maze filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only for the annotation: the CLI imports this module
    import pandas as pd

WORLD_DIMS = {"hard": 25, "easy": 15}
"""procgen distribution modes and the side of their world grid: hard (the published
agents') and easy."""
MODES = tuple(WORLD_DIMS)
DEFAULT_MODE = "hard"
PROCGEN_STEP_LIMIT = 500
"""procgen's maze ends every episode after this many steps."""

VECTOR_LAYER = "embedder.block2.res1.resadd"
"""The layer of the published cheese and top-right vectors (and of the cheese
channels)."""

TOP_RIGHT_REGION = 5
"""Side of the top-right region, in maze cells: the published filter and label
("tr5") use the 5x5 corner of the maze."""

PUBLISHED_MODEL = ("euc_cheese_dsq", "steps_cheese_dsq", "euc_cheese_tr", "euc_dsq_tr5")
"""The four features of the published L1 fit, in the published order."""
KEY_FEATURES = PUBLISHED_MODEL[:3]
"""The three predictive features whose VIFs the published study gave (1.05 / 4.64 /
4.66)."""

HAS_DSQ = "has_dsq"
CHEESE_IN_TR5 = "cheese_in_tr5"
DECISION_MAZES = "decision-square mazes, cheese outside the top-right 5x5"
"""What `decision_mazes` keeps, in words (report captions and CLI output)."""


def decision_mask(episodes: pd.DataFrame, require_dsq: bool = True,
                  exclude_cheese_in_tr5: bool = True) -> pd.Series:
    """True on the rows of the published filter ("decision mazes"): with a decision
    square and the cheese outside the top-right 5x5. Either filter can be switched
    off. An unknown (NA) flag counts against the row: no decision square, cheese in
    the region. The table needs the flags it filters on (KeyError naming them)."""
    needed = [name for name, on in ((HAS_DSQ, require_dsq),
                                    (CHEESE_IN_TR5, exclude_cheese_in_tr5)) if on]
    missing = [name for name in needed if name not in episodes.columns]
    if missing:
        raise KeyError(f"the table lacks column(s) {missing} of the decision-maze filter")
    import pandas as pd

    keep = pd.Series(True, index=episodes.index)
    if require_dsq:
        keep &= episodes[HAS_DSQ].astype("boolean").fillna(False).astype(bool)
    if exclude_cheese_in_tr5:
        keep &= ~episodes[CHEESE_IN_TR5].astype("boolean").fillna(True).astype(bool)
    return keep


def decision_mazes(episodes: pd.DataFrame, require_dsq: bool = True,
                   exclude_cheese_in_tr5: bool = True) -> pd.DataFrame:
    """The rows of `episodes` that `decision_mask` keeps, with their original index."""
    return episodes.loc[decision_mask(episodes, require_dsq, exclude_cheese_in_tr5)]
