"""Speed of the cheese-vector study on seeds 0-99 against the naive computation.

Ours: `run_cheese_vector` on levels 0-99 with the default coefficient sweep, everything
included (the decision-square sweep, random-vector control, cheese-absent fields,
transfer between all pairs, CSVs and figures), timed end to end.

Baseline, measured in the same run: the naive way of the published notebooks, a whole
vector field for every condition, one observation and one batch-1 forward pass per
cell, reading what is needed off the fields. Per usable level that is 2K + 2 fields
(original, K coefficients, K random-vector coefficients, cheese absent) and, for
transfer, one field of B per ordered pair (A, B). It is timed on a few levels and
extrapolated by the number of field cells; the decision-square sweep alone (K + 1
fields per level) is printed too.

    python benchmarks/interventions.py [--policy PATH] [--threads 1]

Uses the default policy if it exists, else a random-weight scale-1 policy. The last line
is the headline: NAME: VALUE UNIT (RATIOx vs BASELINE).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from behavstats.env import Observer
from behavstats.geometry import decision_point
from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.interventions import run_cheese_vector
from behavstats.interventions.cheese import DEFAULT_COEFFS
from behavstats.interventions.vectors import cheese_vectors
from behavstats.maze.edits import move_mouse
from behavstats.maze.levels import LevelGenerator
from behavstats.policy import DEFAULT_POLICY, Policy, load_policy, move_probs, preprocess
from behavstats.vfield import field_cells

LEVELS = range(100)
SUBSET_LEVELS, SUBSET_COEFFS = 2, (-1.0,)


def naive_field_dsq(policy, maze, vector, coeff, point, observer) -> float:
    """P(move towards the cheese) at the dsq from a whole field, cell by cell."""
    field = {}
    for cell in field_cells(maze):
        obs = observer.observe([move_mouse(maze, cell)])
        with torch.inference_mode(), policy.hooks(AddVector(VECTOR_LAYER, vector, coeff)):
            field[cell] = move_probs(policy(preprocess(obs))[0])[0]
    return float(field[point.cell][point.to_cheese])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=None, help="policy file (default: the default "
                                                       "policy if present, else random)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.policy or DEFAULT_POLICY.exists():
        policy, name = load_policy(args.policy or "default"), args.policy or "default"
    else:
        torch.manual_seed(0)
        policy = Policy(1).to(memory_format=torch.channels_last).eval()
        name = "random-weight scale-1"
    print(f"policy: {name} (scale {policy.scale}), torch threads {torch.get_num_threads()}")

    mazes = list(LevelGenerator("hard").mazes(LEVELS))  # warms procgen up for both runs
    usable = [(m, decision_point(m)) for m in mazes]
    usable = [(m, p) for m, p in usable if p is not None]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = run_cheese_vector(policy, list(LEVELS), out)
    ours = time.perf_counter() - start
    print(f"ours: {ours:.1f} s for {len(LEVELS)} levels ({len(usable)} with a decision "
          f"square), {len(DEFAULT_COEFFS)} coefficients, controls, fields, transfer, outputs")

    observer = Observer(batch=1)
    subset = usable[:SUBSET_LEVELS]
    start = time.perf_counter()
    vectors = [cheese_vectors(policy, [m], VECTOR_LAYER, observer)[0] for m, _ in subset]
    per_vector = (time.perf_counter() - start) / len(subset)
    start, cells, worst = time.perf_counter(), 0, 0.0
    for (maze, point), vector in zip(subset, vectors, strict=True):
        for coeff in SUBSET_COEFFS:
            p = naive_field_dsq(policy, maze, vector, coeff, point, observer)
            cells += len(field_cells(maze))
            row = result.decision.query("level == @maze.level and coeff == @coeff").iloc[0]
            worst = max(worst, abs(p - row["p_cheese_patched"]))
    per_cell = (time.perf_counter() - start) / cells
    k = len(DEFAULT_COEFFS)
    all_cells = sum(len(field_cells(m)) for m, _ in usable)
    transfer = len(result.transfer["level_a"].unique())
    sweep = per_cell * all_cells * (k + 1) + per_vector * len(usable)
    baseline = per_cell * all_cells * (2 * k + 2 + transfer - 1) + per_vector * len(usable)
    print(f"naive: {per_cell * 1e3:.2f} ms per cell (measured on {cells} cells; max "
          f"|difference| from ours at the dsq {worst:.1e}); {all_cells} cells per field set; "
          f"decision sweep alone ({k + 1} fields per level) {sweep:.0f} s, same quantities "
          f"as ours ({2 * k + 2} fields per level + {transfer - 1} transfer fields) "
          f"{baseline:.0f} s, extrapolated")
    print(f"cheese_vector_study_seeds_0_99: {ours:.1f} s ({baseline / ours:.1f}x vs naive "
          f"per-cell batch-1 fields for the same quantities, {baseline:.0f} s extrapolated)")


if __name__ == "__main__":
    main()
