"""Incremental forward passes equal plain ones: on every cell of 50 real mazes of each
size band at scale 1 (a few cells of each at scale 4), without edits and with edits
at early, late and in-stage layers; and episodes and vector fields do not change."""

import numpy as np
import pandas as pd
import pytest
import torch

from behavstats import incremental
from behavstats.engine import BATCH, probs
from behavstats.env import frames
from behavstats.evaluation import SIZE_BANDS
from behavstats.hooks import VECTOR_LAYER, Ablate, AddVector, SetCell
from behavstats.incremental import Frames
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import Policy, inference, preprocess
from behavstats.rollout import RolloutConfig, run_episodes
from behavstats.vfield import FieldRows, vector_fields

pytestmark = pytest.mark.usefixtures("one_thread")
PER_BAND = 50
EARLY, LATE, INSIDE = "embedder.block1.maxpool", "embedder.block3.res2", \
    "embedder.block2.res1.conv1"


@pytest.fixture(autouse=True)
def incremental_at_every_scale(monkeypatch):
    """The engine runs scale-1 policies plain (`incremental.MIN_SCALE`); these tests
    check the incremental path itself, so they take it at every scale."""
    monkeypatch.setattr(incremental, "MIN_SCALE", 1)


def test_only_wide_networks_take_the_incremental_path(observer, monkeypatch):
    """With the default threshold a scale-1 pass stays plain (no base activations are
    stored) and a scale-2 pass is incremental."""
    monkeypatch.undo()
    maze = next(iter(LevelGenerator("hard", batch=4).mazes([5])))
    views = frames([(maze, cell) for cell in maze.free_cells()[:8]], observer)
    for scale, used in ((1, False), (2, True)):
        policy = Policy(scale).to(memory_format=torch.channels_last).eval()
        probs(policy, views)
        assert (policy in incremental._STORES) == used


def test_base_activations_go_with_their_policy(observer):
    """A policy's stored base activations are freed with it: a worker that rebuilds the
    policy for every shard of episodes must not keep one store per shard (it did, when
    the stage plan was cached with the policy as key, and swapped at 12 GB)."""
    import gc
    import weakref

    maze = next(iter(LevelGenerator("hard", batch=4).mazes([5])))
    views = frames([(maze, cell) for cell in maze.free_cells()[:8]], observer)
    policy = Policy(1).to(memory_format=torch.channels_last).eval()
    probs(policy, views)
    store = weakref.ref(incremental._STORES[policy])
    del policy
    gc.collect()
    assert store() is None


