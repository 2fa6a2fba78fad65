"""The findings block: a sentence per result, each with its number, interval, sample
size and the published figure, generated from the comparison rows (`rows`) so that
it says what the tables say. A sentence whose numbers are missing is left out.

An effect is called significant only by its test (`stats.multiplicity`): q <= 0.05
within its family, or p <= 0.05 for a test on its own; a sentence about a family says
how many were tested, and says so plainly when none is significant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from behavstats.interventions.retarget import CHEESE as CHEESE_MOVED
from behavstats.interventions.retarget import NO_EDIT
from behavstats.report.comparisons import Compared
from behavstats.report.numbers import count
from behavstats.report.rows import CHEESE
from behavstats.stats.multiplicity import ALPHA, SIGNIFICANT, significant
from behavstats.sweeps.probes import early_condition
from behavstats.vocabulary import VECTOR_LAYER, at_layer, edited

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


def _test(c: Compared) -> str:
    """'p = 0.003, q = 0.02', or 'no test'."""
    return c.test or "no test"


def _changes(change: Compared, what: str) -> str:
    """'lowers <what>' or 'raises <what>' when the mean change is significant on its own
    (p <= `ALPHA`), else 'does not change <what> significantly'."""
    if not significant(change.p_value):
        return f"does not change {what} significantly"
    return f"{'lowers' if change.estimate < 0 else 'raises'} {what}"


def _tested(family: Compared, tests: str) -> str:
    """'3 of 56 <tests> significant at q ≤ 0.05'."""
    return f"{count(family.estimate)} of {count(family.n)} {tests} significant at q ≤ {ALPHA:g}"


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
    singles = _get(rows, "regression", SIGNIFICANT)
    if gap is None or bound is None or singles is None:
        return None
    kept = ", ".join(c.row.condition.split(": ")[-1] for c in odds) or "no feature"
    stable = [c.row.condition for c in rows["regression"]
              if c.row.quantity == "selection_probability"]
    return (f"Chosen by log-loss on one half of the decision mazes, the selection keeps "
            f"{len(odds)} feature{'s' * (len(odds) != 1)} ({kept}); on the other half its "
            f"log-loss differs from all 16 features' by {gap.ours}. Stability selection "
            f"finds {', '.join(stable) if stable else 'no feature'} stable, with at most "
            f"{bound.ours} falsely selected features expected. Alone, {count(singles.estimate)}"
            f" of the {count(singles.n)} features predict better than the prior (held-out "
            f"log-loss, q ≤ {ALPHA:g}).")


@_needs("cheese_vector", "p_cheese_median_before", "p_cheese_median_after",
        ("p_cheese_change", CHEESE))
def _cheese_vector(before: Compared, after: Compared, change: Compared) -> str:
    return (f"Subtracting the cheese vector {_changes(change, 'P(cheese)')} at the decision "
            f"square on {_mazes(change.n)} (mean change {change.ours}, sign-flip "
            f"{_test(change)}; median {before.ours} → {after.ours}); published "
            f"{before.theirs} → {after.theirs}.")


@_needs("cheese_vector", ("p_cheese_change", "transfer near x -1"),
        ("p_cheese_change", "transfer far x -1"))
def _transfer(near: Compared, far: Compared) -> str:
    return (f"Another maze's cheese vector changes P(cheese) by {near.ours} when the two "
            f"cheeses lie within 2 cells ({count(near.n)} target mazes) and by {far.ours} "
            f"otherwise ({count(far.n)}); published: it transfers within about 2 cells "
            "and does nothing otherwise.")


@_needs("top_right_vector", "p_topright_median_before",
        ("p_topright_median_after", edited("top_right", 1)),
        ("p_topright_change", edited("top_right", 1)))
def _top_right(before: Compared, after: Compared, change: Compared) -> str:
    return (f"Adding the top-right vector (x 1) {_changes(change, 'P(top-right)')} at the "
            f"decision square on {_mazes(change.n)} (mean change {change.ours}, sign-flip "
            f"{_test(change)}; median {before.ours} → {after.ours}); published: strong at "
            "coefficients 1-2.")


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
    """Where the cheese vector lowers P(cheese) most among the layers where it does so
    significantly, beside the published layer, and how many of the sweep's tests are
    significant."""
    changes = [c for c in rows.get("layer_sweep", []) if c.row.quantity == "p_cheese_change"]
    family = _get(rows, "layer_sweep", SIGNIFICANT)
    if not changes or family is None:
        return None
    lowered = [c for c in changes if c.estimate < 0 and significant(c.q_value)]
    if not lowered:
        verb = "change" if family.estimate == 0 else "lower"
        return (f"At no layer does the cheese vector {verb} P(cheese) significantly "
                f"({_tested(family, 'tests')} on {_mazes(changes[0].n)}).")
    best = min(lowered, key=lambda c: c.estimate)
    published = _get(rows, "layer_sweep", "p_cheese_change", at_layer(CHEESE, VECTOR_LAYER))
    there = "the published layer, " if best is published else ""
    also = ("" if best is published or published is None else
            f"; at the published layer {published.ours} ({_test(published)})")
    return (f"Computed and added at each layer on {_mazes(best.n)}, the cheese vector "
            f"lowers P(cheese) most at {there}{best.row.label.split(' at ')[-1]} "
            f"({best.ours}, {_test(best)}){also}; {_tested(family, 'tests')} (every "
            "layer, vector, coefficient and probability).")


def _ablation(rows: Rows) -> str | None:
    """How many single-channel ablations change P(cheese) significantly, and the
    largest of them beside its tracking score."""
    family = _get(rows, "ablation", SIGNIFICANT)
    if family is None:
        return None
    found = [c for c in rows["ablation"]
             if c.row.quantity == "p_cheese_change" and significant(c.q_value)]
    tests = f"{count(family.n)} channel x method tests (q ≤ {ALPHA:g})"
    if not found:
        return (f"Ablating one channel at a time (zero or mean) changes P(cheese) at the "
                f"decision square significantly in none of the {tests}.")
    best = max(found, key=lambda c: abs(c.estimate))
    return (f"Ablating one channel at a time changes P(cheese) at the decision square "
            f"significantly in {count(family.estimate)} of the {tests}; the largest: "
            f"{best.row.label.split(', ', 1)[-1]}, {best.ours} ({_test(best)}).")


@_needs("probes", ("probe_accuracy", at_layer("reaches_cheese", VECTOR_LAYER)),
        ("baseline", at_layer("reaches_cheese", VECTOR_LAYER)))
def _probes(accuracy: Compared, baseline: Compared) -> str:
    return (f"A linear probe at the published layer tells whether the episode will reach "
            f"the cheese with held-out accuracy {accuracy.ours} on {count(accuracy.n)} "
            f"test observations (baseline {baseline.ours}); published: 78-85% against a "
            "68% baseline.")


@_needs("probes", SIGNIFICANT)
def _probe_tests(family: Compared) -> str:
    found = count(family.estimate) if family.estimate else "None"
    return (f"{found} of the {count(family.n)} layer x target probes beat their control "
            f"task at q ≤ {ALPHA:g} (one-sided sign-flip test over the test levels of "
            "accuracy minus control accuracy).")


_CHEESE_CELL = at_layer("cheese_cell", VECTOR_LAYER)


@_needs("probes", ("spatial_probe_hit", _CHEESE_CELL), ("chance_hit", _CHEESE_CELL),
        ("spatial_probe_random_network", _CHEESE_CELL))
def _spatial_probe(hit: Compared, chance: Compared, random: Compared) -> str:
    return (f"One classifier shared over the cells of the published layer finds the cheese "
            f"(its top cell near the cheese's) in {hit.ours} of {count(hit.n)} held-out "
            f"mazes (chance {chance.ours}); on a randomly initialised network, which sees "
            f"the cheese's sprite too, in {random.ours}.")


_START = early_condition("first_observation", VECTOR_LAYER)


@_needs("probes", ("early_probe_auc", _START), ("early_probe_selectivity", _START),
        ("early_probe_auc", early_condition("decision_square", VECTOR_LAYER)),
        ("early_probe_auc", early_condition("maze_features", "")))
def _early_decision(start: Compared, beyond: Compared, dsq: Compared, features: Compared
                    ) -> str:
    return (f"How early is the decision readable? A probe of the published layer reads "
            f"whether the episode will reach the cheese from its first observation, before "
            f"any move, with AUC {start.ours} on {count(start.n)} decision mazes (against "
            f"its control task: {_test(beyond)}); with the mouse on the decision square "
            f"{dsq.ours}; from the published maze features {features.ours}.")


def _first(rows: Rows, section: str, quantity: str, prefix: str) -> Compared | None:
    """The first row of `section` showing `quantity` whose condition starts with
    `prefix` (the rows list the largest first)."""
    return next((c for c in rows.get(section, []) if c.row.quantity == quantity
                 and c.row.condition.startswith(prefix)), None)


def _patching(rows: Rows) -> str | None:
    """Which channel restores the decision when the cheese moves, both ways, and where
    the cell map's restoration lies."""
    clean = _first(rows, "patching", "restoration", "cheese_moved, denoising, p_cheese: ")
    alone = _first(rows, "patching", "restoration", "cheese_moved, noising, p_cheese: ")
    mass = _get(rows, "patching", "cell_mass_near_cheese", "cheese_moved, denoising, p_cheese")
    chance = _get(rows, "patching", "cell_share_near_cheese",
                  "cheese_moved, denoising, p_cheese")
    if None in (clean, alone, mass, chance):
        return None
    return (f"Patching the maze with the cheese moved off its branch: the clean "
            f"{clean.row.label.split(': ', 1)[1]} restores {clean.ours} of P(cheese) at the "
            f"decision square on its own ({_test(clean)}); patched into the clean run, the "
            f"corrupted {alone.row.label.split(': ', 1)[1].split(' (')[0]} alone carries "
            f"{alone.ours} of the change ({_test(alone)}); "
            f"{mass.ours} of the cell map's restoration lies within a cell of a cheese "
            f"({chance.ours} of the cells by chance) on {_mazes(mass.n)}.")


