"""Every experiment's typed result: its documented tables, an exact save / load round
trip, summary rows with ordered intervals, registered quantities, and the published
figures joined where they exist."""

import math

import pandas as pd
import pytest

from behavstats.quantities import QUANTITIES
from behavstats.reference import published_figures, reference_results
from behavstats.results import SUMMARY_COLUMNS

pytestmark = pytest.mark.usefixtures("one_thread")

COLUMNS = {
    "evaluation": {"success": ["distribution", "band", "n", "success"],
                   "decision": ["group", "n", "reached_cheese", "reached_top_right",
                                "reached_tr5"]},
    "regression": {"accuracy": ["model", "n", "accuracy_mean", "accuracy_ci_low",
                                "accuracy_ci_high", "baseline", "C"],
                   "coefficients": ["feature", "coef_mean", "ci_low", "ci_high"],
                   "published_model": ["feature", "coef_mean"], "key_vif": ["feature", "vif"]},
    "cheese_vector": {
        "decision": ["level", "coeff", "p_cheese_original", "p_cheese_patched",
                     "p_topright_original", "p_topright_patched"],
        "controls": ["level", "coeff", "p_cheese_original", "p_cheese_random",
                     "p_topright_original", "p_topright_random"],
        "absent": ["level", "n_cells", "tv_patched_original", "pub_patched_absent",
                   "p_cheese_original", "p_cheese_patched", "p_cheese_absent"],
        "transfer": ["level_a", "level_b", "p_cheese_original", "p_cheese_patched",
                     "cheese_distance", "near"],
        "levels": ["level", "maze_dim", "has_dsq", "used", "cheese_x", "cheese_y", "dsq_x",
                   "dsq_y", "vector_norm"]},
    "top_right_vector": {
        "decision": ["level", "coeff", "p_topright_original", "p_topright_patched"],
        "fields": ["level", "coeff", "n_cells", "tv", "pub", "toward_tr_original",
                   "toward_tr_patched"],
        "transfer": ["level_a", "level_b", "maze_dim_a", "maze_dim_b", "p_topright_original",
                     "p_topright_patched"],
        "composition": ["level", "condition", "p_cheese", "p_topright"],
        "levels": ["level", "maze_dim", "has_dsq", "corridor_empty", "used", "vector_norm"]},
    "channels": {"table": ["channel", "rank", "score", "argmax_corr", "mass_corr",
                           "argmax_hit", "cheese_mean", "other_mean", "cheese_max",
                           "act_max"],
                 "samples": ["level", "cheese_x", "cheese_y", "row", "col"]},
    "retarget": {"targets": ["level", "maze_dim", "condition", "x", "y", "act_row",
                             "act_col", "steps", "dist_to_tr_path", "region", "p_path"],
                 "by_distance": ["condition", "distance_bin", "n_targets", "n_levels",
                                 "p_path", "p_path_ci_low", "ratio", "ratio_ci_high"],
                 "by_size": ["condition", "size_bin", "n_targets", "p_path", "ratio"],
                 "clamps": ["channel_set", "channel", "value"]},
    "layer_sweep": {"layer_sweep": ["vector", "layer", "coeff", "target", "estimate",
                                    "ci_low", "ci_high", "n", "p_value", "q_value"],
                    "levels": ["vector", "layer", "coeff", "level", "p_cheese", "p_topright",
                               "field_tv"]},
    "ablation": {"ablation": ["layer", "channel", "method", "estimate", "ci_low", "ci_high",
                              "n", "p_value", "q_value", "tracking_score"],
                 "levels": ["channel", "method", "level", "change"]},
    "patching": {"patching": ["layer", "corruption", "unit", "channel", "x", "y", "direction",
                              "metric", "estimate", "ci_low", "ci_high", "n", "p_value",
                              "q_value", "tracking_score", "ablation_effect"],
                 "by_layer": ["layer", "channel", "estimate", "q_value"],
                 "levels": ["level", "corruption", "twin", "cheese_row", "edit_row",
                            "clean_p_cheese", "corrupted_logit_diff", "kept_p_cheese"],
                 "per_level": ["level", "layer", "corruption", "direction", "unit", "channel",
                               "row", "col", "x", "y", "p_cheese", "logit_diff"]},
    "probes": {"probes": ["layer", "target", "accuracy", "ci_low", "ci_high", "baseline",
                          "control_accuracy", "selectivity", "p_value", "q_value",
                          "random_network_accuracy", "n_train", "n_test", "kind", "score",
                          "auc", "log_loss"],
               "spatial": ["layer", "target", "level", "chance", "hit", "control_hit",
                           "random_network_hit", "auc"],
               "observations": ["level", "x", "y", "cheese_x", "mouse_y", "reaches_cheese",
                                "test"]},
    "resample": {"effects": ["level", "channel_set", "location", "channels", "source_level",
                             "source_cheese_x", "source_cheese_y", "n_cells", "tv",
                             "published"]},
    "across_agents": {"agents": ["policy", "region", "n_decision_mazes", "n_reached_cheese",
                                 "cheese_vector_error"],
                      "summaries": ["policy", "experiment", *SUMMARY_COLUMNS],
                      "scores": ["policy", "model", "error", "n", "log_loss_mean",
                                 "auc_mean", "brier_mean", "accuracy_mean", "baseline",
                                 "baseline_log_loss"],
                      "coefficients": ["policy", "error", "term", "coef", "ci_low", "ci_high",
                                       "odds_ratio", "boot_ci_low", "boot_ci_high"],
                      "coefficient_test": ["lr_statistic", "df", "p_value", "n_rows",
                                           "agents", "excluded", "note"]},
    "attribution": {"attribution": ["level", "target", "baseline", "output_difference",
                                    "attribution_sum", "completeness_gap", "steps",
                                    "cheese_share", "layer_completeness_gap"],
                    "pixels": ["level", "target", "baseline", "row", "col", "attribution"],
                    "cells": ["level", "row", "col", "attribution"],
                    "channels": ["level", "channel", "attribution"],
                    "channel_effects": ["target", "baseline", "channel", "estimate", "ci_low",
                                        "ci_high", "n", "p_value", "q_value"]},
    "value_maps": {"cells": ["level", "condition", "x", "y", "value", "steps_cheese",
                             "steps_top_right"],
                   "levels": ["level", "maze_dim", "value_present", "spearman_cheese_absent"],
                   "by_steps": ["condition", "target", "steps", "estimate", "ci_low",
                                "ci_high", "n"]},
}
PUBLISHED = {  # (quantity, condition) a small run reports and the figure joined to it
    "evaluation": [("reached_cheese", "decision mazes", 0.714)],
    "regression": [("accuracy", "published model", 0.833),
                   ("coefficient", "published model: euc_cheese_tr", -2.786)],
    "cheese_vector": [("p_cheese_median_before", "cheese vector x -1", 0.81),
                      ("p_cheese_median_after", "cheese vector x -1", 0.03)],
    "top_right_vector": [("p_topright_interaction",
                          "cheese vector x -1 + top-right vector x 1", 0.0)],
    "resample": [("published_change", "cheese, same location", 0.0088),
                 ("published_change", "random_single, different location", 0.0006)],
}
INTERVAL_EXCEPTIONS = {"coefficient"}
"""A coefficient's interval is the 2.5-97.5% range of its per-split fits: L1 zeroes a
weak feature in most splits, so its mean may lie outside that range."""


