"""Activation-difference vectors: the cheese vector, the top-right vector, and the
random control.

Both published vectors are differences of one layer's activations between two
versions of a maze, each observed with the mouse at the start (the maze's
bottom-left cell):

- cheese vector = activations(maze) - activations(maze without cheese);
- top-right vector = activations(maze with a corridor from its top-right cell to the
  world's top-right, `carve_top_right_corridor`) - activations(maze). A maze that fills
  the world (25 x 25 in hard mode) gets no corridor, so its top-right vector is zero:
  `corridor_is_empty` flags such mazes and the experiments skip them.

A vector is applied as `activation + coeff * vector` at every forward pass
(`behavstats.hooks.AddVector`); coeff = -1 is the published subtraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from behavstats.engine import activations
from behavstats.env import Observer, render
from behavstats.hooks import VECTOR_LAYER
from behavstats.maze import Maze
from behavstats.maze.edits import carve_top_right_corridor, move_mouse, remove_cheese
from behavstats.policy import Policy


def start_activations(policy: Policy, mazes: Sequence[Maze], layer: str = VECTOR_LAYER,
                      observer: Observer | None = None) -> torch.Tensor:
    """Activations (N, C, H, W) of `layer` with the mouse at each maze's start."""
    starts = [move_mouse(m, m.start) for m in mazes]
    return activations(policy, render([(m, m.mouse) for m in starts], observer), layer)


def cheese_vectors(policy: Policy, mazes: Sequence[Maze], layer: str = VECTOR_LAYER,
                   observer: Observer | None = None) -> torch.Tensor:
    """One cheese vector per maze (N, C, H, W): with minus without cheese."""
    both = start_activations(policy, [*mazes, *map(remove_cheese, mazes)], layer, observer)
    return both[: len(mazes)] - both[len(mazes) :]


def corridor_is_empty(maze: Maze) -> bool:
    """Whether `carve_top_right_corridor` opens no cell (the maze fills the world)."""
    return bool((carve_top_right_corridor(maze).free == maze.free).all())


def top_right_vectors(policy: Policy, mazes: Sequence[Maze], layer: str = VECTOR_LAYER,
                      observer: Observer | None = None) -> torch.Tensor:
    """One top-right vector per maze (N, C, H, W): with minus without the corridor
    (zero for mazes whose corridor is empty)."""
    carved = [carve_top_right_corridor(m) for m in mazes]
    both = start_activations(policy, [*carved, *mazes], layer, observer)
    return both[: len(mazes)] - both[len(mazes) :]


def random_like(vector: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The control vector: every element keeps its magnitude |v| and gets a random sign
    drawn from `rng` (so size and support match the vector exactly, its direction
    does not)."""
    signs = torch.from_numpy(rng.choice(np.array([-1.0, 1.0], dtype=np.float32),
                                        size=tuple(vector.shape)))
    return vector.abs() * signs
