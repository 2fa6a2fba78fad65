"""The five intervention commands, end to end on tiny inputs."""

import pytest
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.interventions import ResampleResult, RetargetResult
from behavstats.interventions.cheese import CheeseVectorResult
from behavstats.policy import save_policy

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def policy_file(make_policy, tmp_path_factory):
    return str(save_policy(make_policy(6), tmp_path_factory.mktemp("policy") / "p.pt"))


def _run(*args):
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output


def test_cheese_vector_command(policy_file, tmp_path):
    out = _run("cheese-vector", "--policy", policy_file, "--levels", "3,6",
               "--coeffs", "-1,1", "--out", str(tmp_path))
    assert "cheese vector x -1" in out and "cheese vector x 1:" in out
    table = CheeseVectorResult.load(tmp_path).decision
    assert list(table.columns) == ["level", "coeff", "p_cheese_original", "p_cheese_patched",
                                   "p_topright_original", "p_topright_patched"]
    assert sorted(zip(table["level"], table["coeff"], strict=True)) == [
        (3, -1.0), (3, 1.0), (6, -1.0), (6, 1.0)]
    assert (tmp_path / "p_cheese_histograms.png").exists()


def test_other_commands(policy_file, tmp_path):
    _run("top-right-vector", "--policy", policy_file, "--levels", "6,26", "--coeffs", "1",
         "--out", str(tmp_path / "tr"))
    assert (tmp_path / "tr" / "composition.parquet").exists()
    out = _run("channels", "--policy", policy_file, "--levels", "0:3", "--placements", "2",
               "--out", str(tmp_path / "ch"))
    assert "tracked" in out and (tmp_path / "ch" / "table.parquet").exists()
    _run("retarget", "--policy", policy_file, "--levels", "3", "--channels", "1,2",
         "--value", "3", "--max-targets", "5", "--out", str(tmp_path / "rt"))
    assert set(RetargetResult.load(tmp_path / "rt").targets["condition"]) == {"no edit", "cheese",
                                                                          "given"}
    _run("resample", "--policy", policy_file, "--levels", "3,6", "--channels", "1,2",
         "--source-levels", "100:140", "--out", str(tmp_path / "rs"))
    assert not ResampleResult.load(tmp_path / "rs").effects.empty


def test_unusable_levels_are_reported(policy_file, tmp_path):
    result = CliRunner().invoke(app, ["cheese-vector", "--policy", policy_file, "--levels", "1",
                                      "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "decision square" in result.output
    result = CliRunner().invoke(app, ["retarget", "--policy", policy_file, "--levels", "3",
                                      "--channels", "1,32", "--value", "3", "--out",
                                      str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "not channels of" in result.output
