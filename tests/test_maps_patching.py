"""Activation patching maps: the planted network's channel and cells found, patching
everything restores exactly 1 and nothing 0, the batched patches against a direct
batch-of-one computation through the hooks, the twins, the floor and its counts, the
channel x layer sweep, and the result's files."""

import numpy as np
import pandas as pd
import pytest
import torch
from _planted import CHANNEL, LAYER, planted_policy
from typer.testing import CliRunner

from behavstats.cli import app
from behavstats.engine import LayerCache
from behavstats.env import render
from behavstats.experiments import Patching
from behavstats.geometry import decision_point, shortest_path
from behavstats.hooks import Patch, ReplaceChannels, run_with_cache
from behavstats.interventions.effects import estimate_ci, row_means_ci
from behavstats.interventions.forward import ChannelError, NoUsableLevelsError
from behavstats.maps.patching import (
    COLUMNS,
    FAMILY,
    PatchingResult,
    changed_units,
    decision_values,
    patch_units,
    restoration,
    run_patching,
)
from behavstats.maps.twins import PatchingError, _branch, twin
from behavstats.maze.edits import move_mouse
from behavstats.maze.model import MOVE_NAMES, MOVES
from behavstats.policy import move_probs, preprocess
from behavstats.seeding import Purpose, stream

pytestmark = pytest.mark.usefixtures("one_thread")
EASY = range(14)
HARD = [3, 6, 26, 1]  # 5x5, 9x9, 7x7 with a decision square; 3x3 without
QUICK = {"n_boot": 200, "beside": False, "sweep_layers": ()}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    out = tmp_path_factory.mktemp("patching")
    result = run_patching(planted_policy(), EASY, out, mode="easy",
                          corruptions=("cheese_removed", "cheese_moved"), n_examples=2,
                          **QUICK)
    return result, out


def test_the_planted_channel_restores_everything_and_no_other_channel_anything(planted):
    table = planted[0].patching
    channels = table[table["unit"] == "channel"]
    assert set(channels["corruption"]) == {"cheese_removed", "cheese_moved"}
    assert len(channels) == 2 * 2 * 2 * 32 and (channels["n"] >= 3).all()
    found = channels[channels["channel"] == CHANNEL]
    assert np.allclose(found["estimate"], 1.0, atol=1e-5)
    # every kept level restores: the smallest p-value an exact test of n levels gives
    assert np.allclose(found["p_value"], 0.5 ** found["n"].astype(float))
    # nothing after the layer reads another channel: exactly 0 on every level, no test
    others = channels[channels["channel"] != CHANNEL]
    assert np.allclose(others["estimate"], 0.0, atol=1e-7)
    assert others[["p_value", "q_value"]].isna().all(axis=None)
    assert set(table.columns) == set(COLUMNS)


def test_only_cells_near_a_cheese_restore(planted):
    """The planted channel is zero away from the cheese, and so is every other channel
    everywhere: a cell more than two activation cells from both cheeses holds the same
    activations in both runs and restores exactly 0; the cells near the cheese carry
    (nearly) all the positive restoration."""
    result = planted[0]
    cells = result.per_level[result.per_level["unit"] == "cell"]
    where = result.levels.set_index(["level", "corruption"])
    near = cells.join(where[["cheese_row", "cheese_col", "edit_row", "edit_col"]],
                      on=["level", "corruption"])
    distance = np.minimum(
        np.maximum(abs(near["row"] - near["cheese_row"]), abs(near["col"] - near["cheese_col"])),
        np.maximum(abs(near["row"] - near["edit_row"]), abs(near["col"] - near["edit_col"])))
    far = near[distance.astype(float) > 2]
    assert len(far) > 1000 and np.allclose(far["p_cheese"].dropna(), 0.0, atol=1e-7)
    assert far["p_cheese"].notna().any()
    mass = result.summary().set_index(["quantity", "condition"])["estimate"]
    removed = mass["cell_mass_near_cheese", "cheese_removed, denoising, p_cheese"]
    chance = mass["cell_share_near_cheese", "cheese_removed, denoising, p_cheese"]
    assert removed > 0.9 and chance < 0.1
    centred = result.patching.query("unit == 'cell' and corruption == 'cheese_removed' and "
                                    "direction == 'denoising' and metric == 'p_cheese'")
    best = centred.iloc[0]
    assert max(abs(best["x"]), abs(best["y"])) <= 1 and best["estimate"] > 0.5


