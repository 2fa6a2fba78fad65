"""User errors on the command line: one line `error: ...` on stderr, exit status 2, no
traceback, and nothing written."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.levelspec import MAX_LEVELS, format_levels, parse_levels
from behavstats.policy import Policy, save_policy

runner = CliRunner()

CASES = {
    "negative levels": ["features", "--levels", "-5:3"],
    "too many levels": ["features", "--levels", "0:99999999999"],
    "no levels": ["features", "--levels", "5:3"],
    "a level twice": ["gather", "--out", "eps", "--levels", "1,1"],
    "bad discovery levels": ["retarget", "--discovery-levels", "x"],
    "unknown mode": ["maze", "show", "--level", "0", "--mode", "weird"],
    "level beyond procgen's seeds": ["maze", "show", "--level", "4294967296"],
    "negative level": ["vfield", "--level", "-1"],
    "image of unknown format": ["maze", "show", "--level", "0", "--out", "maze.txt"],
    "field of unknown format": ["vfield", "--level", "0", "--out", "field.csv"],
    "table not parquet": ["regress", "text.parquet", "--out", "study"],
    "no table": ["regress", "missing.parquet", "--out", "study"],
    "zero splits": ["regress", "text.parquet", "--out", "study", "--splits", "0"],
    "zero max steps": ["evaluate", "--max-steps", "0"],
    "too many max steps": ["gather", "--out", "eps", "--max-steps", "501"],
    "zero region": ["evaluate", "--region", "0"],
    "negative seed": ["evaluate", "--seed", "-1"],
    "zero workers": ["study", "--out", "study", "--workers", "0"],
    "malformed JSON config": ["train", "--out", "run", "--config", "bad.json"],
    "config not an object": ["train", "--out", "run", "--config", "list.json"],
    "no steps, no warm start": ["train", "--out", "run", "--steps", "0"],
    "zero scale": ["train", "--out", "run", "--scale", "0"],
    "NaN coefficient": ["cheese-vector", "--coeffs", "1,nan"],
    "infinite coefficient": ["top-right-vector", "--coeffs", "inf"],
    "negative near": ["cheese-vector", "--near", "-1"],
    "zero placements": ["channels", "--placements", "0"],
    "NaN clamp value": ["retarget", "--value", "nan"],
    "negative target count": ["retarget", "--max-targets", "-1"],
    "bad channels": ["resample", "--channels", "a,b"],
    "unknown corruption": ["patch", "--corruptions", "cheese_eaten"],
    "negative patching floor": ["patch", "--floor", "-0.1"],
    "patching a layer without maps": ["patch", "--policy", "p.pt", "--layer", "embedder.fc",
                                      "--levels", "0:3"],
    "output folder is a file": ["cheese-vector", "--out", "a_file"],
    "output inside a file": ["features", "--levels", "0:2", "--out", "a_file/f.parquet"],
    "card inside a file": ["evaluate", "--card", "a_file/card.md"],
    "card curve without a cloning log": ["evaluate", "--card-curve", "empty_run"],
    "unknown command": ["nosuch"],
    "unknown option": ["features", "--bogus"],
    "unknown layer": ["cheese-vector", "--policy", "p.pt", "--layer", "nope", "--levels",
                      "0:3"],
    "channel out of range": ["retarget", "--policy", "p.pt", "--channels", "999", "--levels",
                             "0:1"],
    "garbage policy": ["evaluate", "--policy", "garbage.pt"],
    "truncated policy": ["evaluate", "--policy", "truncated.pt"],
    "policy of other objects": ["evaluate", "--policy", "numpy.pt"],
    "policy without weights": ["evaluate", "--policy", "tensor.pt"],
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder of bad inputs (and one good policy, p.pt)."""
    root = tmp_path_factory.mktemp("workspace")
    (root / "a_file").write_text("")
    (root / "text.parquet").write_text("reached_cheese,x\n1,2\n")
    (root / "bad.json").write_text('{"ppo": ')
    (root / "list.json").write_text("[1, 2]")
    (root / "empty_run").mkdir()
    (root / "garbage.pt").write_bytes(b"not a checkpoint\n" * 8)
    torch.manual_seed(0)
    good = save_policy(Policy(1), root / "p.pt").read_bytes()
    (root / "truncated.pt").write_bytes(good[: len(good) // 2])
    torch.save({"model_state_dict": {"w": np.zeros(3)}}, root / "numpy.pt")
    torch.save(torch.zeros(3), root / "tensor.pt")
    return root


def _listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("args", CASES.values(), ids=CASES.keys())
def test_a_user_error_is_one_line_exit_2_and_writes_nothing(workspace, args, monkeypatch):
    monkeypatch.chdir(workspace)
    before = _listing(workspace)
    result = runner.invoke(app, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and "weights_only=False" not in result.output
    assert _listing(workspace) == before


def test_a_bad_policy_file_is_named_with_what_we_accept(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    said = {name: runner.invoke(app, ["evaluate", "--policy", f"{name}.pt"]).stderr
            for name in ("garbage", "truncated", "numpy")}
    assert "garbage.pt is not a torch file" in said["garbage"]
    assert "truncated.pt is a truncated or damaged torch file" in said["truncated"]
    assert "objects other than tensors (numpy" in said["numpy"]
    for text in said.values():
        assert "'model_state_dict' of an IMPALA maze policy" in text
        assert "weights_only=True" in text


def test_the_level_bounds_are_said(workspace):
    assert f"give 1 to {MAX_LEVELS:,}" in runner.invoke(
        app, ["features", "--levels", "0:99999999999"]).stderr


@pytest.mark.parametrize("spec", ["0:1000", "7", "1,5,9", "3,2"])
def test_level_specs_round_trip(spec):
    assert format_levels(parse_levels(spec)) == spec


def test_the_report_reproduces_every_option_of_the_study(tmp_path):
    from behavstats.io import write_json
    from behavstats.report.sections import reproduce, reproduce_command
    from behavstats.study import StudyConfig, quick_config
    from behavstats.study.folder import Study

    config = json.loads(json.dumps(quick_config(3, "easy").as_dict()))
    command = reproduce_command(tmp_path / "my study", config, "my policy.pt")
    assert command == ("behavstats study --policy 'my policy.pt' --out 'my study' --seed 3 "
                       "--mode easy --quick")
    custom = {**json.loads(json.dumps(StudyConfig().as_dict())), "max_steps": 100}
    assert reproduce_command(tmp_path, custom, "p.pt") is None
    write_json({"policy": "p.pt", "policy_fingerprint": "f", "config": config,
                "versions": {}, "policy_metadata": {}}, tmp_path / "study.json")
    assert "--seed 3 --mode easy --quick</code>" in reproduce(Study.load(tmp_path))
