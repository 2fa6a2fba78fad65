"""Which of our numbers each report section compares with the published ones, in a
reader's words (`comparisons.Row`); `section_rows(study)` gives them per section."""

from __future__ import annotations

import pandas as pd

from behavstats.evaluate import decision_behaviour
from behavstats.quantities import edited, feature_label, resampled
from behavstats.report.comparisons import Compared, Row, compare
from behavstats.report.study import Study
from behavstats.results import quantity_row, summary_frame, with_published

PUBLISHED_FEATURES = ("euc_cheese_dsq", "steps_cheese_dsq", "euc_cheese_tr", "euc_dsq_tr5")
KEY_FEATURES = PUBLISHED_FEATURES[:3]
DECISION = "decision-square mazes, cheese outside the top-right 5x5"
CHEESE = edited("cheese vector", -1)


def _behaviour(study: Study) -> list[Compared]:
    """From the episodes gathered for the regression (the published 10,000-episode
    protocol) and the evaluation."""
    episodes = study.results["episodes"]
    rows = []
    if episodes is not None:
        chosen = episodes["has_dsq"] & ~episodes["cheese_in_tr5"]
        decision = decision_behaviour(episodes).set_index("group").loc["decision mazes"]
        rows = [quantity_row("decision_share", "vanilla", chosen.mean(), n=len(episodes)),
                *(quantity_row(k, "decision mazes", decision[k], n=decision["n"])
                  for k in ("reached_cheese", "reached_tr5", "reached_top_right"))]
    summary = pd.concat([with_published(summary_frame(rows)), study.summary("evaluation")])
    return compare(summary, [
        Row(f"reaches the cheese ({DECISION}) [%]", "reached_cheese", "decision mazes",
            percent=True, headline=True),
        Row("goes to the top-right 5x5 instead, same mazes [%]", "reached_tr5",
            "decision mazes", percent=True),
        Row("reaches the top-right cell, same mazes [%]", "reached_top_right",
            "decision mazes", percent=True),
        Row(f"share of levels that are {DECISION} [%]", "decision_share", "vanilla",
            percent=True),
        Row("reaches the cheese on the training distribution (cheese in the top-right "
            "5x5) [%]", "success", "training", percent=True),
        Row("reaches the cheese on held-out levels (cheese anywhere) [%]", "success",
            "vanilla", percent=True)], share_intervals=True)


def _regression(study: Study) -> list[Compared]:
    model = "published model"
    return compare(study.summary("regression"), [
        Row("held-out accuracy, the published four-feature L1 model [share]", "accuracy",
            model, headline=True),
        Row("majority baseline (always predict the commoner outcome) [share]", "baseline",
            "all features"),
        Row("held-out accuracy, all 16 features, L1 [share]", "accuracy", "all features"),
        *(Row(f"coefficient of {feature_label(f)} [per SD]", "coefficient", f"{model}: {f}",
              effect=True, headline=True) for f in PUBLISHED_FEATURES),
        Row("correlation of path and Euclidean distance, decision square → cheese",
            "correlation", "steps_cheese_dsq ~ euc_cheese_dsq", effect=True),
        *(Row(f"VIF of {feature_label(f)}", "vif", f"key features: {f}")
          for f in KEY_FEATURES),
        *(Row(f"share of random subsets flipping the sign of {feature_label(f)} [share]",
              "sign_flip_share", f) for f in KEY_FEATURES[:2])])


def _fields(study: Study) -> list[Compared]:
    table = study.results["fields"]
    if table is None or "p_cheese" not in table:
        return []
    examples = table.drop_duplicates("level")
    rows = [quantity_row(q, f"level {r.level}", getattr(r, q), n=r.n_cells)
            for r in examples.itertuples() for q in ("p_cheese", "p_topright")]
    return compare(summary_frame(rows), [
        Row(f"level {level}: P({what}) at the decision square", q, f"level {level}")
        for level in examples["level"] for q, what in (("p_cheese", "move towards the "
                                                        "cheese"),
                                                       ("p_topright", "move towards the "
                                                        "top-right cell"))])


def _cheese_vector(study: Study) -> list[Compared]:
    return compare(study.summary("cheese_vector"), [
        Row("median P(cheese) at the decision square, unedited", "p_cheese_median_before",
            CHEESE),
        Row("median P(cheese), cheese vector subtracted (x −1)", "p_cheese_median_after",
            CHEESE, headline=True),
        Row("mean change of P(cheese), cheese vector x −1", "p_cheese_change", CHEESE,
            effect=True, published_text="median 0.81 → 0.03", headline=True),
        Row("share of levels where P(cheese) rose, x −1 [%]", "p_cheese_share_increased",
            CHEESE, percent=True),
        Row("mean change of P(top-right), cheese vector x −1", "p_topright_change", CHEESE,
            effect=True),
        Row("mean change of P(cheese), cheese vector added (x +1)", "p_cheese_change",
            edited("cheese vector", 1), effect=True, published_text="negligible"),
        Row("mean change of P(cheese), random vector of the same magnitude x −1",
            "p_cheese_change", edited("random vector", -1), effect=True,
            published_text="incoherent policy", headline=True),
        Row("transfer: another maze's vector, cheeses within 2 cells", "p_cheese_change",
            edited("transfer near", -1), effect=True,
            published_text="transfers within about 2 cells"),
        Row("transfer: another maze's vector, cheeses farther apart", "p_cheese_change",
            edited("transfer far", -1), effect=True, published_text="does nothing"),
        Row("P(cheese) edited minus with the cheese removed (0: acts as if there were "
            "no cheese)", "p_cheese_patched_minus_absent", CHEESE, effect=True)])