def test_patching_everything_restores_exactly_one_and_nothing_zero(make_policy, mazes_by_level):
    policy = make_policy(3)
    mazes = mazes_by_level(HARD[:3])
    clean_m = [mazes[level] for level in HARD[:3]]
    points = [decision_point(m) for m in clean_m]
    twins = [twin(m, p, "cheese_moved", stream(0, Purpose.PATCH_TWINS, m.level, 0))
             for m, p in zip(clean_m, points, strict=True)]
    clean = LayerCache(policy, render([(m, p.cell) for m, p in zip(clean_m, points,
                                                                    strict=True)]), LAYER)
    corrupted = LayerCache(policy, render([(t.maze, t.mouse) for t in twins]), LAYER)
    moves = (np.array([p.to_cheese for p in points]), np.array([p.to_top_right for p in points]))
    values = {run: decision_values(cache.probs(), *moves)
              for run, cache in (("clean", clean), ("corrupted", corrupted))}
    every = torch.ones(len(clean_m), 1, 1, 1, dtype=torch.bool)
    for direction, base, source in (("denoising", corrupted, clean.acts),
                                    ("noising", clean, corrupted.acts)):
        for mask, expected in ((every, 1.0), (~every, 0.0)):
            patched = decision_values(base.probs([Patch(LAYER, mask, source)]), *moves)
            for metric in ("p_cheese", "logit_diff"):
                found = restoration(patched[metric], values["clean"][metric],
                                    values["corrupted"][metric], direction)
                assert np.allclose(found, expected, atol=1e-5), (direction, metric)


def test_batched_patches_match_a_direct_computation(make_policy, mazes_by_level, observer):
    """Rows of `patch_units` (a channel, a cell) against one observation of the
    corrupted twin through the hooks, with the clean run's activations pasted in."""
    policy = make_policy(1)
    maze = mazes_by_level([6])[6]
    point = decision_point(maze)
    found = twin(maze, point, "cheese_moved", stream(0, Purpose.PATCH_TWINS, 6, 0))
    clean_obs = observer.observe([move_mouse(maze, point.cell)])
    corrupt_obs = observer.observe([move_mouse(found.maze, found.mouse)])
    clean_acts = run_with_cache(policy, preprocess(clean_obs), [LAYER])[1][LAYER]
    base = LayerCache(policy, corrupt_obs, LAYER)
    channels, _ = patch_units(base, clean_acts, "channel", np.array([0]))
    cells, changed = patch_units(base, clean_acts, "cell", np.array([0]))
    assert 0 < changed.sum() < len(changed)  # cells far from both cheeses are the same
    width = clean_acts.shape[-1]
    for c in (0, 7, 31):
        with torch.no_grad(), policy.hooks(ReplaceChannels(LAYER, [c], clean_acts[0])):
            direct = move_probs(policy(preprocess(corrupt_obs))[0]).numpy()[0]
        assert np.allclose(channels[c], direct, atol=1e-5)
    first, last = (divmod(int(i), width) for i in np.flatnonzero(changed)[[0, -1]])
    for r, c in ((0, 0), (5, 9), (15, 3), first, last):  # changed cells and maybe not
        mask = torch.zeros(1, 1, width, width, dtype=torch.bool)
        mask[0, 0, r, c] = True
        with torch.no_grad(), policy.hooks(Patch(LAYER, mask, clean_acts)):
            direct = move_probs(policy(preprocess(corrupt_obs))[0]).numpy()[0]
        assert np.allclose(cells[r * width + c], direct, atol=1e-5)


