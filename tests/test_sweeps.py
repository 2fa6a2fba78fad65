"""Layer sweep and channel ablation sweep: networks with a known answer, result round
trips, and the commands on the shipped default policy."""

import numpy as np
import pandas as pd
import pytest
import torch
from _null import READ, SIDES, null_policy, sided
from _planted import CHANNEL, LAYER, planted_policy
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.engine import forward
from behavstats.env import render
from behavstats.geometry import decision_point
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import HIDDEN_LAYER
from behavstats.sweeps import AblationResult, LayerSweepResult, run_ablation, run_layer_sweep
from behavstats.sweeps import layers as layer_sweep

pytestmark = pytest.mark.usefixtures("one_thread")
EARLY = ["embedder.block2.res1.resadd", "embedder.block2.res2.resadd"]
EASY_LEVELS = range(12)


def _intervals_hold(table: pd.DataFrame) -> bool:
    ok = table.dropna(subset=["ci_low", "ci_high"])
    return bool(((ok.ci_low <= ok.estimate) & (ok.estimate <= ok.ci_high)).all())


def test_sweep_layers_are_the_residual_adds_and_the_embedder_output(make_policy):
    names = layer_sweep.sweep_layers(make_policy(0))
    assert len(names) == 7 and all(n.endswith(".resadd") for n in names[:6])
    assert names[2] == "embedder.block2.res1.resadd" and names[6] == HIDDEN_LAYER


def test_layer_sweep_shows_no_effect_where_the_network_ignores_the_layer(make_policy, tmp_path):
    ignoring = make_policy(1)
    ignoring.embedder.block3.conv.weight.data.zero_()  # nothing reads block 2's output
    result = run_layer_sweep(ignoring, EASY_LEVELS, tmp_path, layers=EARLY, mode="easy")
    table = result.layer_sweep
    assert set(table.columns) == set(layer_sweep.COLUMNS) and table["n"].min() > 0
    assert np.allclose(table["estimate"], 0, atol=1e-6)
    reading = run_layer_sweep(make_policy(1), EASY_LEVELS, layers=EARLY[:1], mode="easy")
    assert reading.layer_sweep.query("target == 'field_tv'")["estimate"].min() > 1e-4
    loaded = LayerSweepResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.layer_sweep, table, check_dtype=False)
    assert (tmp_path / "layer_sweep.png").exists()
    assert list(result.summary().columns) == ["quantity", "condition", "estimate", "ci_low",
                                              "ci_high", "n", "p_value", "q_value"]


def test_ablation_finds_the_planted_channel(tmp_path):
    result = run_ablation(planted_policy(), range(30), tmp_path, layer=LAYER, mode="easy")
    table = result.ablation
    for method in ("zero", "mean"):
        rows = table[table.method == method]
        assert rows.iloc[0]["channel"] == CHANNEL and abs(rows.iloc[0]["estimate"]) > 0.02
        assert np.allclose(rows.iloc[1:]["estimate"], 0, atol=1e-6)
    # the other channels change nothing (exactly 0 on every level): no sign to flip, no
    # test; the planted channel's two tests are the family, and both are significant
    planted = table["channel"] == CHANNEL
    assert (table.loc[planted, "q_value"] <= 0.05).all()
    assert table.loc[~planted, ["p_value", "q_value"]].isna().all(axis=None)
    assert table.query("channel == @CHANNEL")["tracking_score"].iloc[0] > 0.8
    assert _intervals_hold(table)
    loaded = AblationResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.ablation, table, check_dtype=False)


NULL_RUNS, NULL_LEVELS = 12, 40


