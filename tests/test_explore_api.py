"""The explorer's API through FastAPI's TestClient: fields equal the library's, caches
are reused, and every kind of bad request gets a 4xx with a message."""

import numpy as np
import pytest

from behavstats.explore.app import MAX_BODY
from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.interventions.vectors import cheese_vectors
from behavstats.levelspec import MAX_SEED
from behavstats.maze.levels import maze_for_level
from behavstats.vfield import decision_probs, vector_field

pytestmark = pytest.mark.usefixtures("one_thread")
LEVEL = 3  # 5x5, cheese at (2, 2), decision square (2, 0); walls at (0, 1), (1, 1), (3, 1)
MINUS_CHEESE = {"level": LEVEL, "interventions": {"cheese_vector": {"coeff": -1.0}}}



def test_info_lists_the_spatial_layers(client):
    info = client.get("/api/info").json()
    names = [layer["name"] for layer in info["layers"]]
    assert info["vector_layer"] == VECTOR_LAYER in names
    assert names[0] == "embedder.block1.conv" and names[-1] == "embedder.relu3"
    assert {"name": VECTOR_LAYER, "channels": 32, "size": 16} in info["layers"]


def test_field_and_cheese_vector_equal_the_library(client, engine):
    answer = client.post("/api/field", json=MINUS_CHEESE)
    assert answer.status_code == 200
    body = answer.json()
    maze = maze_for_level(LEVEL)
    original = vector_field(engine.policy, maze)
    vector = cheese_vectors(engine.policy, [maze])[0]
    patched = vector_field(engine.policy, maze, [AddVector(VECTOR_LAYER, vector, -1.0)])
    assert [tuple(c) for c in body["cells"]] == original.cells
    np.testing.assert_allclose(body["original"], original.probs, atol=1e-4)
    np.testing.assert_allclose(body["patched"], patched.probs, atol=1e-4)
    assert body["maze"]["decision_square"] == [2, 0]
    assert body["maze"]["path_to_cheese"][-1] == [2, 2]
    assert body["maze"]["path_to_top_right"][-1] == [4, 4]
    assert body["decision_patched"]["p_cheese"] == pytest.approx(
        decision_probs(patched)["p_cheese"], abs=1e-4)
    assert body["decision_patched"]["p_cheese"] < body["decision_original"]["p_cheese"]


def test_python_snippet_computes_the_same_field(client):
    view = {"level": LEVEL, "edits": {"walls": [[1, 1]], "mouse": [4, 0], "cheese": [0, 2]},
            "interventions": {"cheese_vector": {"coeff": -2.0, "level": 6}, "top_right": 0.5,
                              "clamp": {"channel": 3, "value": 4.0, "cell": [0, 2]},
                              "ablate": {"channels": [1, 2], "mean": True}}}
    field = client.post("/api/field", json=view).json()
    code = client.post("/api/python", json=view).json()["code"]
    scope: dict = {}
    exec(code, scope)  # noqa: S102 (our own generated code)
    np.testing.assert_allclose(field["patched"], scope["patched"].probs, atol=1e-4)
    np.testing.assert_allclose(field["original"], scope["original"].probs, atol=1e-4)


def test_a_new_coefficient_reuses_the_maze_cache(client, engine):
    client.post("/api/field", json=MINUS_CHEESE)
    entry = engine._entries[next(reversed(engine._entries))]
    cache = entry.layer_cache
    view = {"level": LEVEL, "edits": {"mouse": [4, 0]},
            "interventions": {"cheese_vector": {"coeff": -0.5}}}
    again = client.post("/api/field", json=view).json()
    assert entry.layer_cache is cache  # same maze (the mouse does not change the field)
    assert again["decision_patched"] != client.post("/api/field", json=MINUS_CHEESE).json()[
        "decision_patched"]


def test_activations_and_ranked_channels(client):
    request = {"view": MINUS_CHEESE, "layer": VECTOR_LAYER, "channel": 5}
    body = client.post("/api/activations", json=request).json()
    assert np.shape(body["original"]) == np.shape(body["patched"]) == (16, 16)
    assert not np.allclose(body["original"], body["patched"])
    assert len(body["ranked"]) == 12 and body["ranked"][0]["score"] >= body["ranked"][-1]["score"]
    earlier = client.post("/api/activations", json={**request, "layer": "embedder.block1.conv"})
    assert earlier.json()["patched"] == earlier.json()["original"]  # before the edited layer


