"""Which of our numbers each report section compares with the published ones, in a
reader's words (`comparisons.Row`); `section_rows(study)` gives them per section."""

from __future__ import annotations

import re

from behavstats.interventions.retarget import CHEESE as CHEESE_MOVED
from behavstats.interventions.retarget import NO_EDIT
from behavstats.maps.attribution import FAMILY as ATTRIBUTION_FAMILY
from behavstats.maps.patching import CELL_FAMILY as PATCH_CELL_FAMILY
from behavstats.maps.patching import FAMILY as PATCH_FAMILY
from behavstats.maps.patching import LAYER_FAMILY as PATCH_LAYER_FAMILY
from behavstats.maps.value import FAMILY as VALUE_FAMILY
from behavstats.quantities import TARGET_WORDS, feature_label
from behavstats.report.comparisons import Compared, Row, compare
from behavstats.results import quantity_row, summary_frame
from behavstats.stats.multiplicity import ALPHA, SIGNIFICANT
from behavstats.stats.study import INFERENCE_HALF, SINGLE_FEATURE_FAMILY, selected_logit
from behavstats.study.folder import Study
from behavstats.sweeps.ablation import FAMILY as ABLATION_FAMILY
from behavstats.sweeps.early_probes import FAMILY as EARLY_FAMILY
from behavstats.sweeps.layers import FAMILY as SWEEP_FAMILY
from behavstats.sweeps.probes import FAMILY as PROBE_FAMILY
from behavstats.sweeps.probes import early_condition
from behavstats.sweeps.spatial_probes import FAMILY as SPATIAL_FAMILY
from behavstats.vocabulary import (
    DECISION_GROUP,
    DECISION_MAZES,
    KEY_FEATURES,
    PUBLISHED_MODEL,
    TRAINING,
    VANILLA,
    VECTOR_LAYER,
    at_layer,
    edited,
    renamed,
    resampled,
)

CHEESE = edited("cheese", -1)
__getattr__ = renamed(__name__, {
    "PUBLISHED_FEATURES": ("behavstats.vocabulary.PUBLISHED_MODEL (the four features; "
                           "vocabulary.PUBLISHED_FEATURES are the 16 metrics)",
                           PUBLISHED_MODEL),
    "DECISION": ("behavstats.vocabulary.DECISION_MAZES", DECISION_MAZES)})


