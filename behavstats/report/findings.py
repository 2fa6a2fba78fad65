"""The findings block: a sentence per result, each with its number, interval, sample
size and the published figure, generated from the comparison rows (`rows`) so that
it says what the tables say. A sentence whose numbers are missing is left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from behavstats.report.comparisons import Compared
from behavstats.report.numbers import count
from behavstats.report.rows import CHEESE

Rows = dict[str, list[Compared]]


@dataclass(frozen=True)
class Finding:
    """One sentence (plain text, numbers included) and the section it links to."""

    section: str
    text: str


def _get(rows: Rows, section: str, quantity: str, condition: str | None = None
         ) -> Compared | None:
    for c in rows.get(section, []):
        if c.row.quantity == quantity and (condition is None or c.row.condition == condition):
            return c
    return None


def _published(c: Compared) -> str:
    """'published 0.83', or 'published: <the publication's words>'."""
    if c.published == c.published:
        return f"published {c.theirs}"
    return f"published: {c.theirs}" if c.theirs else "no published figure"


def _mazes(n: float) -> str:
    return f"{count(n)} maze{'' if n == 1 else 's'}"


def _behaviour(rows: Rows) -> str | None:
    pair = _pair(rows, "behaviour", ("reached_cheese", None), ("reached_tr5", None))
    if pair is None:
        return None
    c, tr5 = pair
    return (f"On {count(c.n)} mazes with a decision square and the cheese outside the "
            f"top-right 5x5, the agent reaches the cheese in {c.ours} of episodes and "
            f"goes to the top-right 5x5 in {tr5.ours}; {_published(c)}.")


def _regression(rows: Rows) -> str | None:
    acc = _get(rows, "regression", "accuracy", "published model")
    base = _get(rows, "regression", "baseline")
    if acc is None or base is None:
        return None
    return (f"The published four-feature L1 model predicts from the maze alone whether the "
            f"agent goes to the cheese with held-out accuracy {acc.ours} on {count(acc.n)} "
            f"test episodes per split (baseline {base.ours}); {_published(acc)} (baseline "
            f"{base.theirs}).")


def _coefficient(rows: Rows) -> str | None:
    coefs = [c for c in rows.get("regression", []) if c.row.quantity == "coefficient"]
    if not coefs:
        return None
    c = max(coefs, key=lambda c: abs(c.estimate))
    feature = c.row.label.removeprefix("coefficient of ").removesuffix(" [per SD]")
    return (f"Its strongest feature is the {feature}: {c.ours} per SD (95% range over "
            f"splits); {_published(c)} ({c.verdict}).")


def _cheese_vector(rows: Rows) -> str | None:
    before = _get(rows, "cheese_vector", "p_cheese_median_before")
    after = _get(rows, "cheese_vector", "p_cheese_median_after")
    change = _get(rows, "cheese_vector", "p_cheese_change", CHEESE)
    if None in (before, after, change):
        return None
    return (f"Subtracting the cheese vector lowers the median P(cheese) at the decision "
            f"square from {before.ours} to {after.ours} on {_mazes(change.n)} (mean "
            f"change {change.ours}); published {before.theirs} → {after.theirs}.")


def _random_vector(rows: Rows) -> str | None:
    c = _get(rows, "cheese_vector", "p_cheese_change", "random vector x -1")
    if c is None:
        return None
    return (f"A random vector of the same magnitude changes P(cheese) by {c.ours} on "
            f"{_mazes(c.n)}; {_published(c)}.")


def _pair(rows: Rows, section: str, first: tuple[str, str | None],
          second: tuple[str, str | None]) -> tuple[Compared, Compared] | None:
    """Two rows of a section by (quantity, condition or None for the first one), or
    None if either is missing."""
    a, b = (_get(rows, section, *key) for key in (first, second))
    return None if a is None or b is None else (a, b)


def _transfer(rows: Rows) -> str | None:
    pair = _pair(rows, "cheese_vector", ("p_cheese_change", "transfer near x -1"),
                 ("p_cheese_change", "transfer far x -1"))
    if pair is None:
        return None
    near, far = pair
    return (f"Another maze's cheese vector changes P(cheese) by {near.ours} when the two "
            f"cheeses lie within 2 cells ({count(near.n)} target mazes) and by {far.ours} "
            f"otherwise ({count(far.n)}); published: it transfers within about 2 cells "
            "and does nothing otherwise.")


def _top_right(rows: Rows) -> str | None:
    before = _get(rows, "top_right_vector", "p_topright_median_before")
    after = _get(rows, "top_right_vector", "p_topright_median_after", "top-right vector x 1")
    change = _get(rows, "top_right_vector", "p_topright_change", "top-right vector x 1")
    if None in (before, after, change):
        return None
    return (f"Adding the top-right vector (x 1) raises the median P(top-right) at the "
            f"decision square from {before.ours} to {after.ours} on {_mazes(change.n)} "
            f"(mean change {change.ours}); published: strong at coefficients 1-2.")


def _channels(rows: Rows) -> str | None:
    score = _get(rows, "channels", "channel_score")
    hit = _get(rows, "channels", "argmax_hit")
    if score is None or hit is None:
        return None
    channel = score.row.condition
    return (f"{channel.capitalize()} tracks the cheese best (score {score.ours}; its "
            f"arg-max lies within a cell of the cheese in {hit.ours} of {count(hit.n)} "
            f"cheese placements); published: channel 55 of the larger network.")


def _retarget(rows: Rows) -> str | None:
    pair = _pair(rows, "channels", ("p_path_lift", None), ("p_path", "clamp top1, 0 steps"))
    if pair is None:
        return None
    lift, on_path = pair
    return (f"Clamping that channel at a target square changes P(follow the path to it) "
            f"by {lift.ours} on {_mazes(lift.n)}; on the path to the top-right it is "
            f"{on_path.ours} ({count(on_path.n)} targets), published about 0.9.")


def _resample(rows: Rows) -> str | None:
    pair = _pair(rows, "resample", ("published_change", "cheese, different location"),
                 ("published_change", "random, different location"))
    if pair is None:
        return None
    cheese, random = pair
    return (f"Resampling the cheese channels from a maze with the cheese elsewhere changes "
            f"the action probabilities by {cheese.ours} (published statistic, "
            f"{_mazes(cheese.n)}) against {random.ours} for random channels; "
            f"published {cheese.theirs} against {random.theirs}.")


SENTENCES: tuple[tuple[str, Callable[[Rows], str | None]], ...] = (
    ("behaviour", _behaviour), ("regression", _regression), ("regression", _coefficient),
    ("cheese_vector", _cheese_vector), ("cheese_vector", _random_vector),
    ("cheese_vector", _transfer), ("top_right_vector", _top_right),
    ("channels", _channels), ("channels", _retarget), ("resample", _resample))
"""Each finding's section and sentence, in report order."""


def findings(rows: Rows) -> list[Finding]:
    """The sentences whose numbers the study has."""
    return [Finding(section, text) for section, sentence in SENTENCES
            if (text := sentence(rows)) is not None]