def _run(topic, make_policy, mazes_by_level):
    from behavstats import interventions as iv

    policy = make_policy(7)
    mazes = mazes_by_level([3, 6, 26])
    if topic == "evaluation":
        from behavstats.evaluation import evaluate
        from behavstats.policy import load_policy

        return evaluate(load_policy("default"), range(6), max_steps=30)
    if topic == "regression":
        from behavstats.stats import run_study
        from behavstats.stats.synthetic import synthetic_episodes

        return run_study(synthetic_episodes(1200, seed=2), n_splits=3, n_subsets=10,
                         n_bootstrap=10)
    if topic == "cheese_vector":
        return iv.run_cheese_vector(policy, [mazes[3], mazes[6]], coeffs=(-1.0,),
                                    n_examples=0, n_boot=50)
    if topic == "top_right_vector":
        return iv.run_top_right_vector(policy, [mazes[6], mazes[26]], coeffs=(1.0,),
                                       n_examples=0, n_boot=50)
    if topic == "channels":
        return iv.run_channels(policy, [mazes[3], mazes[6]], placements=2)
    if topic == "retarget":
        return iv.run_retarget(policy, [mazes[3]], channel_sets={"a": [1], "b": [1, 2]},
                               value=3.0, max_targets=None, n_boot=50)
    if topic == "resample":
        from behavstats.maze.levels import LevelGenerator

        pool = list(LevelGenerator("hard", batch=8).mazes(range(100, 124)))
        return iv.run_resample(policy, [mazes[3], mazes[6]], channels=[1, 2],
                               source_levels=pool, n_boot=50)
    if topic in ("layer_sweep", "ablation", "probes"):
        return _sweep(topic, policy, mazes_by_level)
    if topic in ("attribution", "value_maps"):
        from behavstats.experiments import Attribution, ValueMaps

        settings = Attribution(targets=("logit_diff",), max_n_steps=64, n_examples=0,
                               n_boot=50) if topic == "attribution" else \
            ValueMaps(n_examples=0, n_boot=50)
        return settings.run(policy, [mazes[3], mazes[6]])
    if topic == "patching":
        from behavstats.hooks import VECTOR_LAYER
        from behavstats.maps.patching import run_patching

        return run_patching(policy, list(mazes.values()), corruptions=("cheese_moved",
                                                                       "cheese_removed"),
                            floor=0.0, logit_floor=0.0, beside=False,
                            sweep_layers=(VECTOR_LAYER,), n_boot=50, n_examples=0)
    from behavstats.across import across_agents
    from behavstats.policy import load_policy

    return across_agents({"default": load_policy("default")}, range(4), [3, 6])


