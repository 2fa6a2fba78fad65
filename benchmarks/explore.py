"""The explorer's field update on a 25 x 25 maze, at scale 1 (the shipped default agent)
and scale 4 (its `widen`ed published-size copy): time and ratio to the bare batched
forward of the same cells.

- cold: a newly edited maze (render every cell, the unpatched field, the cheese vector,
  the LayerCache at the vector layer, the patched field);
- update: a new cheese-vector coefficient on that maze (only the network after the
  vector layer reruns), through the engine and through the HTTP API.
Targets: update <= 150 ms at scale 1 and <= 1.5 s at scale 4 on 2 cores.

The heat maps of the current maze (`/api/maps/...`), at scale 1 on a 25 x 25 maze with a
decision square, through the HTTP API, against the same run's bare batched forward:
value map (a new maze, and again on the cached maze), integrated gradients at the
explorer's 32 steps (both baselines), cell patching (each corruption).
Latency budget at scale 1 on 2 cores: value map <= 150 ms on the maze the page has just
fielded (cached: the page asks for the field first), integrated gradients <= 1 s, patching
map <= 1 s. A new maze's value map costs about what a cold field update does (rendering
every cell): printed, no budget of its own.
"""

from __future__ import annotations

import statistics
import time

from fastapi.testclient import TestClient

from behavstats.engine import probs
from behavstats.experiments import CORRUPTIONS
from behavstats.explore.app import create_app
from behavstats.explore.engine import Engine
from behavstats.explore.state import View
from behavstats.geometry import decision_square
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import load_policy, widen
from behavstats.vfield import field_cells

REPEATS = 5
BUDGET_MS = {"value (cached maze)": 150, "value (new maze)": None, "attribution": 1000,
             "patching": 1000}


def full_size_level() -> int:
    return next(m.level for m in LevelGenerator("hard").mazes(range(500)) if m.maze_dim == 25)


def seconds(run) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def measure(scale: int, level: int) -> None:
    policy = load_policy("default")
    policy = policy if scale == 1 else widen(policy, scale)
    engine = Engine(policy)
    client = TestClient(create_app(engine))

    def view(coeff: float) -> dict:
        return {"level": level, "interventions": {"cheese_vector": {"coeff": coeff}}}

    maze = engine.maze(View(level=level))
    cells = field_cells(maze)
    obs = engine._entry(maze).obs
    engine._entries.clear()
    probs(policy, obs)  # warm up
    bare = statistics.median(seconds(lambda: probs(policy, obs)) for _ in range(REPEATS))
    cold = seconds(lambda: engine.field(View.model_validate(view(-1.0))))
    coeffs = [-0.5 - 0.1 * i for i in range(REPEATS)]
    update = statistics.median(seconds(lambda c=c: engine.field(View.model_validate(view(c))))
                               for c in coeffs)
    http = statistics.median(seconds(lambda c=c: client.post("/api/field", json=view(c)))
                             for c in coeffs)
    print(f"scale {scale}: level {level}, {len(cells)} cells")
    print(f"  bare batched forward  {1000 * bare:7.0f} ms")
    print(f"  cold (new maze)       {1000 * cold:7.0f} ms  {cold / bare:5.2f}x bare")
    print(f"  update (engine)       {1000 * update:7.0f} ms  {update / bare:5.2f}x bare")
    print(f"  update (HTTP + JSON)  {1000 * http:7.0f} ms  {http / bare:5.2f}x bare")


def full_size_level_with_dsq() -> int:
    return next(m.level for m in LevelGenerator("hard").mazes(range(500))
                if m.maze_dim == 25 and decision_square(m) is not None)


def measure_maps(level: int) -> None:
    """The map endpoints at scale 1 (module docstring), median of REPEATS requests."""
    policy = load_policy("default")
    engine = Engine(policy)
    client = TestClient(create_app(engine))
    obs = engine._entry(engine.maze(View(level=level))).obs
    probs(policy, obs)  # warm up
    bare = statistics.median(seconds(lambda: probs(policy, obs)) for _ in range(REPEATS))

    def post(kind: str, mouse=None, **extra) -> None:
        edits = {} if mouse is None else {"mouse": mouse}
        answer = client.post(f"/api/maps/{kind}", json={
            "view": {"level": level, "edits": edits}, **extra})
        assert answer.status_code == 200, answer.text

    free = engine._entry(engine.maze(View(level=level))).original.cells
    news = []
    for k in range(REPEATS):  # a new maze each time: the mouse moves, the cache is cleared
        engine._entries.clear()
        news.append(seconds(lambda k=k: post("value", mouse=list(free[k]))))
    rows = {"value (new maze)": statistics.median(news),
            "value (cached maze)": statistics.median(seconds(lambda: post("value"))
                                                     for _ in range(REPEATS))}
    for baseline in ("cheese_removed", "blank"):
        rows[f"attribution {baseline}"] = statistics.median(
            seconds(lambda b=baseline: post("attribution", baseline=b)) for _ in range(REPEATS))
    for corruption in CORRUPTIONS:
        rows[f"patching {corruption}"] = statistics.median(
            seconds(lambda c=corruption: post("patching", corruption=c))
            for _ in range(REPEATS))
    print(f"maps, scale 1: level {level}, {len(free)} cells; bare batched forward "
          f"{1000 * bare:.0f} ms")
    for name, took in rows.items():
        budget = next(v for k, v in BUDGET_MS.items() if name.startswith(k))
        verdict = "" if budget is None else \
            f"  (budget {budget} ms{'' if 1000 * took <= budget else ', OVER'})"
        print(f"  {name:<28} {1000 * took:7.0f} ms  {took / bare:5.2f}x bare{verdict}")


def main() -> None:
    level = full_size_level()
    for scale in (1, 4):
        measure(scale, level)
    measure_maps(full_size_level_with_dsq())


if __name__ == "__main__":
    main()
