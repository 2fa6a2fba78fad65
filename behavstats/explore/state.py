"""What the explorer shows, as validated request models, and the edited maze of a view.

A `View` is the page's whole state (its URL holds the same fields): a level and mode,
edits of that level, and interventions. Bounds that do not depend on the policy or the
level (coordinates, coefficients, list lengths) are checked by the models; the rest
(cells inside this maze, layers and channels of this policy) by `edited_maze` and the
engine, which raise `Refused` with a reason the page shows.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from behavstats.geometry import reachable
from behavstats.levelspec import MAX_SEED
from behavstats.maze import Maze, MazeStateError
from behavstats.maze.edits import move_cheese, move_mouse, remove_cheese, toggle_walls
from behavstats.rollout import PROCGEN_STEP_LIMIT
from behavstats.vocabulary import DEFAULT_MODE, MODES, VECTOR_LAYER

COEFF_LIMIT = 20.0
VALUE_LIMIT = 1000.0
MAX_WALLS = 200
MAX_CHANNELS = 512


class Refused(ValueError):
    """A request the explorer will not compute; the message says why (shown to the user)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


Coord = Annotated[int, Field(ge=0, le=24)]
CellXY = tuple[Coord, Coord]
"""A maze-frame (x, y) cell; it must also lie inside the level's maze."""
Level = Annotated[int, Field(ge=0, le=MAX_SEED)]
Coeff = Annotated[float, Field(ge=-COEFF_LIMIT, le=COEFF_LIMIT, allow_inf_nan=False)]
Channel = Annotated[int, Field(ge=0, le=4095)]
LayerName = Annotated[str, Field(min_length=1, max_length=64)]


class Edits(_Model):
    """Edits of the level, applied in this order: toggle `walls`, move the mouse, then
    remove (`remove_cheese`) or move (`cheese`) the cheese."""

    walls: list[CellXY] = Field(default_factory=list, max_length=MAX_WALLS)
    mouse: CellXY | None = None
    cheese: CellXY | None = None
    remove_cheese: bool = False


class CheeseVector(_Model):
    """coeff x the cheese vector of this maze (`level` None) or of another level."""

    coeff: Coeff = 0.0
    level: Level | None = None


class Clamp(_Model):
    """Set one channel of the intervention layer to `value` at the activation cell of
    maze cell `cell`."""

    channel: Channel
    value: Annotated[float, Field(ge=-VALUE_LIMIT, le=VALUE_LIMIT, allow_inf_nan=False)]
    cell: CellXY


class Ablation(_Model):
    """Zero channels, or (`mean`) set them to their mean over this maze's field cells."""

    channels: list[Channel] = Field(min_length=1, max_length=MAX_CHANNELS)
    mean: bool = False


class Interventions(_Model):
    """Edits of the activations at one `layer`, applied in this order."""

    layer: LayerName = VECTOR_LAYER
    cheese_vector: CheeseVector = CheeseVector()
    top_right: Coeff = 0.0
    clamp: Clamp | None = None
    ablate: Ablation | None = None

    def active(self) -> bool:
        return bool(self.cheese_vector.coeff or self.top_right or self.clamp or self.ablate)


class View(_Model):
    level: Level = 0
    mode: Literal[MODES] = DEFAULT_MODE
    edits: Edits = Edits()
    interventions: Interventions = Interventions()


class ActivationRequest(_Model):
    """The map of `channel` of `layer` with the mouse on the view's mouse cell."""

    view: View = View()
    layer: LayerName = VECTOR_LAYER
    channel: Channel = 0


class EpisodeRequest(_Model):
    """One sampled episode from the view's mouse cell, original and patched."""

    view: View = View()
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    max_steps: Annotated[int, Field(ge=1, le=PROCGEN_STEP_LIMIT)] = 250


def check_inside(maze: Maze, cell: tuple[int, int], what: str) -> tuple[int, int]:
    """`cell` if it lies inside the maze proper, else Refused."""
    if not all(0 <= c < maze.maze_dim for c in cell):
        raise Refused(f"the {what} cell {tuple(cell)} is outside this "
                      f"{maze.maze_dim}x{maze.maze_dim} maze")
    return tuple(cell)


def edited_maze(base: Maze, edits: Edits) -> Maze:
    """The level's maze with `edits` applied, or Refused when the result is not a maze
    the explorer can analyse (mouse or cheese on a wall, the start or top-right cell
    walled, the mouse, cheese or top-right cell cut off from the start)."""
    walls = [check_inside(base, c, "wall") for c in edits.walls]
    if len(set(walls)) < len(walls):
        raise Refused("a wall cell is toggled twice; list each cell once")
    for fixed, name in ((base.start, "start"), (base.top_right, "top-right")):
        if fixed in walls:
            raise Refused(f"the {name} cell {fixed} must stay free")
    maze = _edit(toggle_walls, base, walls)
    if edits.mouse is not None:
        maze = _edit(move_mouse, maze, check_inside(maze, edits.mouse, "mouse"))
    if edits.remove_cheese:
        maze = remove_cheese(maze)
    elif edits.cheese is not None:
        maze = _edit(move_cheese, maze, check_inside(maze, edits.cheese, "cheese"))
    if maze.cheese == maze.mouse:
        raise Refused("the cheese and the mouse cannot share a cell")
    for cell, name in ((maze.mouse, "mouse"), (maze.cheese, "cheese"),
                       (maze.top_right, "top-right cell")):
        if cell is not None and not reachable(maze, maze.start, cell):
            raise Refused(f"the {name} at {cell} cannot be reached from the start "
                          f"{maze.start}: open a wall")
    return maze


def _edit(edit, maze: Maze, arg) -> Maze:
    try:
        return edit(maze, arg)
    except MazeStateError as exc:
        raise Refused(str(exc)) from exc