def _sweep(topic, policy, mazes_by_level):
    from behavstats import sweeps
    from behavstats.hooks import VECTOR_LAYER
    from behavstats.policy import HIDDEN_LAYER

    mazes = list(mazes_by_level([3, 6, 26]).values())
    if topic == "layer_sweep":
        return sweeps.run_layer_sweep(policy, mazes, layers=[VECTOR_LAYER, HIDDEN_LAYER],
                                      n_boot=50)
    if topic == "ablation":
        return sweeps.run_ablation(policy, mazes, discovery=mazes, n_boot=50)
    return sweeps.run_probes(policy, list(mazes_by_level(range(8)).values()),
                             layers=[VECTOR_LAYER, HIDDEN_LAYER], per_episode=2, max_steps=20,
                             n_boot=50)


@pytest.fixture(scope="module", params=sorted(COLUMNS))
def result(request, make_policy, mazes_by_level):
    return _run(request.param, make_policy, mazes_by_level)


def test_documented_columns_are_present(result):
    assert set(COLUMNS[result.topic]) <= set(result.tables())
    for name, columns in COLUMNS[result.topic].items():
        table = getattr(result, name)
        assert table is not None and not table.empty, name
        assert set(columns) <= set(table.columns), (name, set(columns) - set(table.columns))


def test_save_load_round_trips_exactly(result, tmp_path):
    paths = result.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {p.name for p in paths}  # nothing left over
    back = type(result).load(tmp_path)
    assert back == result
    for name, table in result.tables().items():
        if table is not None:
            pd.testing.assert_frame_equal(getattr(back, name), table)
    assert back.params == result.params
    pd.testing.assert_frame_equal(back.summary(), result.summary())


def test_summary_rows_are_registered_with_ordered_intervals(result):
    summary = result.summary()
    assert list(summary.columns[:len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS) and len(summary)
    assert set(summary["quantity"]) <= set(QUANTITIES)
    assert not summary.duplicated(["quantity", "condition"]).any()
    rows = summary.dropna(subset=["ci_low", "ci_high"])
    rows = rows[~rows["quantity"].isin(INTERVAL_EXCEPTIONS)]
    assert ((rows["ci_low"] <= rows["estimate"] + 1e-12)
            & (rows["estimate"] <= rows["ci_high"] + 1e-12)).all()


def test_published_figures_are_joined_where_they_exist(result):
    summary = result.summary()
    expected = PUBLISHED.get(result.topic)
    if expected is None:
        assert "published" not in summary.columns
        return
    keyed = summary.set_index(["quantity", "condition"])["published"]
    for quantity, condition, value in expected:
        assert keyed.loc[(quantity, condition)] == value
    # only rows whose keys the published figures name get a figure
    figures = set(map(tuple, published_figures()[["quantity", "condition"]].to_numpy()))
    for (quantity, condition), value in keyed.items():
        assert math.isnan(value) == ((quantity, condition) not in figures)


def test_reference_figures_name_registered_quantities_and_known_topics():
    figures = published_figures()
    assert set(figures["quantity"]) <= set(QUANTITIES)
    assert not figures.duplicated(["quantity", "condition"]).any()
    topics = {n["topic"] for n in reference_results()["notes"]} | set(figures["topic"])
    assert topics <= set(COLUMNS)
