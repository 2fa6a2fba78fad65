"""The package's words, defined once and importable without torch or numpy.

Every producer (experiments, the study, the regression), the findings, the command
line and the explorer spell these names through this module: the procgen modes, the
layers the published vectors live at, the top-right region, the published feature
sets, the decision-maze filter, the names of quantities and conditions, and the one
estimate-with-interval type (`Estimate`) whose `row` is a summary row.

Spellings (one per meaning):

- a probability at the decision square is `p_cheese` / `p_topright` (P(step towards
  the cheese / the top-right cell)), and their summary quantities `p_topright_change`,
  `p_topright_median_after`, ...; `p_top_right` is not used (the layer sweep wrote it
  up to version 0.2; results saved then are read with the new name).
- the vectors are keyed `cheese` and `top_right` in tables and settings (a key, like
  a column name), and named "cheese vector" / "top-right vector" in conditions and
  prose (`VECTORS`, `vector_name`).
- an estimate with its interval is `estimate, ci_low, ci_high, n` (and `p_value,
  q_value` where a test was made), in summary rows, in effect tables and in
  `Estimate`; a table with several estimates names each `<x>, <x>_ci_low, <x>_ci_high`.
- a summary row's quantity is a key of `behavstats.quantities.QUANTITIES` (which
  gives its label and unit; the tests hold every result's summary to it), its
  condition one of the names below or built by `edited`, `resampled`, `at_layer`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only for the annotation: the CLI imports this module
    import pandas as pd

# --- procgen ---------------------------------------------------------------------------

WORLD_DIMS = {"hard": 25, "easy": 15}
"""procgen distribution modes and the side of their world grid: hard (the published
agents') and easy."""
MODES = tuple(WORLD_DIMS)
DEFAULT_MODE = "hard"
PROCGEN_STEP_LIMIT = 500
"""procgen's maze ends every episode after this many steps."""

# --- layers ----------------------------------------------------------------------------

VECTOR_LAYER = "embedder.block2.res1.resadd"
"""The layer of the published cheese and top-right vectors (and of the cheese
channels)."""
HIDDEN_LAYER = "embedder.relufc"
"""The embedder's output: the 256 features both heads read."""

# --- the top-right region --------------------------------------------------------------

TOP_RIGHT_REGION = 5
"""Side of the top-right region, in maze cells: the published filter and label
("tr5") use the 5x5 corner of the maze, the published agents' training region
(procgen's `rand_region` = 5) is the same corner."""

# --- features and the published models -------------------------------------------------

FEATURE_METRICS = ("euc", "taxi", "steps")
"""Euclidean distance, taxicab distance, shortest-path length (`behavstats.features`)."""
FEATURE_PAIRS = ("cheese_dsq", "cheese_tr", "dsq_tr", "cheese_tr5", "dsq_tr5")
"""The pairs of points the distances are measured between (tr: the top-right cell,
tr5: the nearest cell of the top-right `TOP_RIGHT_REGION` x `TOP_RIGHT_REGION`)."""
PUBLISHED_FEATURES: tuple[str, ...] = tuple(
    f"{metric}_{pair}" for metric in FEATURE_METRICS for pair in FEATURE_PAIRS
) + ("cheese_norm",)
"""The 16 metrics of the published behavioural regression (its candidate features)."""
PUBLISHED_MODEL = ("euc_cheese_dsq", "steps_cheese_dsq", "euc_cheese_tr", "euc_dsq_tr5")
"""The four features of the published L1 fit, in the published order."""
KEY_FEATURES = PUBLISHED_MODEL[:3]
"""The three predictive features whose VIFs the published study gave (1.05 / 4.64 /
4.66)."""
LABEL = "reached_cheese"
"""The regression's label: the episode reached the cheese (+10 reward)."""

# --- the decision-maze filter ----------------------------------------------------------

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
    missing = missing_flags(episodes, require_dsq, exclude_cheese_in_tr5)
    if missing:
        raise KeyError(f"the table lacks column(s) {missing} of the decision-maze filter")
    import pandas as pd

    keep = pd.Series(True, index=episodes.index)
    if require_dsq:
        keep &= episodes[HAS_DSQ].astype("boolean").fillna(False).astype(bool)
    if exclude_cheese_in_tr5:
        keep &= ~episodes[CHEESE_IN_TR5].astype("boolean").fillna(True).astype(bool)
    return keep


def missing_flags(episodes: pd.DataFrame, require_dsq: bool = True,
                  exclude_cheese_in_tr5: bool = True) -> list[str]:
    """The flag columns the filter asked for that `episodes` lacks."""
    needed = [name for name, on in ((HAS_DSQ, require_dsq),
                                    (CHEESE_IN_TR5, exclude_cheese_in_tr5)) if on]
    return [name for name in needed if name not in episodes.columns]


def decision_mazes(episodes: pd.DataFrame, require_dsq: bool = True,
                   exclude_cheese_in_tr5: bool = True) -> pd.DataFrame:
    """The rows of `episodes` that `decision_mask` keeps, with their original index."""
    return episodes.loc[decision_mask(episodes, require_dsq, exclude_cheese_in_tr5)]


# --- quantity and condition names ------------------------------------------------------

P_CHEESE = "p_cheese"
"""P(step towards the cheese) at the decision square."""
P_TOPRIGHT = "p_topright"
"""P(step towards the top-right cell) at the decision square."""
REACHED = ("reached_cheese", "reached_top_right", "reached_tr5")
"""Where an episode got to: the cheese, the top-right cell, the top-right 5x5 (episode
columns and the evaluation's quantities)."""

TRAINING = "training"
"""Condition: the training distribution (cheese in the top-right region)."""
VANILLA = "vanilla"
"""Condition: unedited procgen levels (cheese anywhere)."""
DECISION_GROUP = "decision mazes"
"""Condition: the vanilla episodes `decision_mazes` keeps."""
MISSES = "misses"
"""Condition: the decision mazes' episodes that did not reach the cheese."""

VECTORS = {"cheese": "cheese vector", "top_right": "top-right vector"}
"""The vectors' keys (tables, settings) and their names (conditions, prose)."""


def vector_name(key: str) -> str:
    """The name of the vector keyed `key`: 'top_right' -> 'top-right vector' (a name
    already given is returned as it is)."""
    return VECTORS.get(key, key)


def edited(vector: str, coeff: float) -> str:
    """The condition of a vector edit: '<vector> x <coeff>' (e.g. 'cheese vector x -1');
    a vector key (`VECTORS`) is written as its name."""
    return f"{vector_name(vector)} x {coeff:g}"


def resampled(channel_set: str, location: str) -> str:
    """The condition of a resampling: '<channel set>, <location> location'."""
    return f"{channel_set}, {location} location"


def at_layer(condition: str, layer: str) -> str:
    """A condition measured at one layer: '<condition> at <layer>'."""
    return f"{condition} at {layer}"


# --- estimates -------------------------------------------------------------------------

SUMMARY_COLUMNS = ("quantity", "condition", "estimate", "ci_low", "ci_high", "n", "p_value",
                   "q_value")
"""The columns of every summary row. p_value, q_value: the row's test
(`stats.multiplicity`; q over its family), NaN where no test was made."""
ESTIMATE_COLUMNS = ("estimate", "ci_low", "ci_high", "n")
"""The columns of an estimate in an effect table."""
NAN = float("nan")


@dataclass(frozen=True)
class Estimate:
    """An estimate with its interval: `estimate` [`ci_low`, `ci_high`] over `n` units
    (NaN bounds: no interval), and where a test was made its `p_value` and `q_value`.

    `row(quantity, condition)` is the summary row; `columns()` the effect-table
    columns. For scripts written when the bootstrap helpers returned dicts, the fields
    also answer `estimate["n"]`, and the old key "mean" (with a DeprecationWarning)."""

    estimate: float
    ci_low: float = NAN
    ci_high: float = NAN
    n: float = NAN
    p_value: float = NAN
    q_value: float = NAN

    def row(self, quantity: str, condition: str) -> dict:
        """The summary row (`SUMMARY_COLUMNS`)."""
        return {"quantity": quantity, "condition": condition, **asdict(self)}

    def columns(self) -> dict:
        """estimate, ci_low, ci_high, n: the columns of an effect table."""
        return {name: getattr(self, name) for name in ESTIMATE_COLUMNS}

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))

    def __getitem__(self, key: str) -> float:
        if key in RENAMED_KEYS:
            warnings.warn(f"the key {key!r} is now the field `estimate` of an Estimate "
                          f"(use .estimate)", DeprecationWarning, stacklevel=2)
            key = RENAMED_KEYS[key]
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


