"""The command line: each command runs end to end on small inputs."""

import json

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.levelspec import parse_levels
from behavstats.policy import Policy, save_policy

runner = CliRunner()


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory):
    torch.manual_seed(0)
    return save_policy(Policy(1), tmp_path_factory.mktemp("policy") / "p.pt")


def test_parse_levels():
    assert parse_levels("3:6") == [3, 4, 5]
    assert parse_levels("7") == [7]
    assert parse_levels("1,5") == [1, 5]


def test_features_and_maze_show(tmp_path):
    out = tmp_path / "f.parquet"
    result = runner.invoke(app, ["features", "--levels", "0:30", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert table["level"].tolist() == list(range(30))
    result = runner.invoke(app, ["maze", "show", "--level", "0", "--mode", "easy", "--out",
                                 str(tmp_path / "m.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_vfield_gather_and_bad_policy(policy_file, tmp_path):
    out = tmp_path / "field.parquet"
    result = runner.invoke(app, ["vfield", "--policy", str(policy_file), "--level", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert list(pd.read_parquet(out).columns) == ["x", "y", "p_left", "p_down", "p_noop",
                                                   "p_up", "p_right"]
    result = runner.invoke(app, ["gather", "--policy", str(policy_file), "--levels", "0:3",
                                 "--max-steps", "5", "--out", str(tmp_path / "eps"),
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    assert "3 episodes" in result.output
    result = runner.invoke(app, ["vfield", "--policy", str(tmp_path / "nope.pt"),
                                 "--level", "1"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_regress_reports_bad_tables_clearly(tmp_path):
    table = tmp_path / "t.parquet"
    pd.DataFrame({"reached_cheese": [True] * 50, "euc_cheese_tr": range(50)}).to_parquet(table)
    result = runner.invoke(app, ["regress", str(table), "--out", str(tmp_path / "r"),
                                 "--features", "euc_cheese_tr"])
    assert result.exit_code == 2
    assert "error:" in result.output


@pytest.mark.slow
def test_gather_then_regress_on_its_folder(tmp_path):
    """The README's two commands chain: regress reads the folder gather wrote."""
    episodes = tmp_path / "episodes"
    result = runner.invoke(app, ["gather", "--levels", "0:160", "--out", str(episodes),
                                 "--max-steps", "150", "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["regress", str(episodes), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "half of the" in result.output  # 34 mazes per half
    result = runner.invoke(app, ["gather", "--levels", "0:300", "--out", str(episodes),
                                 "--max-steps", "150", "--quiet"])
    assert result.exit_code == 2 and "different levels" in result.output
    episodes = tmp_path / "more"
    result = runner.invoke(app, ["gather", "--levels", "0:300", "--out", str(episodes),
                                 "--max-steps", "150", "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["regress", str(episodes), "--out", str(tmp_path / "r"),
                                 "--splits", "3", "--stability-pairs", "3"])
    assert result.exit_code == 0, result.output
    assert "selected features (by log-loss, on the selection half)" in result.output
    assert (tmp_path / "r" / "split.parquet").exists()


def test_evaluate_json_and_model_card(policy_file, tmp_path):
    card = tmp_path / "card.md"
    result = runner.invoke(app, ["evaluate", "--policy", str(policy_file), "--levels", "0:4",
                                 "--max-steps", "20", "--json", "--quiet", "--card", str(card),
                                 "--card-notes", "a test agent"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert set(data) == {"params", "summary"} and data["params"]["max_steps"] == 20
    assert data["params"]["levels"] == "0:4"
    conditions = {row["condition"] for row in data["summary"]}
    assert conditions >= {"training", "vanilla", "decision mazes", "misses"}
    text = card.read_text()
    assert "## Evaluation" in text and "a test agent" in text
    assert json.dumps(data, indent=2) in text


def test_model_card_draws_the_cloning_stages_end_to_end(policy_file, tmp_path):
    runs = []
    for stage, accuracy in enumerate([0.90, 0.95]):
        log = tmp_path / f"stage{stage}" / "cloning" / "cloning_log.csv"
        log.parent.mkdir(parents=True)
        log.write_text("chunk,samples,seconds,loss,val_acc_all,val_acc_3-9\n"
                       f"1,1000,10,0.5,{accuracy},{accuracy}\n2,2000,20,0.4,{accuracy},1.0\n")
        runs += ["--card-curve", str(log.parent.parent)]
    card = tmp_path / "policy.md"
    args = ["evaluate", "--policy", str(policy_file), "--levels", "0:2", "--max-steps", "5",
            "--quiet", "--card", str(card)]
    result = runner.invoke(app, args + runs)
    assert result.exit_code == 0, result.output
    assert "![learning curve](policy_curve.png)" in card.read_text()
    assert (tmp_path / "policy_curve.png").read_bytes().startswith(b"\x89PNG")

    card.unlink()
    result = runner.invoke(app, args + ["--card-curve", str(tmp_path)])
    assert result.exit_code != 0 and not card.exists()
    assert "has no cloning log" in str(result.exception) + result.output


def test_help_works_where_the_platform_has_no_cpu_affinity():
    """macOS has no os.sched_getaffinity: importing the CLI must not need it (it was
    evaluated at import for the --workers default), and the default falls back to the
    core count."""
    import subprocess
    import sys

    code = ("import os, sys; del os.sched_getaffinity; sys.argv = ['behavstats', 'study', "
            "'--help']; from behavstats import cli; assert cli.usable_cores() >= 1; cli.app()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "at most 4" in done.stdout


def test_help_reads_as_sentences():
    """Each command's description in `behavstats --help` is reflowed, not broken where
    its docstring's lines end (seen: 'L1 logistic / study'): on a terminal wide enough,
    every description is one line."""
    wide = CliRunner(env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    result = wide.invoke(app, ["--help"])
    assert result.exit_code == 0
    listing = result.output[result.output.index("Commands"):]
    rows = [line.strip("│ ").split(maxsplit=1) for line in listing.splitlines()[1:]
            if line.startswith("│")]
    assert len(rows) >= 15
    assert all(len(row) == 2 and row[0][0].isalpha() for row in rows), rows