_ATTRIBUTED = "logit_diff, cheese_removed"


@_needs("attribution", ("output_difference", _ATTRIBUTED),
        ("cheese_share", f"{_ATTRIBUTED}, {VECTOR_LAYER}"),
        ("within_tolerance", f"{_ATTRIBUTED}, {VECTOR_LAYER}"))
def _attribution(difference: Compared, share: Compared, complete: Compared) -> str:
    return (f"Integrated gradients of the cheese-minus-top-right log-odds at the decision "
            f"square, against the same maze without cheese (a change of "
            f"{difference.ours} on {_mazes(difference.n)}): {share.ours} of the published "
            f"layer's attribution lies within a cell of the cheese, and the attributions "
            f"add up to the change within 5% on {complete.ours} of the mazes.")


SENTENCES: tuple[tuple[str, Sentence], ...] = (
    ("behaviour", _behaviour), ("regression", _regression), ("regression", _selection),
    ("cheese_vector", _cheese_vector),
    ("cheese_vector", _transfer), ("top_right_vector", _top_right),
    ("channels", _channels), ("channels", _retarget), ("resample", _resample),
    ("layer_sweep", _layer_sweep), ("ablation", _ablation), ("patching", _patching),
    ("probes", _probes), ("probes", _probe_tests), ("probes", _spatial_probe),
    ("probes", _early_decision), ("attribution", _attribution))
"""Each finding's section and sentence, in report order."""


def findings(rows: Rows) -> list[Finding]:
    """The sentences whose numbers the study has."""
    return [Finding(section, text) for section, sentence in SENTENCES
            if (text := sentence(rows)) is not None]