RENAMED_KEYS = {"mean": "estimate", "mean_change": "estimate"}
"""Old names of an estimate (dict keys of `effects.mean_ci` / `change_summary` up to
version 0.2) and what replaced them."""


def renamed(module: str, names: dict[str, tuple[str, object]]):
    """A module `__getattr__` that answers each old name of `names` (old -> (what
    replaced it, its value)) with the value and a DeprecationWarning naming the
    replacement: `__getattr__ = renamed(__name__, {...})`."""

    def __getattr__(name: str):
        if name in names:
            new, value = names[name]
            warnings.warn(f"{module}.{name} is {new}", DeprecationWarning, stacklevel=2)
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


class RenamedKeys(dict):
    """A dict whose old keys (`RENAMED_KEYS`) still answer, with a DeprecationWarning
    naming the new key."""

    def __missing__(self, key):
        if key in RENAMED_KEYS and RENAMED_KEYS[key] in self:
            warnings.warn(f"the key {key!r} is now {RENAMED_KEYS[key]!r}",
                          DeprecationWarning, stacklevel=2)
            return self[RENAMED_KEYS[key]]
        raise KeyError(key)

# --- attribution targets and baselines, value-map conditions ---------------------------

LOGIT_DIFF = "logit_diff"
"""The decision-square quantity log P(cheese move) - log P(top-right move), i.e. the
logsumexp of the cheese move's action logits minus that of the top-right move's."""
DECISION_TARGETS = (P_CHEESE, LOGIT_DIFF)
"""The quantities at the decision square that attribution and patching explain."""
CHEESE_REMOVED = "cheese_removed"
"""Baseline / corrupted input: the same maze and mouse cell with the cheese removed."""
BLANK = "blank"
"""Baseline: the same level with every wall of the maze proper removed and no cheese
(`maze.edits.open_maze`), the mouse on the same cell."""
VALUE_CONDITIONS = ("present", "absent", "cheese_vector")
"""The value maps' conditions: the cheese present, absent (removed), and present with
the cheese vector added (`behavstats.maps.value`)."""