def test_twins_keep_the_decision_square_and_are_seeded(mazes_by_level):
    mazes = mazes_by_level(range(40))
    seen = {"cheese_moved": 0, "wall_toggled": 0, "mouse_moved": 0}
    for level, maze in mazes.items():
        point = decision_point(maze)
        if point is None:
            continue
        moved = twin(maze, point, "cheese_moved", stream(0, Purpose.PATCH_TWINS, level, 0))
        again = twin(maze, point, "cheese_moved", stream(0, Purpose.PATCH_TWINS, level, 0))
        assert moved == again and moved.maze.cheese != maze.cheese
        assert moved.maze.cheese not in _branch(maze, point) and moved.mouse == point.cell
        dx, dy = MOVES[MOVE_NAMES[point.to_cheese]]
        assert maze.cheese in _branch(maze, point)
        assert (point.cell[0] + dx, point.cell[1] + dy) in _branch(maze, point)
        seen["cheese_moved"] += 1
        mouse = twin(maze, point, "mouse_moved", None)
        assert (mouse is None) == (point.cell == maze.start)
        seen["mouse_moved"] += mouse is not None
        opened = twin(maze, point, "wall_toggled", stream(0, Purpose.PATCH_TWINS, level, 3))
        if opened is not None:
            assert not maze.is_free(opened.edited) and opened.maze.is_free(opened.edited)
            assert decision_point(opened.maze) == point
            for end in (maze.cheese, maze.top_right):
                assert shortest_path(opened.maze, maze.start, end) == \
                    shortest_path(maze, maze.start, end)
            seen["wall_toggled"] += 1
        removed = twin(maze, point, "cheese_removed", None)
        assert removed.maze.cheese is None and removed.edited == maze.cheese
    assert min(seen.values()) >= 5, seen


