"""The findings block: a sentence per result, each with its number, interval, sample
size and the published figure, generated from the comparison rows (`rows`) so that
it says what the tables say. A sentence whose numbers are missing is left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from behavstats.hooks import VECTOR_LAYER
from behavstats.interventions.retarget import CHEESE as CHEESE_MOVED
from behavstats.interventions.retarget import NO_EDIT
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


Sentence = Callable[[Rows], str | None]


def _needs(section: str, *keys: str | tuple[str, str]) -> Callable[..., Sentence]:
    """A sentence written from the rows of `section` named by `keys` (a quantity, or
    (quantity, condition)); None when any of them is missing."""
    def wrap(write: Callable[..., str]) -> Sentence:
        def sentence(rows: Rows) -> str | None:
            found = [_get(rows, section, *((key,) if isinstance(key, str) else key))
                     for key in keys]
            return None if None in found else write(*found)
        return sentence
    return wrap


def _published(c: Compared) -> str:
    """'published 0.83', or 'published: <the publication's words>'."""
    if c.published == c.published:
        return f"published {c.theirs}"
    return f"published: {c.theirs}" if c.theirs else "no published figure"


def _mazes(n: float) -> str:
    return f"{count(n)} maze{'' if n == 1 else 's'}"


@_needs("behaviour", "reached_cheese", "reached_tr5")
def _behaviour(c: Compared, tr5: Compared) -> str:
    return (f"On {count(c.n)} mazes with a decision square and the cheese outside the "
            f"top-right 5x5, the agent reaches the cheese in {c.ours} of episodes and "
            f"goes to the top-right 5x5 in {tr5.ours}; {_published(c)}.")


@_needs("regression", ("log_loss", "published model"), ("auc", "published model"),
        ("baseline_log_loss", "all features"), ("accuracy", "published model"), "baseline")
def _regression(loss: Compared, auc: Compared, prior: Compared, acc: Compared,
                base: Compared) -> str:
    return (f"The published four-feature L1 model predicts from the maze alone whether the "
            f"agent goes to the cheese with held-out log-loss {loss.ours} against "
            f"{prior.ours} with no feature, and ROC AUC {auc.ours}, on {count(acc.n)} "
            f"mazes; its accuracy is {acc.ours} (baseline {base.ours}); {_published(acc)} "
            f"(baseline {base.theirs}).")


def _selection(rows: Rows) -> str | None:
    """What the selection kept and how good it is on rows it never saw; what is stable."""
    odds = [c for c in rows.get("regression", []) if c.row.quantity == "odds_ratio"]
    gap = next((c for c in rows.get("regression", [])
                if c.row.quantity == "log_loss_vs_all"
                and c.row.condition.startswith("selected")), None)
    bound = _get(rows, "regression", "false_selection_bound")
    if gap is None or bound is None:
        return None
    kept = ", ".join(c.row.condition.split(": ")[-1] for c in odds) or "no feature"
    stable = [c.row.condition for c in rows["regression"]
              if c.row.quantity == "selection_probability"]
    return (f"Chosen by log-loss on one half of the decision mazes, the selection keeps "
            f"{len(odds)} feature{'s' * (len(odds) != 1)} ({kept}); on the other half its "
            f"log-loss differs from all 16 features' by {gap.ours}. Stability selection "
            f"finds {', '.join(stable) if stable else 'no feature'} stable, with at most "
            f"{bound.ours} falsely selected features expected.")


@_needs("cheese_vector", "p_cheese_median_before", "p_cheese_median_after",
        ("p_cheese_change", CHEESE))
def _cheese_vector(before: Compared, after: Compared, change: Compared) -> str:
    return (f"Subtracting the cheese vector lowers the median P(cheese) at the decision "
            f"square from {before.ours} to {after.ours} on {_mazes(change.n)} (mean "
            f"change {change.ours}); published {before.theirs} → {after.theirs}.")


@_needs("cheese_vector", ("p_cheese_change", "transfer near x -1"),
        ("p_cheese_change", "transfer far x -1"))
