"""What the cheese- and top-right-vector experiments share: the usable levels at their
decision squares (dsq), and the tables built there from per-level vectors (a
coefficient sweep, transfer between levels, and one row per level given)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from behavstats.env import Observer
from behavstats.geometry import DecisionPoint, decision_point
from behavstats.interventions.forward import DecisionSquares, NoUsableLevelsError, as_mazes
from behavstats.maze import Maze
from behavstats.maze.model import level_id
from behavstats.policy import Policy

DECISION_COLUMNS = ("level", "coeff", "p_cheese_original", "p_cheese_patched",
                    "p_topright_original", "p_topright_patched")
TARGETS = ("p_cheese", "p_topright")


@dataclass
class VectorLevels:
    """The levels given (`mazes`, their dsq `points`, None without one), the indices
    `chosen` of those the experiment uses, and their `DecisionSquares`."""

    mazes: list[Maze]
    points: list[DecisionPoint | None]
    chosen: list[int]
    dsq: DecisionSquares
    observer: Observer

    @classmethod
    def of(cls, policy: Policy, levels: Sequence[int] | Sequence[Maze], *, mode: str,
           layer: str, batch: int, usable: Callable[[Maze], bool], refusal: str
           ) -> VectorLevels:
        """The levels with a dsq that are `usable`; NoUsableLevelsError(refusal) if none."""
        mazes = as_mazes(levels, mode)
        points = [decision_point(m) for m in mazes]
        chosen = [i for i, (m, p) in enumerate(zip(mazes, points, strict=True))
                  if p is not None and usable(m)]
        if not chosen:
            raise NoUsableLevelsError(refusal)
        observer = Observer(batch=batch)
        dsq = DecisionSquares.of(policy, mazes, points, chosen, layer, observer, batch=batch)
        return cls(mazes, points, chosen, dsq, observer)

    def _at_dsq(self, owner: np.ndarray, probs: np.ndarray, suffix: str) -> dict:
        """P(towards the cheese / top-right) of each row (its level `owner`), unedited and
        as in `probs` (columns <target>_original, <target>_<suffix>)."""
        d, rows = self.dsq, np.arange(len(owner))
        columns = {}
        for target, moves in zip(TARGETS, (d.to_cheese, d.to_top_right), strict=True):
            columns[f"{target}_original"] = d.original[owner, moves[owner]]
            columns[f"{target}_{suffix}"] = probs[rows, moves[owner]]
        return columns

    def sweep(self, vectors: torch.Tensor, coeffs: np.ndarray, suffix: str = "patched"
              ) -> pd.DataFrame:
        """Each level with coeff x its own vector: level, coeff, and for p_cheese and
        p_topright at the dsq the original and <suffix> columns."""
        owner, cf, probs = self.dsq.sweep(vectors, coeffs)
        return pd.DataFrame({"level": np.array(self.dsq.ids)[owner], "coeff": cf,
                             **self._at_dsq(owner, probs, suffix)})

    def transfer(self, vectors: torch.Tensor, coeff: float, limit: int | None
                 ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Level a's vector x coeff at level b's dsq, every ordered pair among the first
        `limit` levels: the table (level_a, level_b, p_*_original, p_*_patched) and the
        pairs' indices (a, b) into the used levels."""
        a, b, probs = self.dsq.transfer(vectors, coeff, limit)
        ids = np.array(self.dsq.ids, dtype=int)
        return pd.DataFrame({"level_a": ids[a], "level_b": ids[b],
                             **self._at_dsq(b, probs, "patched")}), a, b

    def levels_table(self, vectors: torch.Tensor, **extra: Sequence) -> pd.DataFrame:
        """One row per level given: level, maze_dim, has_dsq, used, cheese_x, cheese_y,
        dsq_x, dsq_y, vector_norm (L2 norm of its vector; NaN if unused), then `extra`
        columns (one value per level)."""
        norms = dict(zip(self.chosen, vectors.flatten(1).norm(dim=1).tolist(), strict=True))
        rows = [{"level": level_id(m, i), "maze_dim": m.maze_dim, "has_dsq": p is not None,
                 "used": i in norms,
                 "cheese_x": m.cheese[0] if m.cheese else np.nan,
                 "cheese_y": m.cheese[1] if m.cheese else np.nan,
                 "dsq_x": p.cell[0] if p else np.nan, "dsq_y": p.cell[1] if p else np.nan,
                 "vector_norm": norms.get(i, np.nan)}
                for i, (m, p) in enumerate(zip(self.mazes, self.points, strict=True))]
        return pd.DataFrame(rows).assign(**{k: list(v) for k, v in extra.items()})
