"""The one vocabulary: every caller's decision-maze filter is the same function, the
module imports without numpy or torch, the old names still answer (warning where a
name changed), and results saved under old spellings load under today's."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import behavstats
from behavstats import vocabulary as v
from behavstats.evaluation import EvaluationResult, decision_behaviour, success_by_band
from behavstats.stats import run_study, select_decision_mazes
from behavstats.stats.synthetic import synthetic_episodes

ROOT = Path(behavstats.__file__).resolve().parent


def _flags_with_na() -> pd.DataFrame:
    """Every combination of the two flags with NA, twice, and the episode columns."""
    values = [True, False, None]
    rows = [(d, c) for d in values for c in values] * 2
    n = len(rows)
    return pd.DataFrame({
        "level": np.arange(n), "maze_dim": np.full(n, 9),
        v.HAS_DSQ: pd.array([d for d, _ in rows], dtype="boolean"),
        v.CHEESE_IN_TR5: pd.array([c for _, c in rows], dtype="boolean"),
        "reached_cheese": np.arange(n) % 2 == 0, "reached_top_right": np.arange(n) % 3 == 0,
        "reached_tr5": np.arange(n) % 3 != 1})


def test_the_filter_counts_an_unknown_flag_against_the_row():
    table = _flags_with_na()
    kept = v.decision_mazes(table)
    # only (decision square, cheese outside tr5) is kept: once per copy
    assert len(kept) == 2
    assert kept[v.HAS_DSQ].all() and not kept[v.CHEESE_IN_TR5].any()
    assert list(kept.index) == list(table.index[v.decision_mask(table)])
    # switched off, an NA flag still counts against the filter left on
    assert len(v.decision_mazes(table, exclude_cheese_in_tr5=False)) == 6
    assert len(v.decision_mazes(table, require_dsq=False)) == 6
    with pytest.raises(KeyError, match="has_dsq"):
        v.decision_mazes(table.drop(columns=v.HAS_DSQ))


def test_every_caller_keeps_the_same_rows():
    table = _flags_with_na()
    kept = v.decision_mazes(table)
    # the study's wrapper (its own error type for a missing flag)
    assert select_decision_mazes(table).index.equals(kept.index)
    # the evaluation's decision rows and its summary share
    decision = decision_behaviour(table).set_index("group")
    assert decision.loc[v.DECISION_GROUP, "n"] == len(kept)
    assert decision.loc[v.DECISION_GROUP, "reached_cheese"] == kept["reached_cheese"].mean()
    misses = kept[~kept["reached_cheese"]]
    assert decision.loc[v.MISSES, "n"] == len(misses)
    result = EvaluationResult(
        pd.concat([success_by_band(table, v.TRAINING), success_by_band(table, v.VANILLA)]),
        decision_behaviour(table), {"decision_episodes": len(table)})
    share = result.summary().set_index(["quantity", "condition"]).loc[
        ("decision_share", v.VANILLA)]
    assert share["estimate"] == len(kept) / len(table) and share["n"] == len(table)


def test_the_regression_fits_the_rows_the_filter_keeps():
    table = synthetic_episodes(300, seed=1)
    # unknown flags on a few rows: the regression must drop them, as every caller does
    table[v.HAS_DSQ] = table[v.HAS_DSQ].astype("boolean")
    table.loc[table.index[:40:3], v.HAS_DSQ] = pd.NA
    table[v.CHEESE_IN_TR5] = table[v.CHEESE_IN_TR5].astype("boolean")
    table.loc[table.index[1:60:4], v.CHEESE_IN_TR5] = pd.NA
    params = run_study(table, n_splits=2, n_subsets=4, n_pairs=3, n_bootstrap=20).params
    assert params["n_selection"] + params["n_inference"] == len(v.decision_mazes(table))


def test_the_cli_gather_line_counts_the_filtered_levels(tmp_path):
    from behavstats.cli import app
    from behavstats.episodes import load_episodes

    out = tmp_path / "episodes"
    done = CliRunner().invoke(app, ["gather", "--out", str(out), "--levels", "0:16",
                                    "--max-steps", "5", "--quiet"])
    assert done.exit_code == 0, done.output
    table = load_episodes(out)
    kept = v.decision_mazes(table)
    assert 0 < len(kept) < len(table)
    assert f"{v.DECISION_MAZES}: {len(kept)} levels" in done.output


def test_the_vocabulary_imports_without_numpy_or_torch():
    code = ("import sys; import behavstats.vocabulary, behavstats.experiments; "
            "print(sorted(m for m in ('numpy', 'pandas', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT.parent)
    assert done.stdout.strip() == "[]"


def test_an_estimate_is_a_summary_row():
    estimate = v.Estimate(0.5, 0.25, 0.75, 40, p_value=0.01)
    row = estimate.row("p_cheese_change", v.edited("cheese", -1))
    assert tuple(row) == v.SUMMARY_COLUMNS
    assert row["condition"] == "cheese vector x -1"
    assert (row["estimate"], row["ci_low"], row["ci_high"], row["n"], row["p_value"]) == \
        (0.5, 0.25, 0.75, 40, 0.01) and np.isnan(row["q_value"])
    assert estimate.columns() == {"estimate": 0.5, "ci_low": 0.25, "ci_high": 0.75, "n": 40}
    assert estimate.has_interval and not v.Estimate(1.0).has_interval


def test_vectors_have_one_name_in_conditions():
    assert v.edited("top_right", 2) == v.edited("top-right vector", 2) == "top-right vector x 2"
    assert v.at_layer(v.edited("cheese", -1), v.VECTOR_LAYER) == \
        "cheese vector x -1 at embedder.block2.res1.resadd"


@pytest.mark.parametrize(("module", "old", "value"), [
    ("behavstats.features", "TR_REGION", v.TOP_RIGHT_REGION),
    ("behavstats.stats.synthetic", "REGION", v.TOP_RIGHT_REGION),
    ("behavstats.report.rows", "PUBLISHED_FEATURES", v.PUBLISHED_MODEL),
    ("behavstats.report.rows", "DECISION", v.DECISION_MAZES),
])
def test_a_renamed_name_answers_and_says_what_replaced_it(module, old, value):
    with pytest.warns(DeprecationWarning, match=r"behavstats\.vocabulary\."):
        assert getattr(importlib.import_module(module), old) == value
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(module), f"{old}_NOT_THERE")


@pytest.mark.parametrize(("module", "name", "value"), [
    ("behavstats.hooks", "VECTOR_LAYER", v.VECTOR_LAYER),
    ("behavstats.policy", "HIDDEN_LAYER", v.HIDDEN_LAYER),
    ("behavstats.features", "PUBLISHED_FEATURES", v.PUBLISHED_FEATURES),
    ("behavstats", "PUBLISHED_FEATURES", v.PUBLISHED_FEATURES),
    ("behavstats.stats.study", "PUBLISHED_MODEL", v.PUBLISHED_MODEL),
    ("behavstats.stats.study", "KEY_FEATURES", v.KEY_FEATURES),
    ("behavstats.stats.dataset", "LABEL", v.LABEL),
    ("behavstats.evaluation", "REACHED", v.REACHED),
    ("behavstats.quantities", "edited", v.edited),
    ("behavstats.cli", "VECTOR_LAYER_NAME", v.VECTOR_LAYER),
])
def test_an_unchanged_name_is_the_vocabularys(module, name, value):
    assert getattr(importlib.import_module(module), name) is value


def test_the_discovery_levels_are_defined_once():
    from behavstats.interventions import channels, resample, retarget

    assert retarget.DEFAULT_DISCOVERY_LEVELS is channels.DEFAULT_DISCOVERY_LEVELS
    assert resample.DEFAULT_DISCOVERY_LEVELS is channels.DEFAULT_DISCOVERY_LEVELS
    assert list(channels.DEFAULT_DISCOVERY_LEVELS) == list(range(1000, 1100))


def test_published_feature_sets_are_nested():
    assert len(v.PUBLISHED_FEATURES) == 16 == len(set(v.PUBLISHED_FEATURES))
    assert set(v.KEY_FEATURES) < set(v.PUBLISHED_MODEL) < set(v.PUBLISHED_FEATURES)


def test_interval_row_is_deprecated_but_reads_both_shapes():
    from behavstats.results import interval_row

    estimate = v.Estimate(1.0, 0.5, 1.5, 3)
    with pytest.warns(DeprecationWarning, match=r"estimate\.row"):
        assert interval_row("q", "c", estimate) == estimate.row("q", "c")
    with pytest.warns(DeprecationWarning):
        assert interval_row("q", "c", {"mean": 1.0, "ci_low": 0.5, "ci_high": 1.5, "n": 3}) \
            == estimate.row("q", "c")


def _sweep_tables():
    layer = v.VECTOR_LAYER
    sweep = pd.DataFrame({"vector": ["cheese", "top_right"], "layer": layer,
                          "coeff": [-1.0, 2.0], "target": [v.P_CHEESE, v.P_TOPRIGHT],
                          "estimate": [-0.3, 0.2], "ci_low": [-0.4, 0.1],
                          "ci_high": [-0.2, 0.3], "n": [10, 10], "p_value": [0.01, 0.02],
                          "q_value": [0.02, 0.02]})
    levels = pd.DataFrame({"vector": ["top_right"], "layer": [layer], "coeff": [2.0],
                           "level": [3], v.P_CHEESE: [-0.1], v.P_TOPRIGHT: [0.2],
                           "field_tv": [0.05]})
    return sweep, levels


def test_a_layer_sweep_saved_with_the_old_spellings_loads_with_todays(tmp_path):
    from behavstats.sweeps import LayerSweepResult

    sweep, levels = _sweep_tables()
    result = LayerSweepResult(sweep, levels, {"layers": [v.VECTOR_LAYER]})
    new = result.summary()
    assert "top-right vector x 2 at embedder.block2.res1.resadd" in set(new["condition"])
    result.save(tmp_path)
    # what version 0.2 wrote: p_top_right and "top_right vector" in the summary
    old = sweep.assign(target=sweep["target"].replace({v.P_TOPRIGHT: "p_top_right"}))
    old.to_parquet(tmp_path / "layer_sweep.parquet")
    levels.rename(columns={v.P_TOPRIGHT: "p_top_right"}).to_parquet(
        tmp_path / "levels.parquet")
    new.assign(condition=new["condition"].str.replace("top-right vector", "top_right vector")
               ).to_parquet(tmp_path / "summary.parquet")
    loaded = LayerSweepResult.load(tmp_path)
    assert loaded == result
    pd.testing.assert_frame_equal(loaded.summary(), new)


def test_a_retarget_table_saved_with_p_path_mean_loads_as_p_path(tmp_path):
    from behavstats.interventions import RetargetResult

    assert RetargetResult.upgrade("by_distance", pd.DataFrame(
        {"p_path_mean": [0.5], "ratio": [2.0]})).columns.tolist() == ["p_path", "ratio"]


def test_one_spelling_in_the_package():
    """No module spells the layer sweep's old target or an underscored vector name in a
    condition, except the upgrade that reads results saved with them."""
    found = []
    for path in ROOT.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"p_top_right|top_right vector", line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert all(place.startswith(("sweeps/layers.py", "vocabulary.py")) for place in found), \
        found
