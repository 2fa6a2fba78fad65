"""What the explorer's API answers (the OpenAPI schema documents these)."""

from __future__ import annotations

from pydantic import BaseModel

from behavstats.explore.state import View

Cell = tuple[int, int]


class MazeInfo(BaseModel):
    """The edited maze: `rows` top row first, '#' wall and '.' free, over the maze
    proper (maze_dim x maze_dim, maze-frame y = maze_dim - 1 - row); paths run from the
    start (the library's decision-square definition)."""

    maze_dim: int
    rows: list[str]
    start: Cell
    mouse: Cell
    cheese: Cell | None
    top_right: Cell
    decision_square: Cell | None
    path_to_cheese: list[Cell]
    path_to_top_right: list[Cell]


class DecisionProbs(BaseModel):
    """At the decision square: probability of the step towards the cheese and towards
    the top-right cell (`behavstats.vfield.decision_probs`)."""

    p_cheese: float
    p_topright: float


class FieldResponse(BaseModel):
    """Move probabilities (LEFT, DOWN, NOOP, UP, RIGHT) at `cells`, unpatched and (with
    active interventions) patched."""

    view: View
    maze: MazeInfo
    cells: list[Cell]
    original: list[list[float]]
    patched: list[list[float]] | None
    decision_original: DecisionProbs | None
    decision_patched: DecisionProbs | None
    notes: list[str]
    compute_ms: float


class RankedChannel(BaseModel):
    channel: int
    score: float


class ActivationResponse(BaseModel):
    """One channel's map (rows top first) with the mouse on the view's mouse cell, and
    the layer's channels ranked by how well they track the cheese."""

    layer: str
    channel: int
    original: list[list[float]]
    patched: list[list[float]] | None
    mouse_cell: Cell
    cheese_cell: Cell | None
    ranked: list[RankedChannel]


class Episode(BaseModel):
    path: list[Cell]
    steps: int
    reached_cheese: bool


class EpisodeResponse(BaseModel):
    original: Episode
    patched: Episode | None


class LayerInfo(BaseModel):
    name: str
    channels: int
    size: int


class Info(BaseModel):
    policy: str
    scale: int
    layers: list[LayerInfo]
    vector_layer: str
    max_level: int
    coeff_limit: float


class PythonSnippet(BaseModel):
    code: str


class HeatMap(BaseModel):
    """One number per maze cell (`grid`, rows top first like `MazeInfo.rows`, maze-frame
    y = maze_dim - 1 - row; None where the map has no value), its range, what it shows
    in words (`caption`), whether it is signed (a diverging scale centred on 0) and
    notes (e.g. completeness, a corruption that barely changes the decision)."""

    kind: str
    grid: list[list[float | None]]
    low: float
    high: float
    signed: bool
    caption: str
    notes: list[str]
    compute_ms: float


class ValueMapResponse(HeatMap):
    """The value head's estimate with the mouse on each free cell (the cheese's own cell
    has none), `behavstats.maps.value.value_map`."""

    cells: list[Cell]
    values: list[float]
    value_head: str


class AttributionMapResponse(HeatMap):
    """Integrated gradients (`behavstats.maps.attribution`) of `target` with the mouse on
    the decision square, against `baseline`: `pixels` the 64 x 64 map summed over
    colour; `grid` its sum over the pixels of each maze cell. `output_difference` is
    f(observation) - f(baseline); `completeness_gap` the attributions' sum minus it, at
    `steps` integration steps."""

    target: str
    baseline: str
    decision_square: Cell
    pixels: list[list[float]]
    output: float
    output_difference: float
    completeness_gap: float
    steps: int


class PatchingMapResponse(HeatMap):
    """Denoising cell patching (`behavstats.maps.patching`) at `layer`: each activation
    cell (all channels) of the clean run (mouse on the decision square) patched into the
    `corruption` twin; `restoration` per activation cell (rows top first),
    (patched - corrupted) / (clean - corrupted) of `target`; `grid` each maze cell's
    activation cell's restoration. `edited` is the cell the corruption changed."""

    target: str
    corruption: str
    layer: str
    decision_square: Cell
    edited: Cell
    clean: float
    corrupted: float
    restoration: list[list[float]]
