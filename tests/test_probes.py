"""Linear probes: a planted cheese channel is found where it is planted and not before
(flattened) and at its cell (spatial), probes of noise are not selective, control
labels, the spatial rows and per-maze scores, the early-decision scores and their
intervals, and the command on the shipped default policy."""

import numpy as np
import pandas as pd
import pytest
from _planted import LAYER, planted_policy
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.experiments import Probes
from behavstats.interventions.effects import mean_ci
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.policy import load_policy
from behavstats.seeding import Purpose, stream
from behavstats.sweeps import ProbeResult, run_probes
from behavstats.sweeps.early_probes import (
    auc_interval,
    early_row,
    fold_auc,
    folds_of,
    out_of_fold,
)
from behavstats.sweeps.probe_common import RowSpace
from behavstats.sweeps.probes import COLUMNS, control_labels, score_probe
from behavstats.sweeps.spatial_probes import cell_rows, decoy_cells, maze_scores

pytestmark = pytest.mark.usefixtures("one_thread")
BEFORE = "embedder.block1.res2.resadd"


def test_probe_finds_the_planted_channel_at_its_layer_only(tmp_path):
    result = run_probes(planted_policy(), range(300), tmp_path, layers=[BEFORE, LAYER],
                        targets=("cheese_x", "cheese_y"), per_episode=1, max_steps=10,
                        mode="easy", kinds=("flattened",))
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
                                    "--per-episode", "2", "--kinds", "flattened,spatial",
                                    "--max-steps", "100",
                                    "--out", str(tmp_path), "--quiet"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "probes.csv")
    assert list(table.columns) == list(COLUMNS)
    assert list(table.columns[:13]) == ["layer", "target", "accuracy", "ci_low", "ci_high",
                                        "baseline", "control_accuracy", "selectivity",
                                        "p_value", "q_value", "random_network_accuracy",
                                        "n_train", "n_test"]  # as before the other kinds
    assert table["kind"].value_counts().to_dict() == {"flattened": 7 * 6, "spatial": 6 * 2}
    assert ((table.ci_low <= table.accuracy) & (table.accuracy <= table.ci_high)).all()
    settings = ProbeResult.load(tmp_path).settings  # with the layers probed, as run
    assert settings == Probes(kinds=("flattened", "spatial"), per_episode=2, max_steps=100,
                              layers=settings.layers) and len(settings.layers) == 7
    done = CliRunner().invoke(app, ["probe", "--levels", "0:2", "--out", str(tmp_path),
                                    "--quiet"])
    assert done.exit_code == 2 and "at least 4 levels" in done.output
    done = CliRunner().invoke(app, ["probe", "--kinds", "spatial,early", "--out",
                                    str(tmp_path)])
    assert done.exit_code == 2 and "first_observation" in done.output


def test_probes_do_not_depend_on_the_number_of_jobs():
    """The fits run in parallel processes; one BLAS thread each keeps their arithmetic,
    and so the table, the same as in one process."""
    policy = load_policy("default")
    kwargs = {"layers": ["embedder.block2.res1.resadd"], "targets": ("cheese_x", "mouse_y"),
              "max_steps": 40}
    one = run_probes(policy, range(12), n_jobs=1, **kwargs).probes
    pd.testing.assert_frame_equal(one, run_probes(policy, range(12), n_jobs=2, **kwargs).probes)