def _behaviour(study: Study) -> list[Compared]:
    """From the evaluation: its decision rows count the episodes gathered for the
    regression (the published 10,000-episode protocol) when the study ran them."""
    return compare(study.summary("evaluation"), [
        Row(f"reaches the cheese ({DECISION_MAZES}) [%]", "reached_cheese", DECISION_GROUP,
            percent=True, headline=True),
        Row("goes to the top-right 5x5 instead, same mazes [%]", "reached_tr5",
            DECISION_GROUP, percent=True),
        Row("reaches the top-right cell, same mazes [%]", "reached_top_right",
            DECISION_GROUP, percent=True),
        Row(f"share of levels that are {DECISION_MAZES} [%]", "decision_share", VANILLA,
            percent=True),
        Row("reaches the cheese on the training distribution (cheese in the top-right "
            "5x5) [%]", "success", TRAINING, percent=True),
        Row("reaches the cheese on held-out levels (cheese anywhere) [%]", "success",
            VANILLA, percent=True)], share_intervals=True)


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
              effect=True, headline=True) for f in PUBLISHED_MODEL),
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
    vector = "top_right"
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
    cheese, top_right = edited("cheese", -1), edited("top_right", 2)
    return compare(study.summary("layer_sweep"), [
        *(Row(f"change of P(cheese), cheese vector x −1 at {_layer(layer)}",
              "p_cheese_change", at_layer(cheese, layer), effect=True,
              headline=layer == VECTOR_LAYER,
              published_text="the published layer (0.81 → 0.03)" if layer == VECTOR_LAYER
              else "") for layer in layers),
        *(Row(f"change of P(top-right), top-right vector x 2 at {_layer(layer)}",
              "p_topright_change", at_layer(top_right, layer), effect=True)
          for layer in layers),
        *(Row(f"mean TV of the rest of the field, cheese vector x −1 at {_layer(layer)}",
              "field_tv", at_layer(cheese, layer)) for layer in layers),
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


def _patching(study: Study) -> list[Compared]:
    """The channels whose clean activations restore most of P(cheese) when the cheese is
    moved (beside their tracking score and ablation effect), the noising ranking's best,
    the cell map's mass near the cheese against chance, the best channel at each residual
    add, the levels left below the floor, and the families."""
    result = study.results["patching"]
    if result is None:
        return []
    summary = study.summary("patching")
    table = result.patching[result.patching["unit"] == "channel"].set_index(
        ["corruption", "direction", "metric", "channel"])
    restored = summary[summary["quantity"] == "restoration"]
    rows = []
    for direction, words in (("denoising", "clean channel into the corrupted run"),
                             ("noising", "corrupted channel into the clean run")):
        prefix = f"cheese_moved, {direction}, p_cheese: channel "
        found = restored[restored["condition"].str.startswith(prefix)]
        shown = found if direction == "denoising" else found.head(1)
        for k, condition in enumerate(shown["condition"]):
            channel = int(condition.removeprefix(prefix).split(" ")[0])
            known = table.loc[("cheese_moved", direction, "p_cheese", channel)]
            rows.append(Row(
                f"restoration of P(cheese), cheese moved, {words}: channel {channel} "
                f"(tracking score {known['tracking_score']:.2f}, mean-ablation change "
                f"{known['ablation_effect']:+.3f})".replace("change -", "change −"),
                "restoration", condition, effect=True,
                headline=k == 0))
    for corruption, words in (("cheese_moved", "cheese moved"),
                              ("cheese_removed", "cheese removed")):
        what = f"{corruption}, denoising, p_cheese"
        rows += [Row(f"share of the cell map's restoration of P(cheese) within a cell of a "
                     f"cheese, {words} [%]", "cell_mass_near_cheese", what, percent=True,
                     headline=corruption == "cheese_moved"),
                 Row(f"share of the map's cells that near (chance), {words} [%]",
                     "cell_share_near_cheese", what, percent=True)]
    best = restored[restored["condition"].str.contains(": best channel")]
    rows += [Row(f"best channel at {_layer(condition.rsplit(' at ', 1)[1])}: "
                 f"{condition.split('(')[1].split(')')[0]}, restoration of P(cheese), cheese "
                 "moved", "restoration", condition, effect=True) for condition in
             best["condition"]]
    rows += [Row(f"levels whose P(cheese) moves less than the floor, {k.replace('_', ' ')} "
                 "(left out; n: levels with a twin)", "levels_below_floor", f"{k}, p_cheese",
                 whole=True) for k in result.params["corruptions"]]
    rows += [_family(name) for name in (PATCH_FAMILY, PATCH_CELL_FAMILY, PATCH_LAYER_FAMILY)]
    return compare(summary, rows)


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
        condition = at_layer(target, VECTOR_LAYER)
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
    cheese, path = (at_layer(t, VECTOR_LAYER) for t in ("cheese_cell", "path_cell"))
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


def _attribution(study: Study) -> list[Compared]:
    """Per target and baseline: the output difference, completeness (levels within the
    tolerance, most steps), the cheese share and the largest channel; the family."""
    result = study.results["attribution"]
    if result is None:
        return []
    summary, layer = study.summary("attribution"), result.params["layer"]
    channels = summary[summary["quantity"] == "channel_attribution"]
    against = {"cheese_removed": "vs. the maze without cheese", "blank": "vs. the open maze"}
    rows = []
    for target in result.params["targets"]:
        for baseline in result.params["baselines"]:
            where = f"{target}, {baseline}"
            words = f"{TARGET_WORDS[target]} {against.get(baseline, baseline)}"
            top = channels[channels["condition"].str.startswith(f"{where}, channel ")]
            spaces = [("pixels", "pixels"), (_layer(layer), layer)]
            # against the maze without cheese, the pixels' share is 1 by construction
            shares = spaces[1:] if baseline == "cheese_removed" else spaces
            rows += [Row(f"{words}: the change, f(observation) − f(baseline)",
                         "output_difference", where, effect=True,
                         headline=target == "logit_diff" and baseline == "cheese_removed"),
                     *(Row(f"{words}: complete within the tolerance, {space} [% of levels]",
                           "within_tolerance", f"{where}, {key}", percent=True)
                       for space, key in spaces),
                     Row(f"{words}: most integration steps, pixels", "integration_steps",
                         f"{where}, pixels", whole=True),
                     *(Row(f"{words}: |attribution| within one cell of the cheese, {space} "
                           "[%]", "cheese_share", f"{where}, {key}", percent=True)
                       for space, key in shares),
                     *(Row(f"{words}: mean attribution to {c.split(', ')[-1]} (the largest)",
                           "channel_attribution", c, effect=True)
                       for c in top["condition"].head(1))]
    return compare(summary, [*rows, _family(ATTRIBUTION_FAMILY)])


def _value_maps(study: Study) -> list[Compared]:
    """Mean value per condition, its changes, and its Spearman correlation with steps
    to the cheese and to the top-right, labelled with whether the value head was
    trained."""
    result = study.results["value_maps"]
    if result is None:
        return []
    head = {"untrained": " (value head untrained: behaviour cloning only)",
            "trained": "", "unknown": ""}[result.params["value_head"]]
    conditions = {c: result.condition(c) for c in ("present", "absent", "cheese_vector")}
    steps = {"cheese": "steps to the cheese", "top_right": "steps to the top-right cell"}
    return compare(study.summary("value_maps"), [
        *(Row(f"mean value over the squares, {words}{head}", "value", words,
              headline=c == "present") for c, words in conditions.items()),
        *(Row(f"change of the mean value, {conditions[c]}", "value_change", conditions[c],
              effect=True) for c in ("absent", "cheese_vector")),
        *(Row(f"Spearman correlation of value with {words}, {conditions[c]}",
              f"value_spearman_steps_{t}", conditions[c], effect=True)
          for t, words in steps.items() for c in conditions),
        _family(VALUE_FAMILY)])


BUILDERS = {"behaviour": _behaviour, "regression": _regression, "fields": _fields,
            "cheese_vector": _cheese_vector, "top_right_vector": _top_right_vector,
            "channels": _channels, "resample": _resample, "layer_sweep": _layer_sweep,
            "ablation": _ablation, "patching": _patching, "probes": _probes,
            "attribution": _attribution, "value_maps": _value_maps}


def section_rows(study: Study) -> dict[str, list[Compared]]:
    """Section key -> its comparison rows (those the study measured)."""
    return {key: build(study) for key, build in BUILDERS.items()}
