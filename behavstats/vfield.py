"""Vector fields: the policy's move probabilities at every free cell of a maze.

For each free cell except the cheese's, the mouse is put there and the policy's
probabilities of LEFT, DOWN, NOOP, UP, RIGHT are recorded (optionally under
interventions). Observations of many mazes are rendered through procgen and
forwarded in shared batches, so the cost is close to the bare forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavstats.env import Observer
from behavstats.geometry import decision_point
from behavstats.maze import Cell, Maze, MouseStates
from behavstats.policy import MOVE_NAMES, Policy, inference, move_probs, net_vector, preprocess

PROB_COLUMNS = tuple(f"p_{m.lower()}" for m in MOVE_NAMES)
Interventions = Sequence | Callable[[Maze], Sequence]
"""The same interventions for every maze, or a function maze -> interventions."""


@dataclass(frozen=True)
class VectorField:
    """Move probabilities `probs` (N, 5), columns `MOVE_NAMES`, at `cells` of `maze`."""

    maze: Maze
    cells: list[Cell]
    probs: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Columns x, y, p_left, p_down, p_noop, p_up, p_right; one row per cell."""
        frame = pd.DataFrame(self.probs, columns=list(PROB_COLUMNS))
        frame.insert(0, "y", [c[1] for c in self.cells])
        frame.insert(0, "x", [c[0] for c in self.cells])
        return frame

    def at(self, cell: Cell) -> np.ndarray:
        """The five move probabilities at one cell."""
        return self.probs[self.cells.index(tuple(cell))]

    def net_vectors(self) -> np.ndarray:
        """(N, 2) net probability vectors (p_right - p_left, p_up - p_down)."""
        return net_vector(self.probs)

    def __sub__(self, other: VectorField) -> VectorField:
        """Cell-wise difference of the probabilities (same maze cells required)."""
        if self.cells != other.cells:
            raise ValueError("vector fields cover different cells; compare fields of the "
                             "same maze")
        return VectorField(self.maze, self.cells, self.probs - other.probs)


def vector_fields(policy: Policy, mazes: Sequence[Maze], interventions: Interventions = (),
                  *, observer: Observer | None = None, batch: int = 64) -> list[VectorField]:
    """Vector fields of many mazes. Cells of all mazes share forward batches when the
    interventions are the same for every maze; a per-maze function runs maze by maze."""
    observer = observer or Observer()
    if callable(interventions):
        return [_fields(policy, [m], interventions(m), observer, batch)[0] for m in mazes]
    return _fields(policy, list(mazes), interventions, observer, batch)


def vector_field(policy: Policy, maze: Maze, interventions: Interventions = (),
                 *, observer: Observer | None = None) -> VectorField:
    return vector_fields(policy, [maze], interventions, observer=observer)[0]


def field_cells(maze: Maze) -> list[Cell]:
    """Cells of a vector field: every free cell except the cheese's."""
    return [c for c in maze.free_cells() if c != maze.cheese]


def _fields(policy: Policy, mazes: list[Maze], interventions: Sequence, observer: Observer,
            batch: int) -> list[VectorField]:
    cells = [field_cells(m) for m in mazes]
    states = [MouseStates(m) for m in mazes]
    jobs = [(i, c) for i, maze_cells in enumerate(cells) for c in maze_cells]
    probs = np.empty((len(jobs), len(MOVE_NAMES)), dtype=np.float32)
    with inference(policy), policy.hooks(*interventions):
        for start in range(0, len(jobs), batch):
            chunk = jobs[start : start + batch]
            obs = observer.observe_states([states[i].at(c) for i, c in chunk],
                                          [mazes[i].mode for i, _ in chunk])
            probs[start : start + len(chunk)] = move_probs(policy(preprocess(obs))[0]).numpy()
    out, offset = [], 0
    for maze, maze_cells in zip(mazes, cells, strict=True):
        out.append(VectorField(maze, maze_cells, probs[offset : offset + len(maze_cells)]))
        offset += len(maze_cells)
    return out


def decision_probs(field: VectorField, reference: Maze | None = None) -> dict[str, float] | None:
    """At the decision square: probability of the first step towards the cheese
    (p_cheese), towards the top-right cell (p_topright) and of anything else
    (p_other); None without a decision square. The decision square and the targets
    come from `reference` (default the field's maze), e.g. the original maze when the
    field is of a maze whose cheese was removed."""
    point = decision_point(field.maze if reference is None else reference)
    if point is None:
        return None
    p = field.at(point.cell).tolist()
    to_cheese, to_top_right = p[point.to_cheese], p[point.to_top_right]
    return {"p_cheese": to_cheese, "p_topright": to_top_right,
            "p_other": 1.0 - to_cheese - to_top_right}