def _transfer(near: Compared, far: Compared) -> str:
    return (f"Another maze's cheese vector changes P(cheese) by {near.ours} when the two "
            f"cheeses lie within 2 cells ({count(near.n)} target mazes) and by {far.ours} "
            f"otherwise ({count(far.n)}); published: it transfers within about 2 cells "
            "and does nothing otherwise.")


@_needs("top_right_vector", "p_topright_median_before",
        ("p_topright_median_after", "top-right vector x 1"),
        ("p_topright_change", "top-right vector x 1"))
def _top_right(before: Compared, after: Compared, change: Compared) -> str:
    return (f"Adding the top-right vector (x 1) raises the median P(top-right) at the "
            f"decision square from {before.ours} to {after.ours} on {_mazes(change.n)} "
            f"(mean change {change.ours}); published: strong at coefficients 1-2.")


@_needs("channels", "channel_score", "argmax_hit")
def _channels(score: Compared, hit: Compared) -> str:
    return (f"{score.row.condition.capitalize()} tracks the cheese best (score "
            f"{score.ours}; its arg-max lies within a cell of the cheese in {hit.ours} of "
            f"{count(hit.n)} cheese placements); published: channel 55 of the larger "
            "network.")


@_needs("channels", ("p_path", "top1"), ("p_path", NO_EDIT), ("p_path", CHEESE_MOVED))
def _retarget(clamp: Compared, unedited: Compared, cheese: Compared) -> str:
    return (f"Clamping the best channel at a target square raises the success of the path "
            f"there (geometric-mean probability) to {clamp.ours} from {unedited.ours} "
            f"unedited, against {cheese.ours} with the real cheese moved there "
            f"({_mazes(clamp.n)}); published: moving the cheese beats every clamp, and "
            "clamping helps most near the path to the top-right.")


@_needs("resample", ("published_change", "cheese, different location"),
        ("published_change", "random, different location"))
def _resample(cheese: Compared, random: Compared) -> str:
    return (f"Resampling the cheese channels from a maze with the cheese elsewhere changes "
            f"the action probabilities by {cheese.ours} (published statistic, "
            f"{_mazes(cheese.n)}) against {random.ours} for random channels; "
            f"published {cheese.theirs} against {random.theirs}.")


def _layer_sweep(rows: Rows) -> str | None:
    """Where the cheese vector steers most, beside the published layer."""
    changes = [c for c in rows.get("layer_sweep", []) if c.row.quantity == "p_cheese_change"]
    published = _get(rows, "layer_sweep", "p_cheese_change", f"{CHEESE} at {VECTOR_LAYER}")
    if not changes or published is None:
        return None
    best = min(changes, key=lambda c: c.estimate)
    where = best.row.label.split(" at ")[-1]
    there = "the published layer, " if best is published else ""
    also = "" if best is published else f"; at the published layer {published.ours}"
    return (f"Computed and added at each layer on {_mazes(best.n)}, the cheese vector "
            f"lowers P(cheese) most at {there}{where} ({best.ours}){also}, and changes it "
            f"by {changes[-1].ours} at {changes[-1].row.label.split(' at ')[-1]}.")


@_needs("probes", ("probe_accuracy", f"reaches_cheese at {VECTOR_LAYER}"),
        ("baseline", f"reaches_cheese at {VECTOR_LAYER}"))
def _probes(accuracy: Compared, baseline: Compared) -> str:
    return (f"A linear probe at the published layer tells whether the episode will reach "
            f"the cheese with held-out accuracy {accuracy.ours} on {count(accuracy.n)} "
            f"test observations (baseline {baseline.ours}); published: 78-85% against a "
            "68% baseline.")


SENTENCES: tuple[tuple[str, Sentence], ...] = (
    ("behaviour", _behaviour), ("regression", _regression), ("regression", _selection),
    ("cheese_vector", _cheese_vector),
    ("cheese_vector", _transfer), ("top_right_vector", _top_right),
    ("channels", _channels), ("channels", _retarget), ("resample", _resample),
    ("layer_sweep", _layer_sweep), ("probes", _probes))
"""Each finding's section and sentence, in report order."""


def findings(rows: Rows) -> list[Finding]:
    """The sentences whose numbers the study has."""
    return [Finding(section, text) for section, sentence in SENTENCES
            if (text := sentence(rows)) is not None]