def _top_right_vector(study: Study) -> list[Compared]:
    vector = "top-right vector"
    words = {0.5: "weak", 1: "strong", 2: "strong", 5: "garbage (5-20)",
             10: "garbage (5-20)"}
    return compare(study.summary("top_right_vector"), [
        Row("median P(top-right) at the decision square, unedited",
            "p_topright_median_before", edited(vector, 1)),
        *(Row(f"median P(top-right), top-right vector x {c:g}", "p_topright_median_after",
              edited(vector, c), published_text=w, headline=c == 1)
          for c, w in words.items()),
        Row("mean change of P(top-right), x 1", "p_topright_change", edited(vector, 1),
            effect=True, published_text="strong"),
        Row("mean change of P(top-right), subtracted (x −1)", "p_topright_change",
            edited(vector, -1), effect=True, published_text="little effect"),
        Row("mean change of P(top-right), another maze's vector x 1", "p_topright_change",
            edited("transfer", 1), effect=True, published_text="transfers across mazes"),
        Row("interaction with the cheese vector, P(top-right) (0: additive)",
            "p_topright_interaction", f"{CHEESE} + {edited(vector, 1)}", effect=True)])


def _channels(study: Study) -> list[Compared]:
    summary = study.summary("channels")
    scores = summary[summary["quantity"] == "channel_score"]
    best = scores["condition"].iloc[0] if len(scores) else ""
    rows = compare(summary, [
        Row(f"cheese-tracking score of the best channel ({best})", "channel_score", best,
            published_text="channel 55 (of 128)", headline=True),
        Row(f"share of mazes whose {best} arg-max is within a cell of the cheese [%]",
            "argmax_hit", best, percent=True, published_text="about 0.6 at the cheese, "
            "−0.2 elsewhere"),
        Row("channels tracking the cheese (score ≥ 0.5)", "tracked_channels",
            "score >= 0.5", published_text="11 of 128", whole=True)])
    retarget = study.summary("retarget")
    by_distance = study.results["retarget"].by_distance if study.results["retarget"] \
        is not None else pd.DataFrame()
    extra = []
    for r in by_distance[by_distance.get("channel_set", pd.Series(dtype=str)) == "top1"
                         ].itertuples() if len(by_distance) else ():
        extra.append(quantity_row("p_path", f"clamp top1, {r.distance_bin} steps",
                                  r.p_path_mean, r.p_path_ci_low, r.p_path_ci_high,
                                  r.n_targets))
    retarget = pd.concat([retarget, summary_frame(extra)])
    bins = [r["condition"] for r in extra]
    return rows + compare(retarget, [
        Row("P(follow the path to the target), no clamp", "p_path", "no clamp"),
        Row("P(path), best channel clamped", "p_path", "clamp top1"),
        Row("P(path), clamped minus no clamp", "p_path_lift", "clamp top1", effect=True,
            published_text="the clamp attracts the agent", headline=True),
        *(Row(f"P(path), best channel clamped, target {c.split(', ')[1]} from the path to "
              "the top-right", "p_path", c,
              published_text="about 0.9 on the path" if k == 0 else
              "below 0.3 at distance 25" if k == len(bins) - 1 else "")
          for k, c in enumerate(bins)),
        Row("reach rate, best channel clamped, top-left targets [%]", "reach",
            "clamp top1, top-left", percent=True),
        Row("reach rate, best channel clamped, bottom-right targets [%]", "reach",
            "clamp top1, bottom-right", percent=True),
        Row("Spearman correlation of P(path) with the distance to the path",
            "spearman_p_path_vs_distance", "clamp top1",
            published_text="falls with distance")])


def _resample(study: Study) -> list[Compared]:
    result = study.results["resample"]
    channels = ", ".join(map(str, result.params["channels"])) if result is not None else ""
    names = {"cheese": f"cheese channels ({channels})", "random": "as many random channels",
             "cheese_single": "the best cheese channel alone",
             "random_single": "one random channel"}
    return compare(study.summary("resample"), [
        *(Row(f"{words}, {location} cheese location (published statistic)",
              "published_change", resampled(name, location), effect=True, percent=True,
              headline=name == "cheese")
          for name, words in names.items() for location in ("same", "different")),
        Row("TV distance, cheese minus random channels, different location",
            "tv_difference", "cheese - random, different location", effect=True)])


BUILDERS = {"behaviour": _behaviour, "regression": _regression, "fields": _fields,
            "cheese_vector": _cheese_vector, "top_right_vector": _top_right_vector,
            "channels": _channels, "resample": _resample}


def section_rows(study: Study) -> dict[str, list[Compared]]:
    """Section key -> its comparison rows (those the study measured)."""
    return {key: build(study) for key, build in BUILDERS.items()}
