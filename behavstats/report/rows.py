"""Which of our numbers each report section compares with the published ones, in a
reader's words (`comparisons.Row`); `section_rows(study)` gives them per section."""

from __future__ import annotations

import re

import pandas as pd

from behavstats.evaluation import decision_behaviour
from behavstats.hooks import VECTOR_LAYER
from behavstats.interventions.retarget import CHEESE as CHEESE_MOVED
from behavstats.interventions.retarget import NO_EDIT
from behavstats.quantities import edited, feature_label, resampled
from behavstats.report.comparisons import Compared, Row, compare
from behavstats.results import quantity_row, summary_frame, with_published
from behavstats.stats.multiplicity import ALPHA, SIGNIFICANT
from behavstats.stats.study import INFERENCE_HALF, SINGLE_FEATURE_FAMILY, selected_logit
from behavstats.study.folder import Study
from behavstats.sweeps.ablation import FAMILY as ABLATION_FAMILY
from behavstats.sweeps.early_probes import FAMILY as EARLY_FAMILY
from behavstats.sweeps.layers import FAMILY as SWEEP_FAMILY
from behavstats.sweeps.probes import FAMILY as PROBE_FAMILY
from behavstats.sweeps.probes import early_condition
from behavstats.sweeps.spatial_probes import FAMILY as SPATIAL_FAMILY

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
    """Proper scores first (log-loss, AUC: what the models are compared by), then the
    published accuracy, the selected and stable features, coefficients and collinearity."""
    model, selected = "published model", f"selected features, {INFERENCE_HALF}"
    result = study.results["regression"]
    params = result.params if result is not None else {}
    logit = selected_logit(params)
    return compare(study.summary("regression"), [
        Row("held-out log-loss, the published four-feature L1 model [nats per maze; lower "
            "is better]", "log_loss", model, headline=True),
        Row("held-out ROC AUC, the published four-feature L1 model", "auc", model,
            headline=True),
        Row("held-out log-loss of the prior (no feature) [nats per maze]",
            "baseline_log_loss", "all features"),
        Row("held-out log-loss, all 16 features, L1 [nats per maze]", "log_loss",
            "all features"),
        Row("held-out log-loss, the selected features, on the half that did not select "
            "them [nats per maze]", "log_loss", selected),
        Row("the selected features' log-loss minus all 16 features', same half (0: as good)",
            "log_loss_vs_all", selected, effect=True, headline=True),
        Row("held-out ROC AUC, the selected features, same half", "auc", selected),
        *(Row(f"odds ratio per SD of {feature_label(f)}, selected model, Logit on the "
              "half that did not select it", "odds_ratio", f"{logit}: {f}")
          for f in params.get("selected", ())),
        *(Row(f"stability selection: selection probability of {feature_label(f)} (stable)",
              "selection_probability", f) for f in params.get("stable", ())),
        Row("stability selection: bound on the expected number of falsely selected "
            "features", "false_selection_bound", "stable features"),
        _family(SINGLE_FEATURE_FAMILY),
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
    return rows + _retarget(study)


def _retarget(study: Study) -> list[Compared]:
    """Mini et al.'s protocol: success (geometric-mean probability of the path to the
    target) per condition, the best channel's ratio to the unedited agent by distance
    from the path to the top-right, and the real cheese against the clamp."""
    result = study.results["retarget"]
    if result is None:
        return []
    sets = list(result.channel_sets)
    words = {NO_EDIT: "no edit", CHEESE_MOVED: "the real cheese moved to the target",
             **{name: f"clamp {name} ({', '.join(map(str, channels))})"
                for name, channels in result.channel_sets.items()}}
    bins = list(dict.fromkeys(result.by_distance["distance_bin"])) if len(
        result.by_distance) else []
    best = sets[0] if sets else ""
    return compare(study.summary("retarget"), [
        *(Row(f"success, {words[c]} [share]", "p_path", c, headline=c == best)
          for c in (NO_EDIT, CHEESE_MOVED, *sets)),
        Row(f"success with the real cheese minus with {words.get(best, best)}",
            "p_path_difference", f"{CHEESE_MOVED} - {best}", effect=True,
            published_text="moving the real cheese beats every clamp"),
        *(Row(f"success ratio to no edit, {words.get(best, best)}, target {b} steps from "
              "the path to the top-right", "p_path_ratio", f"{best}, distance {b}",
              published_text="peaks at about 5 near the path" if k == 0 else
              "above 1 everywhere" if k == len(bins) - 1 else "")
          for k, b in enumerate(bins)),
        *(Row(f"success, {words.get(best, best)}, {region} targets [share]", "p_path",
              f"{best}, {region}", published_text="rough success rate, channel 55")
          for region in ("top-left", "bottom-right")),
        Row(f"Spearman correlation of success with that distance, {words.get(best, best)}",
            "spearman_p_path_vs_distance", best, published_text="falls with distance")])


def _family(name: str) -> Row:
    """The row counting a family's tests significant at q <= `ALPHA` (n: the tests
    made)."""
    return Row(f"tests significant at q ≤ {ALPHA:g}, of the {name} tests (n)", SIGNIFICANT,
               name, whole=True)


def _layer(layer: str) -> str:
    """A layer in a reader's words: 'block 2, residual 1' for
    embedder.block2.res1.resadd."""
    match = re.fullmatch(r"embedder\.block(\d)\.res(\d)\.resadd", layer)
    if match:
        return f"block {match[1]}, residual {match[2]}"
    return "the embedder output" if layer == "embedder.relufc" else layer.replace(".", " ")


def _layer_sweep(study: Study) -> list[Compared]:
    result = study.results["layer_sweep"]
    if result is None:
        return []
    layers = list(dict.fromkeys(result.layer_sweep["layer"]))
    cheese, top_right = edited("cheese vector", -1), edited("top_right vector", 2)
    return compare(study.summary("layer_sweep"), [
        *(Row(f"change of P(cheese), cheese vector x −1 at {_layer(layer)}",
              "p_cheese_change", f"{cheese} at {layer}", effect=True,
              headline=layer == VECTOR_LAYER,
              published_text="the published layer (0.81 → 0.03)" if layer == VECTOR_LAYER
              else "") for layer in layers),
        *(Row(f"change of P(top-right), top-right vector x 2 at {_layer(layer)}",
              "p_topright_change", f"{top_right} at {layer}", effect=True)
          for layer in layers),
        *(Row(f"mean TV of the rest of the field, cheese vector x −1 at {_layer(layer)}",
              "field_tv", f"{cheese} at {layer}") for layer in layers),
        _family(SWEEP_FAMILY)])


def _ablation(study: Study) -> list[Compared]:
    summary = study.summary("ablation")
    effects = summary[summary["quantity"] == "p_cheese_change"]
    scores = summary[summary["quantity"] == "channel_score"].set_index("condition")
    return compare(summary, [
        *(Row(f"change of P(cheese), {condition.split(' at ')[0]} (tracking score "
              f"{scores.loc[condition, 'estimate']:.2f})", "p_cheese_change", condition,
              effect=True, headline=k == 0)
          for k, condition in enumerate(effects["condition"])),
        _family(ABLATION_FAMILY)])


PROBE_TARGETS = {"cheese_x": "the cheese's column", "cheese_y": "the cheese's row",
                 "mouse_x": "the mouse's column", "mouse_y": "the mouse's row",
                 "cheese_in_tr5": "whether the cheese is in the top-right 5x5",
                 "reaches_cheese": "whether the episode reaches the cheese"}


def _probes(study: Study) -> list[Compared]:
    """At the vector layer: each flattened target's accuracy, baseline, selectivity and
    random network (the figure shows every layer); the spatial probes' cheese and path
    scores there; whether the episode reaches the cheese, read from its first
    observation and at the decision square (there and at the embedder output), beside
    the published maze features; how many probes of each family beat their control
    task."""
    published = {"reaches_cheese": "78-85% against a 68% baseline (sparse probes)"}
    rows = []
    for target, words in PROBE_TARGETS.items():
        condition = f"{target} at {VECTOR_LAYER}"
        rows += [Row(f"probe accuracy, {words}, at {_layer(VECTOR_LAYER)} [share]",
                     "probe_accuracy", condition, headline=target == "reaches_cheese",
                     published_text=published.get(target, "")),
                 Row(f"majority baseline, {words} [share]", "baseline", condition),
                 Row(f"selectivity (accuracy minus control task), {words}",
                     "probe_selectivity", condition),
                 Row(f"same probe on a random network, {words} [share]",
                     "probe_random_network_accuracy", condition)]
    return compare(study.summary("probes"), [*rows, _family(PROBE_FAMILY),
                                             *_spatial_rows(study), _family(SPATIAL_FAMILY),
                                             *_early_rows(), _family(EARLY_FAMILY)])


def _spatial_rows(study: Study) -> list[Row]:
    result = study.results["probes"]
    radius = result.params.get("radius", 0) if result is not None else 0
    near = f"within {radius} cell{'s' * (radius != 1)} of" if radius else "at"
    cheese, path = (f"{t} at {VECTOR_LAYER}" for t in ("cheese_cell", "path_cell"))
    at = _layer(VECTOR_LAYER)
    return [Row(f"spatial probe at {at}: its top cell is {near} the cheese [share of mazes]",
                "spatial_probe_hit", cheese, headline=True),
            Row("same, by chance [share]", "chance_hit", cheese),
            Row("same, minus its control task's (a random cell as the cheese)",
                "spatial_probe_selectivity", cheese),
            Row("same probe on a random network [share]", "spatial_probe_random_network",
                cheese),
            Row(f"spatial probe at {at}: AUC of the cells on the path to the cheese",
                "spatial_probe_auc", path),
            Row("same, minus its control task's (the path to a random cell)",
                "spatial_probe_selectivity", path),
            Row("same probe on a random network (AUC)", "spatial_probe_random_network",
                path)]


def _early_rows() -> list[Row]:
    rows = []
    for layer in (VECTOR_LAYER, "embedder.relufc"):
        start, dsq = (early_condition(k, layer) for k in ("first_observation",
                                                          "decision_square"))
        rows += [Row(f"reaches the cheese? AUC of a probe of the first observation at "
                     f"{_layer(layer)}", "early_probe_auc", start,
                     headline=layer == VECTOR_LAYER),
                 Row("same, minus its control task's", "early_probe_selectivity", start),
                 Row("same probe on a random network (AUC)",
                     "early_probe_random_network_auc", start),
                 Row(f"the same probe with the mouse at the decision square, at "
                     f"{_layer(layer)} (AUC)", "early_probe_auc", dsq)]
    return [*rows, Row("reaches the cheese? AUC of the same probe of the published four "
                       "maze features", "early_probe_auc",
                       early_condition("maze_features", ""))]


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
            "channels": _channels, "resample": _resample, "layer_sweep": _layer_sweep,
            "ablation": _ablation, "probes": _probes}


def section_rows(study: Study) -> dict[str, list[Compared]]:
    """Section key -> its comparison rows (those the study measured)."""
    return {key: build(study) for key, build in BUILDERS.items()}