def test_spatial_probe_finds_the_planted_cheese_cell(tmp_path):
    """At the planted layer the shared per-cell probe's arg-max lands on the cheese in
    every held-out maze and beats its control task, which stays at chance; the path
    (which nothing in the planted network computes) is at chance on the random
    network, while the cheese's sprite is readable there too (random convolutional
    features detect it locally: the figure the agent's probe must beat)."""
    result = run_probes(planted_policy(), range(60), tmp_path, layers=[LAYER], mode="easy",
                        kinds=("spatial",), n_jobs=1)
    rows = result.probes.set_index("target")
    cheese, per = rows.loc["cheese_cell"], result.spatial.set_index("target")
    assert cheese["score"] == "argmax_hit" and cheese["accuracy"] >= 0.9
    assert cheese["baseline"] < 0.2 and cheese["q_value"] <= 0.05
    control = mean_ci(per.loc["cheese_cell", "control_hit"] - per.loc["cheese_cell", "chance"])
    assert control.ci_low <= 0 <= control.ci_high
    assert cheese["random_network_accuracy"] > 2 * cheese["baseline"]
    path = mean_ci(per.loc["path_cell", "random_network_auc"])
    assert path.ci_low <= 0.5 <= path.ci_high
    assert rows.loc["path_cell", "score"] == "auc"
    assert set(result.probes["kind"]) == {"spatial"} and result.observations is None
    loaded = ProbeResult.load(tmp_path)
    assert loaded == result and loaded.settings == Probes(kinds=("spatial",), layers=(LAYER,),
                                                          mode="easy")
    assert {"spatial_probes.png", "spatial_probe_maps.png"} <= {p.name for p in
                                                                 tmp_path.iterdir()}


def test_cell_rows_label_each_maze_once(level_mazes):
    """One row per activation cell a free maze cell maps to; one cheese cell per maze
    (the control's at its stand-in); the path's rows leave out its ends."""
    mazes = level_mazes["hard"][:6]
    decoys = decoy_cells(mazes, seed=0)
    rows = cell_rows(mazes, 16, decoys)
    for i, (maze, decoy) in enumerate(zip(mazes, decoys, strict=True)):
        mine = rows.obs == i
        assert len(set(rows.cell[mine])) == mine.sum()
        act = {name: (lambda r, c: r * 16 + c)(*maze_to_activation_cell(
            *cell, maze.maze_dim, maze.world_dim, 16))
            for name, cell in (("cheese", maze.cheese), ("decoy", decoy), ("mouse", maze.mouse))}
        assert rows.cell[mine][rows.labels["cheese_cell"][mine]].tolist() == [act["cheese"]]
        assert rows.cell[mine][rows.control["cheese_cell"][mine]].tolist() == [act["decoy"]]
        assert decoy != maze.mouse and maze.is_free(decoy)
        assert set(rows.cell[mine][~rows.used["path_cell"][mine]]) == set(act.values())
        assert rows.labels["path_cell"][mine].any() and rows.used["cheese_cell"][mine].all()


def test_maze_scores_by_hand():
    """Maze 0: 4 cells in a row, cheese at cell 2; the probe's top cell is 3 (a miss
    exactly, a hit within one cell), its ranking puts the cheese second (AUC 2/3).
    Maze 1: every row positive, so no AUC."""
    p = np.array([0.1, 0.2, 0.3, 0.9, 0.5, 0.4])
    y = np.array([0, 0, 1, 0, 1, 1], bool)
    mazes, cells = np.array([0, 0, 0, 0, 1, 1]), np.array([0, 1, 2, 3, 0, 1])
    exact = maze_scores(p, y, mazes, cells, size=4, radius=0)
    assert exact.loc[0, "hit"] == 0 and exact.loc[0, "chance"] == 0.25
    assert exact.loc[0, "auc"] == pytest.approx(2 / 3) and np.isnan(exact.loc[1, "auc"])
    near = maze_scores(p, y, mazes, cells, size=4, radius=1)
    assert near.loc[0, "hit"] == 1 and near.loc[0, "chance"] == 0.75
    assert exact.loc[1, "hit"] == 1 and exact.loc[1, "n_cells"] == 2


def test_auc_interval_is_the_bootstrap_of_the_fold_auc():
    """The vectorised interval equals resampling mazes with the BOOTSTRAP stream and
    averaging scikit-learn's AUC of each fold's resampled mazes."""
    rng = np.random.default_rng(1)
    labels = rng.random(40) < 0.35
    probability = np.round(0.3 * labels + rng.random(40), 1)  # with ties
    fold = folds_of(labels, 3, seed=0)
    low, high = auc_interval(probability, labels, fold, seed=3, n_boot=100)
    aucs = []
    for d in stream(3, Purpose.BOOTSTRAP).integers(0, 40, (100, 40)):
        per_fold = [roc_auc_score(labels[d][fold[d] == k], probability[d][fold[d] == k])
                    for k in range(3) if len(set(labels[d][fold[d] == k])) == 2]
        aucs.append(np.mean(per_fold))
    assert (low, high) == pytest.approx(tuple(np.percentile(aucs, [2.5, 97.5])))
    by_fold = np.mean([roc_auc_score(labels[fold == k], probability[fold == k])
                       for k in range(3)])
    assert fold_auc(probability, labels, fold) == pytest.approx(by_fold)
    assert low < by_fold < high