@pytest.mark.slow
def test_ablation_pvalues_are_calibrated_where_no_channel_has_a_mean_effect():
    """`_null`: real mazes whose cheese a fair coin puts left or right of the path at
    the decision square, and a network that never sees which. Every channel's change is
    then symmetric about 0, so its p-value is uniform: over 12 coin draws x 32 channels
    x 2 methods (768 p-values) the share below 0.05 lies within [0.01, 0.10], and below
    0.5 within [0.35, 0.65]. The tests of one draw share its coins (and a channel's zero
    and mean ablation nearly agree), so one draw's share below 0.05 varies more than 64
    independent tests' would: standard deviation 0.047 (simulated over coin draws)
    against 0.027; over 12 draws 0.014, and [0.01, 0.10] is -2.9 to +3.7 of those
    (0.14% of simulated 12-draw shares fall outside)."""
    policy = null_policy()
    pairs = [found for found in map(sided, LevelGenerator("hard", batch=16).mazes(
        range(200))) if found][:NULL_LEVELS]
    assert len(pairs) == NULL_LEVELS
    # what the network reads is the same picture whichever side the cheese is on
    seen = [forward(policy, render([(pair[side], decision_point(pair[side]).cell)
                                    for pair in pairs]), stop=LAYER)[..., :2 * READ]
            for side in SIDES]
    assert torch.equal(*seen)
    p_values = []
    for run in range(NULL_RUNS):
        coin = np.random.default_rng(run).integers(0, 2, NULL_LEVELS)
        mazes = [pair[SIDES[c]] for pair, c in zip(pairs, coin, strict=True)]
        table = run_ablation(policy, mazes, layer=LAYER, discovery=mazes[:2], seed=run)
        p_values.append(table.ablation["p_value"].to_numpy())
    p = np.concatenate(p_values)
    assert len(p) == NULL_RUNS * 64 and not np.isnan(p).any()
    assert 0.01 <= (p < 0.05).mean() <= 0.10
    assert 0.35 <= (p < 0.5).mean() <= 0.65


def test_mean_ablation_uses_the_other_mazes_mean(make_policy):
    """With one channel of a layer constant over mazes, its leave-one-out mean equals
    its value: mean-ablating it changes nothing; zero-ablating it does."""
    policy = make_policy(2)
    conv = policy.embedder.block2.res1.conv2
    conv.weight.data[3] = 0.0
    conv.bias.data[3] = 5.0
    policy.embedder.block2.conv.weight.data[3] = 0.0  # block2 channel 3: constant
    policy.embedder.block2.conv.bias.data[3] = 0.0
    result = run_ablation(policy, range(10), layer=LAYER, mode="easy").ablation
    row = result.set_index(["method", "channel"])["estimate"]
    assert abs(row["mean", 3]) < 1e-6 and abs(row["zero", 3]) > 1e-6


def _cli(*args):
    return CliRunner().invoke(app, [*args, "--quiet"])


def test_commands_on_the_default_policy(tmp_path):
    done = _cli("layer-sweep", "--policy", "default", "--levels", "0:6", "--out",
                str(tmp_path / "ls"))
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "ls" / "layer_sweep.csv")
    assert list(table.columns) == ["vector", "layer", "coeff", "target", "estimate", "ci_low",
                                   "ci_high", "n", "p_value", "q_value"]
    assert set(table.vector) == {"cheese", "top_right"} and _intervals_hold(table)
    assert set(table.target) == {"p_cheese", "p_topright", "field_tv"}
    done = _cli("ablate", "--policy", "default", "--levels", "0:8", "--out",
                str(tmp_path / "ab"))
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "ab" / "ablation.csv")
    assert list(table.columns) == ["layer", "channel", "method", "estimate", "ci_low",
                                   "ci_high", "n", "p_value", "q_value", "tracking_score"]
    assert len(table) == 2 * 32 and _intervals_hold(table)


def test_command_errors_are_one_line(tmp_path):
    done = _cli("ablate", "--layer", "embedder.block9", "--levels", "0:4", "--out",
                str(tmp_path))
    assert done.exit_code == 2 and "no layer named" in done.output
    done = _cli("ablate", "--layer", "embedder.fc", "--levels", "0:4", "--out", str(tmp_path))
    assert done.exit_code == 2 and "no channel maps" in done.output
    done = _cli("layer-sweep", "--levels", "1", "--out", str(tmp_path))
    assert done.exit_code == 2 and "decision square" in done.output
