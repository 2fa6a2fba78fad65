"""Linear probes: a planted cheese channel is found where it is planted and not before,
probes of noise are not selective, control labels, and the command on the shipped
default policy."""

import numpy as np
import pandas as pd
import pytest
from _planted import LAYER, planted_policy
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.policy import load_policy
from behavstats.sweeps import ProbeResult, run_probes
from behavstats.sweeps.probes import control_labels, score_probe

pytestmark = pytest.mark.usefixtures("one_thread")
BEFORE = "embedder.block1.res2.resadd"


def test_probe_finds_the_planted_channel_at_its_layer_only(tmp_path):
    result = run_probes(planted_policy(), range(300), tmp_path, layers=[BEFORE, LAYER],
                        targets=("cheese_x", "cheese_y"), per_episode=1, max_steps=10,
                        mode="easy")
    table = result.probes.set_index(["layer", "target"])
    for target in ("cheese_x", "cheese_y"):
        at, before = table.loc[(LAYER, target)], table.loc[(BEFORE, target)]
        assert at["accuracy"] > 0.85 and at["selectivity"] > 0.6
        assert before["accuracy"] < before["baseline"] + 0.05
        # beating the control task: significant where planted, not before (4 tests)
        assert at["q_value"] <= 0.05 < before["q_value"]
    loaded = ProbeResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.probes, result.probes, check_dtype=False)
    assert (tmp_path / "probes.png").exists()


def _noise_split(n_mazes=300, per_maze=3, seed=0):
    groups = np.repeat(np.arange(n_mazes), per_maze)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n_mazes)[groups]
    train = np.flatnonzero(groups < 0.7 * n_mazes)
    test = np.flatnonzero(groups >= 0.7 * n_mazes)
    return groups, labels, train, test, rng


def test_probe_of_noise_is_not_selective():
    groups, labels, train, test, rng = _noise_split()
    features = rng.normal(size=(len(groups), 64))
    row = score_probe(features, labels, control_labels(labels, groups, 0, 0), groups, train,
                      test, 0)
    assert abs(row["selectivity"]) < 0.08
    assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    readable = np.eye(4)[labels] + 0.1 * rng.normal(size=(len(groups), 4))
    row = score_probe(readable, labels, control_labels(labels, groups, 0, 0), groups, train,
                      test, 0)
    assert row["accuracy"] == 1.0 and row["selectivity"] > 0.5


def test_control_labels_are_per_maze_relabellings():
    groups, labels, *_ = _noise_split(50, 4)
    control = control_labels(labels, groups, 3, 1)
    assert set(control) <= set(labels)
    assert all(len(set(control[groups == g])) == 1 for g in range(50))
    assert (control != labels).any()
    assert np.array_equal(control, control_labels(labels, groups, 3, 1))


def test_probe_command_on_the_default_policy(tmp_path):
    done = CliRunner().invoke(app, ["probe", "--policy", "default", "--levels", "0:12",
                                    "--per-episode", "2", "--out", str(tmp_path), "--quiet"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "probes.csv")
    assert list(table.columns) == ["layer", "target", "accuracy", "ci_low", "ci_high",
                                   "baseline", "control_accuracy", "selectivity", "p_value",
                                   "q_value", "random_network_accuracy", "n_train", "n_test"]
    assert len(table) == 7 * 6
    assert ((table.ci_low <= table.accuracy) & (table.accuracy <= table.ci_high)).all()
    done = CliRunner().invoke(app, ["probe", "--levels", "0:2", "--out", str(tmp_path),
                                    "--quiet"])
    assert done.exit_code == 2 and "at least 4 levels" in done.output


def test_probes_do_not_depend_on_the_number_of_jobs():
    """The fits run in parallel processes; one BLAS thread each keeps their arithmetic,
    and so the table, the same as in one process."""
    policy = load_policy("default")
    kwargs = {"layers": ["embedder.block2.res1.resadd"], "targets": ("cheese_x", "mouse_y"),
              "max_steps": 40}
    one = run_probes(policy, range(12), n_jobs=1, **kwargs).probes
    pd.testing.assert_frame_equal(one, run_probes(policy, range(12), n_jobs=2, **kwargs).probes)
