"""A level's results do not depend on the other levels of a run.

Levels 77 and 111 (hard) are 3x3 mazes with the same walls, cheese and start but
different backgrounds: every experiment's per-level rows of each of them must be the
same computed alone as computed together with the other one and a few more levels."""

import numpy as np
import pandas as pd
import pytest

from behavstats.interventions import (
    run_channels,
    run_cheese_vector,
    run_resample,
    run_retarget,
    run_top_right_vector,
)
from behavstats.rollout import RolloutConfig, run_episodes
from behavstats.vfield import vector_fields

TWINS = (77, 111)
TOGETHER = [3, 77, 26, 111]  # 111 after its twin; 3 and 26 have decision squares
POOL = [77, 111, 3, 26, 6]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mazes(mazes_by_level):
    """Every maze the runs use, by level."""
    return mazes_by_level(sorted({*TOGETHER, *POOL}))


def test_the_twins_differ_only_in_background(mazes):
    a, b = (mazes[level] for level in TWINS)
    assert a.maze_dim == 3 and np.array_equal(a.free, b.free)
    assert (a.cheese, a.mouse) == (b.cheese, b.mouse)
    assert a.background_index != b.background_index and a != b


def _frame(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(list(table.columns)[:3]).reset_index(drop=True)


EXPERIMENTS = {
    "cheese vector": lambda p, m: [
        (r := run_cheese_vector(p, m, coeffs=(-1.0,), transfer_levels=0, n_examples=0,
                                n_boot=10)).decision, r.controls, r.absent],
    "top-right vector": lambda p, m: [
        (r := run_top_right_vector(p, m, coeffs=(1.0,), transfer_levels=0, n_examples=0,
                                   n_boot=10)).decision, r.fields, r.composition],
    "channels": lambda p, m: [run_channels(p, m, placements=3).samples],
    "retarget": lambda p, m: [run_retarget(p, m, channel_sets={"a": [1, 2]}, value=3.0,
                                           max_targets=None, n_boot=10, n_heatmaps=0).targets],
    "resample": lambda p, m: [run_resample(p, m, channels=[1, 2], source_levels=POOL,
                                           n_boot=10).effects],
    "vector fields": lambda p, m: [pd.concat(
        [f.to_frame().assign(level=maze.level) for f, maze in
         zip(vector_fields(p, m), m, strict=True)])[["level", "x", "y", "p_left", "p_down",
                                                    "p_noop", "p_up", "p_right"]]],
    "episodes": lambda p, m: [run_episodes(p, m, RolloutConfig(seed=3, max_steps=30,
                                                               record_path=True))],
}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_rows_of_a_level_do_not_depend_on_the_other_levels(name, make_policy, mazes):
    run, policy = EXPERIMENTS[name], make_policy(4)
    together = run(policy, [mazes[level] for level in TOGETHER])
    for level in TWINS:
        alone = run(policy, [mazes[level]])
        for a, t in zip(alone, together, strict=True):
            mine = t[t["level"] == level]
            assert len(a) and len(mine) == len(a), name
            pd.testing.assert_frame_equal(_frame(a), _frame(mine), check_dtype=False,
                                          rtol=0, atol=1e-5, obj=f"{name}, level {level}")