def test_levels_below_the_floor_are_left_out_and_counted(make_policy, mazes_by_level):
    mazes = mazes_by_level(HARD)
    levels = [mazes[level] for level in HARD]
    common = dict(corruptions=("cheese_moved", "mouse_moved"), units=("channel",), **QUICK)
    low = run_patching(make_policy(2), levels, floor=0.0, logit_floor=0.0, **common)
    gaps = low.levels[low.levels["twin"]].set_index(["corruption", "level"])
    gap = (gaps["clean_p_cheese"] - gaps["corrupted_p_cheese"]).abs()
    floor = float(np.sort(gap.to_numpy())[len(gap) // 2])  # about half the twins kept
    high = run_patching(make_policy(2), levels, floor=floor, logit_floor=0.0, **common)
    summary = high.summary().set_index(["quantity", "condition"])
    for corruption in common["corruptions"]:
        below = int((gap[corruption] < floor).sum())
        row = summary.loc[("levels_below_floor", f"{corruption}, p_cheese")]
        assert row["estimate"] == below and row["n"] == len(gap[corruption])
        rows = high.patching.query("corruption == @corruption and metric == 'p_cheese'")
        assert (rows["n"] == len(gap[corruption]) - below).all()
    assert 1 <= (gap < floor).sum() < len(gap)
    # the levels kept are the same in both runs, and so are their restorations
    kept = high.per_level.dropna(subset=["p_cheese"])
    same = low.per_level.merge(kept, on=["level", "corruption", "direction", "channel"])
    assert len(same) == len(kept) and np.allclose(same["p_cheese_x"], same["p_cheese_y"])
    # no level: no table, every level counted
    none = run_patching(make_policy(2), levels, floor=2.0, logit_floor=1e9, **common)
    assert none.patching.empty and none.per_level.empty
    assert none.summary().query("quantity == 'levels_below_floor'")["estimate"].sum() == \
        2 * len(gap)
    assert low.levels["level"].nunique() == len(HARD) and not low.levels.query(
        "level == 1")["has_dsq"].any()


def test_channel_by_layer_follows_the_planted_path():
    """The planted channel is channel 1 in block 1's output, `CHANNEL` from block 2's
    first residual add on; nothing else carries the cheese."""
    layers = ("embedder.block1.res2.resadd", LAYER, "embedder.block2.res2.resadd")
    result = run_patching(planted_policy(), EASY, mode="easy", corruptions=("cheese_removed",),
                          sweep_corruption="cheese_removed", units=("channel",),
                          directions=("denoising",), **{**QUICK, "sweep_layers": layers})
    table = result.by_layer
    assert list(dict.fromkeys(table["layer"])) == list(layers)
    best = table.groupby("layer", sort=False).head(1).set_index("layer")
    assert best.loc[layers[0], "channel"] == 1 and best.loc[LAYER, "channel"] == CHANNEL
    assert np.allclose(best["estimate"], 1.0, atol=1e-5)
    is_best = table.set_index(["layer", "channel"]).index.isin(
        list(zip(best.index, best["channel"], strict=True)))
    assert np.allclose(table.loc[~is_best, "estimate"], 0.0, atol=1e-7)
    main = result.patching.query("metric == 'p_cheese'").set_index("channel")["estimate"]
    at_layer = table[table["layer"] == LAYER].set_index("channel")["estimate"]
    pd.testing.assert_series_equal(main.sort_index(), at_layer.sort_index(), check_names=False)


def test_result_round_trip_files_and_settings(planted):
    result, out = planted
    loaded = PatchingResult.load(out)
    assert loaded == result and loaded.settings == result.settings
    assert result.settings == Patching(mode="easy", corruptions=("cheese_removed",
                                                                 "cheese_moved"),
                                       n_examples=2, **QUICK)
    pd.testing.assert_frame_equal(loaded.summary(), result.summary())
    csv = pd.read_csv(out / "patching.csv")
    assert list(csv.columns) == list(COLUMNS) and len(csv) == len(result.patching)
    for name in ("channel_ranking", "cheese_centred", "cell_maps"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    summary = result.summary()
    family = summary[(summary["quantity"] == "significant_tests")
                     & (summary["condition"] == FAMILY)]
    assert family["n"].iloc[0] == 8  # the planted channel's tests; the rest are all 0


def test_bad_settings_and_levels_raise_user_errors(make_policy):
    policy = make_policy(0)
    with pytest.raises(PatchingError, match="unknown corruption"):
        run_patching(policy, [3], corruptions=("cheese_eaten",), **QUICK)
    with pytest.raises(PatchingError, match="sweep metric"):
        run_patching(policy, [3], metrics=("p_cheese",), sweep_metric="logit_diff",
                     **{**QUICK, "sweep_layers": None})
    with pytest.raises(ChannelError, match="channel maps"):
        run_patching(policy, [3], layer="embedder.fc", **QUICK)
    with pytest.raises(NoUsableLevelsError):
        run_patching(policy, [1], **QUICK)


@pytest.mark.slow
def test_patch_command_writes_the_tables_it_promises(tmp_path):
    done = CliRunner().invoke(app, ["patch", "--levels", "0:8", "--out", str(tmp_path),
                                    "--corruptions", "mouse_moved", "--no-sweep",
                                    "--no-beside", "--quiet"])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "patching.csv")
    assert set(table["corruption"]) == {"mouse_moved"}
    assert "channels restoring most of P(cheese), mouse_moved" in done.output
    settings = PatchingResult.load(tmp_path).settings
    assert settings == Patching(corruptions=("mouse_moved",), sweep_layers=(),
                                beside=False)


def test_row_bootstrap_matches_the_per_row_interval():
    rng = np.random.default_rng(5)
    values = rng.normal(0.3, 1.0, (4, 25))
    values[2, :7] = np.nan
    table = row_means_ci(values, seed=2, n_boot=400)
    for r in (0, 1, 3):  # complete rows: the same draws as `estimate_ci`
        expected = estimate_ci(values[r], seed=2, n_boot=400)
        assert np.allclose(table.iloc[r][["estimate", "ci_low", "ci_high", "n"]].to_numpy(float),
                           [expected[k] for k in ("estimate", "ci_low", "ci_high", "n")])
    assert table.loc[2, "n"] == 18 and np.isclose(table.loc[2, "estimate"],
                                                  np.nanmean(values[2]))
    assert table.loc[2, "ci_low"] < table.loc[2, "estimate"] < table.loc[2, "ci_high"]


def test_units_that_differ_only_by_float_rounding_are_not_tested():
    """One thread or two order torch's sums differently, so the same picture region can
    give activations a few ulps apart: such units agree; a real change does not."""
    base = torch.rand(2, 4, 3, 3) * 5
    source = base * (1 + 3e-7)
    source[1, 2, 0, 1] += 0.01
    cells = changed_units(base, source, "cell")
    channels = changed_units(base, source, "channel")
    assert cells.shape == (2, 9) and channels.shape == (2, 4)
    assert np.flatnonzero(cells.ravel()).tolist() == [9 + 1]
    assert np.flatnonzero(channels.ravel()).tolist() == [4 + 2]