def test_a_small_store_evicts_and_grows_exactly(mazes, observer, monkeypatch):
    """With room for two bases the store grows for a batch of 21 mazes (more bases
    than it holds, one of them stored before and kept through the growth), then gives
    least recently used slots to new mazes; every probability equals the plain pass."""
    monkeypatch.setattr(incremental, "STORE_BYTES", 1)
    policy = Policy(1).to(memory_format=torch.channels_last).eval()
    views = field_frames(mazes[:40], observer, 2)
    expected = probs(policy, views.obs)
    np.testing.assert_allclose(probs(policy, views.take(np.arange(2))), expected[:2],
                               atol=1e-5)  # one maze: a store of 2 slots
    np.testing.assert_allclose(probs(policy, views.take(np.arange(42)), batch=42),
                               expected[:42], atol=1e-5)  # 21 mazes
    np.testing.assert_allclose(probs(policy, views.take(np.arange(42, 80)), batch=8),
                               expected[42:], atol=1e-5)  # evictions
    store = incremental._STORES[policy]
    assert len(store.tensors[0]) == 21 and len(store.slots) + len(store.free) == 21
    # two bases of one picture in a batch (two episodes of one level) share a slot
    twice = Frames(views.obs[[0, 1, 0, 1]], views.bases[[0, 0]], np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(probs(policy, twice), expected[[0, 1, 0, 1]], atol=1e-5)
    assert len(store.slots) + len(store.free) == 21


@pytest.mark.parametrize("scale", [1, 4])
def test_a_clamped_cell_resumes_on_windows_exactly(mazes, observer, scale):
    """A `LayerCache` whose rows each get a clamp at their own activation cell (as
    retargeting does) reruns only the windows after the layer, against each row's own
    unedited activations: the same probabilities as the dense continuation. A vector
    added everywhere takes the dense path (no row bases are computed)."""
    from behavstats.engine import LayerCache

    torch.manual_seed(5)
    policy = Policy(scale).to(memory_format=torch.channels_last).eval()
    views = field_frames(mazes[::10], observer, None if scale == 1 else 2)
    cache = LayerCache(policy, views, VECTOR_LAYER)
    gen = torch.Generator().manual_seed(2)
    rows, cols = (torch.randint(0, 16, (len(views),), generator=gen) for _ in range(2))

    def clamp(idx):
        idx = torch.as_tensor(idx)
        return [SetCell(VECTOR_LAYER, [1, 5, 9], rows[idx], cols[idx], 4.0)]

    index = np.arange(len(views))[::-1].copy()
    vector = [AddVector(VECTOR_LAYER, torch.randn(32 * scale, 16, 16, generator=gen), 1.0)]
    got = cache.probs(vector)
    assert cache.row_bases._points is None
    got_clamped = cache.probs(lambda r: clamp(index[r]), index=index)
    assert cache.row_bases._points is not None and cache.row_bases.stages
    cache.row_bases = None
    np.testing.assert_allclose(got, cache.probs(vector), atol=1e-5)
    np.testing.assert_allclose(got_clamped, cache.probs(lambda r: clamp(index[r]), index=index),
                               atol=1e-5)


@pytest.fixture(scope="module")
def mazes():
    """The first `PER_BAND` mazes of each size band among levels 0..."""
    chosen = {band: [] for band in SIZE_BANDS}
    for maze in LevelGenerator("hard", batch=64).mazes(range(600)):
        band = next(b for b, (lo, hi) in SIZE_BANDS.items() if lo <= maze.maze_dim <= hi)
        if len(chosen[band]) < PER_BAND:
            chosen[band].append(maze)
    assert all(len(v) == PER_BAND for v in chosen.values())
    return [m for band in chosen.values() for m in band]


HANDOFFS = {2: EARLY, 6: "embedder.block2.maxpool", 7: "embedder.block2.res1"}
"""Stage limits of the edits below (edits at block1.maxpool's output, inside
block2.res1, at its output) -> the last stage run incrementally."""


def conditions(scale: int) -> dict[str, list]:
    gen = torch.Generator().manual_seed(1)
    early = torch.randn(16 * scale, 32, 32, generator=gen)
    late = torch.randn(32 * scale, 8, 8, generator=gen)
    return {"none": [], "early vector": [AddVector(EARLY, early, 0.5)],
            "late vector": [AddVector(LATE, late, 0.5)],
            "clamped cell": [SetCell(VECTOR_LAYER, [1, 2], 3, 4, 5.0)],
            "ablation": [Ablate(INSIDE, [0, 3, 5])]}


def field_frames(mazes, observer, cells_per_maze=None) -> Frames:
    rows = FieldRows.of(mazes)
    pairs = rows.pairs(mazes)
    if cells_per_maze is not None:  # the first and last cells, near opposite borders
        keep = np.concatenate([np.flatnonzero(rows.owner == i)[[0, -1]] for i in
                               range(len(mazes))])
        pairs = [pairs[k] for k in keep]
    return frames(pairs, observer, reflected=[bool(k % 2) for k in range(len(pairs))])


def assert_handoffs_exact(policy: Policy, views: Frames, limits: dict[int, str]) -> None:
    """At each stage where an edit would take over, the incremental rows equal the
    plain pass (everything after is the same code from the same activations)."""
    with inference(policy):
        for begin in range(0, len(views), BATCH):
            rows = np.arange(begin, min(begin + BATCH, len(views)))
            x, done, plain = preprocess(views.obs[rows]), None, {}
            for name in limits.values():
                x = plain[name] = policy.forward_from(done, x, name)
                done = name
            for limit, name in limits.items():
                stage, acts = incremental.advance(policy, views.take(rows), limit)
                assert stage == name
                torch.testing.assert_close(acts, plain[name], rtol=0, atol=1e-5)


@pytest.mark.parametrize("scale", [1, 4])
def test_incremental_equals_plain_on_real_mazes(mazes, observer, scale):
    """Scale 1: every cell of the 150 mazes where the windows end (block2.res1), and
    the probabilities under every edit on every cell of 6 of them. Scale 4: 2 cells
    (first and last) of each maze at every hand-off stage, and the probabilities
    under every edit on every 5th of those cells."""
    torch.manual_seed(3)
    policy = Policy(scale).to(memory_format=torch.channels_last).eval()
    views = field_frames(mazes, observer, None if scale == 1 else 2)
    assert_handoffs_exact(policy, views, {7: HANDOFFS[7]} if scale == 1 else HANDOFFS)
    views = (field_frames(mazes[::PER_BAND // 2], observer) if scale == 1
             else views.take(np.arange(0, len(views), 5)))
    for name, edit in conditions(scale).items():
        np.testing.assert_allclose(probs(policy, views, edit), probs(policy, views.obs, edit),
                                   atol=1e-5, err_msg=name)


def test_windows_reach_most_stages_and_any_base_is_exact(mazes, observer, make_policy):
    """The 32x32 stages and the first 16x16 ones run on windows; rows whose base is
    another maze's (changes everywhere) run dense, still exact."""
    policy = make_policy(2).to(memory_format=torch.channels_last)
    views = field_frames(mazes[100:104], observer)
    with inference(policy):
        stage, acts = incremental.advance(policy, views.take(np.arange(64)), 99)
    assert stage == policy.stage_of(VECTOR_LAYER)
    wrong = Frames(views.obs, views.bases[::-1].copy(), views.owner)
    mixed = Frames(views.obs, views.bases, np.where(np.arange(len(views)) % 3, views.owner,
                                                    (views.owner + 1) % 4))
    expected = probs(policy, views.obs)
    for odd in (wrong, mixed):
        np.testing.assert_allclose(probs(policy, odd), expected, atol=1e-5)


def test_episodes_and_fields_unchanged(mazes, observer, make_policy, monkeypatch):
    policy = make_policy(5).to(memory_format=torch.channels_last)
    some = mazes[::15]
    config = RolloutConfig(seed=4, parallel_episodes=8, record_path=True)
    episodes = run_episodes(policy, some, config)
    fields = vector_fields(policy, some[:4], [AddVector(LATE, torch.ones(32, 8, 8))],
                           observer=observer)
    monkeypatch.setattr(incremental, "_plan", lambda _policy: ())  # plain passes only
    pd.testing.assert_frame_equal(episodes, run_episodes(policy, some, config))
    plain = vector_fields(policy, some[:4], [AddVector(LATE, torch.ones(32, 8, 8))],
                          observer=observer)
    for a, b in zip(fields, plain, strict=True):
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)