def test_early_probe_of_a_readable_and_of_noise_features():
    """A feature that carries the outcome gives an AUC near 1 that beats the control
    task; over data sets of pure noise the cross-fitted AUC averages 0.5 (averaging
    per-fold AUCs keeps the folds' intercepts out of the ranking; a single data set's
    AUC varies about it by more than its interval over mazes says, as that interval
    holds the probes' fits fixed)."""
    rng = np.random.default_rng(0)
    labels = rng.random(120) < 0.3
    levels = np.arange(120)
    fold = folds_of(labels, 5, seed=0)
    control = control_labels(labels, levels, 0, 0, Purpose.EARLY_CONTROL)
    readable = np.c_[labels + 0.3 * rng.normal(size=120), rng.normal(size=(120, 5))]
    row, per = early_row("first_observation", "layer", readable, None, labels, control, fold,
                         levels, seed=0, n_boot=500)
    assert row["accuracy"] > 0.95 and row["p_value"] < 0.01 and row["ci_low"] > 0.85
    assert row["log_loss"] < row["baseline_log_loss"] and np.isnan(
        row["random_network_accuracy"])
    assert len(per) == 120 and sorted(set(per["fold"])) == [0, 1, 2, 3, 4]
    aucs = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        labels = rng.random(90) < 0.4
        fold = folds_of(labels, 3, seed=seed)
        noise = rng.normal(size=(90, 6))
        aucs.append(fold_auc(out_of_fold(noise, labels, fold), labels, fold))
    assert abs(np.mean(aucs) - 0.5) < 0.06
    assert folds_of(np.array([True, False, False, False]), 5, seed=0) is None


@pytest.mark.parametrize("tuned", [False, True])
def test_a_probe_on_the_row_space_is_the_probe_on_the_features(tuned):
    """Fewer rows than features: the L2 probe fitted on the rows' coordinates in the
    span of the training rows (`RowSpace`) has the same coefficients, once mapped
    back, and the same probabilities on new rows as the probe fitted on the features;
    with its C chosen by inner cross-validation, the same C."""
    rng = np.random.default_rng(3)
    features = rng.normal(size=(160, 400)) * rng.uniform(0.1, 3, size=400)
    labels = (features[:, :5].sum(1) + rng.normal(size=160) > 0).astype(int)
    model = (LogisticRegressionCV(Cs=[1e-3, 1e-2, 1e-1], cv=3, scoring="neg_log_loss",
                                  l1_ratios=(0.0,), tol=1e-10, max_iter=10_000,
                                  use_legacy_attributes=False) if tuned
             else LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000))
    plain = make_pipeline(StandardScaler(), model).fit(features[:100], labels[:100])
    reduced = make_pipeline(StandardScaler(), RowSpace(), clone(model)).fit(
        features[:100], labels[:100])
    basis = reduced[1].basis_
    assert basis.shape == (400, 100)
    assert np.allclose(basis.T @ basis, np.eye(100))
    np.testing.assert_allclose(basis @ reduced[-1].coef_.ravel(), plain[-1].coef_.ravel(),
                               atol=1e-5)
    np.testing.assert_allclose(reduced.predict_proba(features[100:]),
                               plain.predict_proba(features[100:]), atol=1e-6)
    if tuned:
        assert reduced[-1].C_ == plain[-1].C_


def test_row_space_leaves_tall_features_as_they_are():
    features = np.random.default_rng(0).normal(size=(50, 8))
    space = RowSpace().fit(features)
    assert space.basis_ is None
    assert space.transform(features) is features