def test_episodes_are_seeded_and_start_at_the_mouse(client):
    request = {"view": {**MINUS_CHEESE, "edits": {"mouse": [4, 0]}}, "seed": 3, "max_steps": 40}
    first = client.post("/api/episode", json=request).json()
    assert first == client.post("/api/episode", json=request).json()
    assert first["original"]["path"][0] == [4, 0] == first["patched"]["path"][0]
    assert first["original"]["steps"] <= 40
    plain = client.post("/api/episode", json={**request, "view": {"level": LEVEL}}).json()
    assert plain["patched"] is None


def _field(**view):
    return {"level": LEVEL, **view}


BAD_REQUESTS = {
    "negative level": ("/api/field", {"level": -1}),
    "level past procgen's seeds": ("/api/field", {"level": MAX_SEED + 1}),
    "unknown mode": ("/api/field", {"level": 0, "mode": "medium"}),
    "unknown field": ("/api/field", _field(colour="red")),
    "cell off the world": ("/api/field", _field(edits={"cheese": [30, 1]})),
    "cell outside this maze": ("/api/field", _field(edits={"cheese": [20, 20]})),
    "cell not a pair": ("/api/field", _field(edits={"mouse": [1]})),
    "cheese on a wall": ("/api/field", _field(edits={"cheese": [0, 1]})),
    "mouse on a wall": ("/api/field", _field(edits={"mouse": [1, 1]})),
    "cheese unreachable": ("/api/field", _field(edits={"walls": [[2, 1]]})),
    "wall on the start": ("/api/field", _field(edits={"walls": [[0, 0]]})),
    "wall toggled twice": ("/api/field", _field(edits={"walls": [[2, 3], [2, 3]]})),
    "wall on the cheese": ("/api/field", _field(edits={"walls": [[2, 2]]})),
    "too many walls": ("/api/field", _field(edits={"walls": [[0, 0]] * 201})),
    "cheese on the mouse": ("/api/field", _field(edits={"cheese": [0, 0]})),
    "infinite coefficient": ("/api/field", _field(interventions={"top_right": "Infinity"})),
    "NaN coefficient": ("/api/field", _field(interventions={"cheese_vector": {"coeff": "NaN"}})),
    "huge coefficient": ("/api/field", _field(interventions={"top_right": 1e6})),
    "unknown layer": ("/api/field", _field(interventions={"layer": "embedder.fc",
                                                          "top_right": 1})),
    "channel past the layer": ("/api/field", _field(interventions={
        "clamp": {"channel": 32, "value": 1, "cell": [0, 0]}})),
    "clamp outside the maze": ("/api/field", _field(interventions={
        "clamp": {"channel": 1, "value": 1, "cell": [9, 9]}})),
    "empty ablation": ("/api/field", _field(interventions={"ablate": {"channels": []}})),
    "cheese vector without cheese": ("/api/field", _field(
        edits={"remove_cheese": True}, interventions={"cheese_vector": {"coeff": 1}})),
    "activation channel past the layer": ("/api/activations", {"layer": VECTOR_LAYER,
                                                               "channel": 99}),
    "activation layer unknown": ("/api/activations", {"layer": "fc_value", "channel": 0}),
    "episode without steps": ("/api/episode", {"max_steps": 0}),
    "episode too long": ("/api/episode", {"max_steps": 10_000}),
    "negative seed": ("/api/episode", {"seed": -1}),
    "snippet of a refused view": ("/api/python", _field(edits={"mouse": [1, 1]})),
}


@pytest.mark.parametrize("path, body", BAD_REQUESTS.values(), ids=BAD_REQUESTS)
def test_bad_requests_are_refused_with_a_reason(client, path, body):
    answer = client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]


def test_malformed_and_oversized_bodies(client):
    assert client.post("/api/field", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422
    big = b'{"level": 0, "x": "' + b"a" * MAX_BODY + b'"}'
    answer = client.post("/api/field", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "bytes" in answer.json()["detail"]
    assert client.get("/api/nothing").status_code == 404


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "explore.js" in page.text
    assert client.get("/static/explore.js").status_code == 200
    assert "http" not in client.get("/static/explore.js").text  # nothing from a CDN


def test_behavstats_explore_serves_on_loopback_and_stops(make_policy, capsys):
    import httpx

    import behavstats

    server = behavstats.explore(make_policy(1), port=0)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.url in capsys.readouterr().out
        assert httpx.get(f"{server.url}api/info", timeout=10).json()["scale"] == 1
    finally:
        server.stop()
    assert not server._thread.is_alive()
