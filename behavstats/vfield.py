"""Vector fields: the policy's move probabilities at every free cell of a maze.

For each free cell except the cheese's, the mouse is put there and the policy's
probabilities of LEFT, DOWN, NOOP, UP, RIGHT are recorded (optionally under
interventions). Observations of many mazes are rendered through procgen and
forwarded in shared batches, so the cost is close to the bare forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavstats.engine import BATCH, probs
from behavstats.env import Observer, frames
from behavstats.geometry import decision_point
from behavstats.maze import Cell, Maze
from behavstats.policy import MOVE_NAMES, Policy, net_vector

PROB_COLUMNS = tuple(f"p_{m.lower()}" for m in MOVE_NAMES)
FIELD_GROUP = 4
"""Mazes whose vector fields are rendered and forwarded together (bounds the memory of
their observations and cached activations: up to 4 x 625 cells x 32,768 floats at
scale 4)."""
MazeInterventions = Sequence | Callable[[Maze], Sequence]
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


def vector_fields(policy: Policy, mazes: Sequence[Maze], interventions: MazeInterventions = (),
                  *, observer: Observer | None = None, batch: int = BATCH) -> list[VectorField]:
    """Vector fields of many mazes. Cells of `FIELD_GROUP` mazes at a time share forward
    batches when the interventions are the same for every maze; a per-maze function
    runs maze by maze."""
    mazes, per_maze = list(mazes), callable(interventions)
    fields = []
    for group, rows, obs in field_observations(mazes, observer, 1 if per_maze else FIELD_GROUP):
        members = [mazes[i] for i in group]
        edits = interventions(members[0]) if per_maze else interventions
        computed = probs(policy, obs, edits, batch=batch)
        fields.extend(VectorField(maze, cells, p) for maze, cells, p
                      in zip(members, rows.cells, rows.split(computed), strict=True))
    return fields


def field_observations(mazes: Sequence[Maze], observer: Observer | None = None,
                       group: int = FIELD_GROUP
                       ) -> Iterator[tuple[np.ndarray, FieldRows, np.ndarray]]:
    """The observations of the vector fields of `mazes`, `group` mazes at a time: each
    group's indices into `mazes`, its `FieldRows` and its observations (`Frames`, so
    the engine computes them incrementally)."""
    observer = observer or Observer()
    for start in range(0, len(mazes), group):
        indices = np.arange(start, min(start + group, len(mazes)))
        members = [mazes[i] for i in indices]
        rows = FieldRows.of(members)
        yield indices, rows, frames(rows.pairs(members), observer)


def vector_field(policy: Policy, maze: Maze, interventions: MazeInterventions = (),
                 *, observer: Observer | None = None) -> VectorField:
    """The vector field of one maze (`vector_fields` of a list of one)."""
    return vector_fields(policy, [maze], interventions, observer=observer)[0]


def field_cells(maze: Maze) -> list[Cell]:
    """Cells of a vector field: every free cell except the cheese's."""
    return [c for c in maze.free_cells() if c != maze.cheese]


@dataclass(frozen=True)
class FieldRows:
    """The rows of the vector fields of several mazes: `cells[i]` are maze i's cells
    (default `field_cells`: every free cell but the cheese's), `owner[r]` the maze
    of row r; rows run maze by maze in cell order."""

    cells: list[list[Cell]]
    owner: np.ndarray

    @classmethod
    def of(cls, mazes: Sequence[Maze], cells: Sequence[Sequence[Cell]] | None = None
           ) -> FieldRows:
        cells = [field_cells(m) for m in mazes] if cells is None else [list(c) for c in cells]
        owner = np.repeat(np.arange(len(cells)), [len(c) for c in cells])
        return cls(cells, owner)

    def pairs(self, mazes: Sequence[Maze]) -> list[tuple[Maze, Cell]]:
        """(maze, cell) of every row, for `render`."""
        return [(maze, cell) for maze, cells in zip(mazes, self.cells, strict=True)
                for cell in cells]

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Per-row values -> one array per maze."""
        bounds = np.cumsum([len(c) for c in self.cells])[:-1]
        return np.split(values, bounds)


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
