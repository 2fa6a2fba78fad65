"""The explorer's field update on a 25 x 25 maze, at scale 1 (the shipped default agent)
and scale 4 (its `widen`ed published-size copy): time and ratio to the bare batched
forward of the same cells.

- cold: a newly edited maze (render every cell, the unpatched field, the cheese vector,
  the LayerCache at the vector layer, the patched field);
- update: a new cheese-vector coefficient on that maze (only the network after the
  vector layer reruns), through the engine and through the HTTP API.
Targets: update <= 150 ms at scale 1 and <= 1.5 s at scale 4 on 2 cores.
"""

from __future__ import annotations

import statistics
import time

from fastapi.testclient import TestClient

from behavstats.engine import probs
from behavstats.explore.app import create_app
from behavstats.explore.engine import Engine
from behavstats.explore.state import View
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import load_policy, widen
from behavstats.vfield import field_cells

REPEATS = 5


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


def main() -> None:
    level = full_size_level()
    for scale in (1, 4):
        measure(scale, level)


if __name__ == "__main__":
    main()
