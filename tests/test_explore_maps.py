"""The explorer's heat maps through its API: the value, integrated-gradients and
cell-patching maps of the current maze equal the `behavstats.maps` library's on the same
maze, follow maze edits, and unknown names or a maze without a decision square get a 422
with a one-line reason."""

import numpy as np
import pytest
import torch

from behavstats.engine import activations, probs
from behavstats.env import render
from behavstats.explore.engine import IG_STEPS
from behavstats.hooks import VECTOR_LAYER, Patch
from behavstats.maps.attribution import integrated_gradients
from behavstats.maps.value import value_map
from behavstats.maze.coords import maze_to_activation_cell
from behavstats.maze.edits import open_maze, remove_cheese
from behavstats.maze.levels import maze_for_level
from behavstats.policy import preprocess

pytestmark = pytest.mark.usefixtures("one_thread")
LEVEL = 3  # 5x5, cheese at (2, 2), decision square (2, 0); walls at (0, 1), (1, 1), (3, 1)
DSQ, TO_CHEESE, TO_TOP_RIGHT = (2, 0), 3, 4  # UP towards the cheese, RIGHT to the top right



def _post(client, kind: str, **request) -> dict:
    answer = client.post(f"/api/maps/{kind}", json={"view": {"level": LEVEL}, **request})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_value_map_equals_the_library(client, engine):
    body = _post(client, "value")
    expected = value_map(engine.policy, maze_for_level(LEVEL))
    assert [tuple(c) for c in body["cells"]] == expected.cells
    np.testing.assert_allclose(body["values"], expected.values, atol=1e-4)
    grid = body["grid"]  # rows top first: maze-frame y = 4 - row
    for (x, y), v in zip(expected.cells, expected.values, strict=True):
        assert grid[4 - y][x] == pytest.approx(v, abs=1e-4)
    assert grid[4 - 2][2] is None and grid[4 - 1][0] is None  # the cheese's cell, a wall
    assert (body["low"], body["high"]) == pytest.approx((expected.values.min(),
                                                         expected.values.max()))
    moved = client.post("/api/maps/value", json={"view": {"level": LEVEL, "edits": {
        "cheese": [4, 4]}}}).json()
    assert moved["grid"][4 - 2][2] is not None and moved["grid"] != grid  # follows the edit
    patched = client.post("/api/maps/value", json={"view": {"level": LEVEL, "interventions": {
        "top_right": 1.0}}}).json()
    assert patched["values"] == body["values"] and "not applied" in patched["notes"][-1]


@pytest.mark.parametrize("baseline", ["cheese_removed", "blank"])
def test_attribution_map_equals_the_library(client, engine, baseline):
    body = _post(client, "attribution", baseline=baseline, target="logit_diff")
    maze = maze_for_level(LEVEL)
    base = remove_cheese(maze) if baseline == "cheese_removed" else open_maze(maze)
    x, b = (preprocess(render([(m, DSQ)])) for m in (maze, base))
    expected = integrated_gradients(engine.policy, x, b, "logit_diff", [TO_CHEESE],
                                    [TO_TOP_RIGHT], n_steps=IG_STEPS, max_n_steps=IG_STEPS)
    pixels = expected.attributions[0].sum(0).numpy()
    np.testing.assert_allclose(body["pixels"], pixels, atol=1e-4)
    assert body["decision_square"] == list(DSQ) and body["steps"] == IG_STEPS
    assert body["completeness_gap"] == pytest.approx(float(expected.gap[0]), abs=1e-4)
    assert body["completeness_gap"] == pytest.approx(
        pixels.sum() - body["output_difference"], abs=1e-3)
    grid = np.array(body["grid"])
    assert grid.shape == (5, 5) and abs(grid).max() == pytest.approx(body["high"])
    if baseline == "cheese_removed":  # only the cheese's pixels differ from the baseline
        assert grid.sum() == pytest.approx(pixels.sum(), abs=1e-3)
        others = np.delete(grid.ravel(), (4 - 2) * 5 + 2)
        assert np.abs(others).max() < 1e-6 < abs(grid[4 - 2, 2])


def test_patching_map_restores_like_a_patch_by_hand(client, engine):
    body = _post(client, "patching", corruption="cheese_removed", target="logit_diff")
    policy, maze = engine.policy, maze_for_level(LEVEL)
    clean_obs, corrupted_obs = render([(maze, DSQ), (remove_cheese(maze), DSQ)])
    clean_acts = activations(policy, clean_obs[None], VECTOR_LAYER)[0]

    def logit_diff(p: np.ndarray) -> float:
        return float(np.log(p[0, TO_CHEESE]) - np.log(p[0, TO_TOP_RIGHT]))

    clean = logit_diff(probs(policy, clean_obs[None]))
    corrupted = logit_diff(probs(policy, corrupted_obs[None]))
    assert (body["clean"], body["corrupted"]) == pytest.approx((clean, corrupted), abs=1e-3)
    restored = np.array(body["restoration"])
    assert restored.shape == (16, 16) and body["edited"] == [2, 2]
    row, col = np.unravel_index(np.abs(restored).argmax(), restored.shape)
    mask = torch.zeros((1, 1, 16, 16), dtype=torch.bool)
    mask[0, 0, row, col] = True
    patched = logit_diff(probs(policy, corrupted_obs[None],
                               [Patch(VECTOR_LAYER, mask, clean_acts[None])]))
    assert restored[row, col] == pytest.approx((patched - corrupted) / (clean - corrupted),
                                               abs=1e-3)
    cell = maze_to_activation_cell(2, 2, maze.maze_dim, maze.world_dim, 16)
    assert body["grid"][4 - 2][2] == pytest.approx(restored[cell], abs=1e-4)


def test_every_corruption_gives_a_map_or_a_reason(client):
    for corruption in ("cheese_moved", "mouse_moved", "wall_toggled"):
        answer = client.post("/api/maps/patching", json={"view": {"level": LEVEL},
                                                         "corruption": corruption})
        assert answer.status_code in (200, 422), answer.text
        if answer.status_code == 200:
            assert np.isfinite(np.array(answer.json()["restoration"])).all()
        else:
            assert "twin" in answer.json()["detail"] or "floor" in answer.json()["detail"]


BAD = {
    "unknown baseline": ("attribution", {"baseline": "black"}, "unknown baseline 'black'"),
    "unknown target": ("attribution", {"target": "value"}, "unknown target 'value'"),
    "unknown corruption": ("patching", {"corruption": "noise"}, "unknown corruption 'noise'"),
    "unknown patch layer": ("patching", {"layer": "fc_value"}, "unknown layer"),
    "no decision square (IG)": ("attribution", {"view": {"level": LEVEL, "edits": {
        "remove_cheese": True}}}, "decision square"),
    "no decision square (patching)": ("patching", {"view": {"level": LEVEL, "edits": {
        "cheese": [4, 3]}}}, "decision square"),
    "refused maze": ("value", {"view": {"level": LEVEL, "edits": {"mouse": [1, 1]}}}, "wall"),
}


@pytest.mark.parametrize("kind, request_, words", BAD.values(), ids=BAD)
def test_bad_map_requests_are_refused_in_one_line(client, kind, request_, words):
    answer = client.post(f"/api/maps/{kind}", json={"view": {"level": LEVEL}, **request_})
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail
