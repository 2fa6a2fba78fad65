"""The attribute, value-map and value-maps commands, end to end on tiny inputs, and
their one-line errors."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.maps.attribution import COLUMNS
from behavstats.maps.value import ValueMapsResult, value_map
from behavstats.maze.levels import maze_for_level
from behavstats.policy import save_policy

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy(make_policy):
    return make_policy(6)


@pytest.fixture(scope="module")
def policy_file(policy, tmp_path_factory):
    return str(save_policy(policy, tmp_path_factory.mktemp("policy") / "p.pt"))


def _run(*args):
    result = CliRunner().invoke(app, [*args])
    assert result.exit_code == 0, result.output
    return result.output


def test_attribute_writes_its_table_and_maps(policy_file, tmp_path):
    out = _run("attribute", "--policy", policy_file, "--levels", "0:4", "--targets",
               "logit_diff", "--baselines", "cheese_removed", "--max-n-steps", "64", "--out",
               str(tmp_path), "--quiet")
    table = pd.read_csv(tmp_path / "attribution.csv")
    assert list(table.columns) == list(COLUMNS) and set(table["target"]) == {"logit_diff"}
    assert "levels have a decision square" in out and "integration steps" in out
    assert table["steps"].max() <= 64
    assert {"pixels.parquet", "cells.parquet", "channels.parquet", "completeness.png"} <= {
        p.name for p in tmp_path.iterdir()}


def test_value_map_and_value_maps(policy, policy_file, tmp_path):
    out = _run("value-map", "--level", "2", "--policy", policy_file, "--out",
               str(tmp_path / "map.parquet"))
    assert "level 2" in out
    frame = pd.read_parquet(tmp_path / "map.parquet")
    assert list(frame.columns) == ["x", "y", "value"]
    expected = value_map(policy, maze_for_level(2)).values
    assert frame["value"].to_numpy() == pytest.approx(expected, abs=1e-5)
    _run("value-map", "--level", "2", "--policy", policy_file, "--out",
         str(tmp_path / "map.png"))
    assert (tmp_path / "map.png").stat().st_size > 10_000
    out = _run("value-maps", "--policy", policy_file, "--levels", "2,3", "--out",
               str(tmp_path / "maps"), "--quiet")
    assert "value head: unknown" in out
    assert set(ValueMapsResult.load(tmp_path / "maps").levels["level"]) == {2, 3}


@pytest.mark.parametrize("args, words", [
    (["attribute", "--targets", "p_mouse"], "choose from p_cheese, logit_diff"),
    (["attribute", "--baselines", "black"], "choose from cheese_removed, blank"),
    (["attribute", "--tolerance", "nan"], "--tolerance"),
    (["attribute", "--layer", "embedder.fc", "--levels", "0:2"], "no channel maps"),
    (["attribute", "--layer", "fc_value", "--levels", "0:2"], "no channel maps"),
    (["value-map", "--level", "0", "--out", "map.txt"], "must end in"),
    (["value-maps", "--coeff", "inf"], "finite")])
def test_errors_are_one_line(args, words, policy_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*args, "--policy", policy_file])
    assert result.exit_code == 2 and words in result.output, result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())
