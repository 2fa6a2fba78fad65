"""Episodes you can watch: one level's episode under the unedited policy beside the
same episode seed under an edit (cheese vector, top-right vector), as a small
animated GIF or WebP.

Frames are procgen observations (the mouse on each cell of the recorded path),
cropped to the maze, enlarged with nearest-neighbour pixels, with the path so far
drawn as a trail, the mouse (blue), the cheese (gold) and the top-right cell (red)
marked large enough to see (procgen's own sprites are 2-3 pixels), and quantized to
one shared palette of a few colours so that the file stays small (about 20-150 kB per
episode pair).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from behavstats.env import Observer, render
from behavstats.errors import UserError
from behavstats.hooks import VECTOR_LAYER, AddVector
from behavstats.maze import Cell, Maze
from behavstats.maze.coords import OBS_SIZE, margin, maze_to_pixel_center
from behavstats.policy import Policy
from behavstats.quantities import edited
from behavstats.rollout import RolloutConfig, run_episodes

MAX_FRAMES = 90
"""Frames per animation at most: longer episodes show every k-th step."""
PANEL = 240
"""Side of one panel in pixels (the cropped maze, enlarged by a whole factor)."""
FRAME_MS = 90
LABEL_HEIGHT = 14
TRAILS = ((255, 255, 255), (255, 120, 60))
"""Trail colour of the unedited and of the edited panel."""


@dataclass(frozen=True)
class Episode:
    """One recorded episode: its panel label, the path (start included) and whether it
    reached the cheese."""

    label: str
    path: list[Cell]
    reached_cheese: bool


def edits(policy: Policy, maze: Maze, *, cheese: float | None = None,
          top_right: float | None = None, layer: str = VECTOR_LAYER,
          observer: Observer | None = None) -> tuple[str, list[AddVector]]:
    """The label and interventions of a vector edit of `maze` (its own cheese vector
    and / or top-right vector, times the coefficients given)."""
    from behavstats.interventions.vectors import cheese_vectors, top_right_vectors

    parts, hooks = [], []
    if cheese is not None:
        if maze.cheese is None:
            raise UserError(f"level {maze.level} has no cheese, so no cheese vector")
        hooks.append(AddVector(layer, cheese_vectors(policy, [maze], layer, observer)[0],
                               cheese))
        parts.append(edited("cheese vector", cheese))
    if top_right is not None:
        hooks.append(AddVector(layer, top_right_vectors(policy, [maze], layer, observer)[0],
                               top_right))
        parts.append(edited("top-right vector", top_right))
    return " + ".join(parts), hooks


def record(policy: Policy, maze: Maze, interventions: Sequence = (), *, label: str,
           seed: int = 0, max_steps: int = 200) -> Episode:
    """One sampled episode of `maze` under `interventions`; the action stream is the
    level's for `seed`, so the same seed gives the same draws with and without edits."""
    config = RolloutConfig(seed=seed, mode=maze.mode, max_steps=max_steps, record_path=True,
                           parallel_episodes=1, batch=16)
    with policy.hooks(*interventions):
        row = run_episodes(policy, [maze], config).iloc[0]
    return Episode(label, [tuple(c) for c in row["path"]], bool(row["reached_cheese"]))


def _crop(maze: Maze) -> tuple[int, int]:
    """Pixel bounds [lo, hi) of the maze proper in the observation (square)."""
    cell = OBS_SIZE / maze.world_dim
    lo = margin(maze.maze_dim, maze.world_dim) * cell
    return int(math.floor(lo)), int(math.ceil(lo + maze.maze_dim * cell))


def _panels(maze: Maze, episode: Episode, steps: list[int], colour: tuple[int, int, int],
            observer: Observer) -> list[Image.Image]:
    """One labelled panel per shown step: the mouse there and the trail so far."""
    lo, hi = _crop(maze)
    scale = max(1, PANEL // (hi - lo))
    side = (hi - lo) * scale
    last = len(episode.path) - 1
    cells = [episode.path[min(s, last)] for s in steps]
    views = render([(maze, c) for c in cells], observer)
    points = [_point(maze, cell, lo, scale) for cell in episode.path]
    cheese = None if maze.cheese is None else _point(maze, maze.cheese, lo, scale)
    corner = _point(maze, maze.top_right, lo, scale)
    radius = max(3, round(0.4 * scale * OBS_SIZE / maze.world_dim))
    out = []
    for step, view in zip(steps, views, strict=True):
        image = Image.fromarray(view[lo:hi, lo:hi]).resize((side, side), Image.NEAREST)
        panel = Image.new("RGB", (side, side + LABEL_HEIGHT), (255, 255, 255))
        panel.paste(image, (0, LABEL_HEIGHT))
        draw = ImageDraw.Draw(panel)
        shift = [(x, y + LABEL_HEIGHT) for x, y in points[: min(step, last) + 1]]
        if len(shift) > 1:
            draw.line(shift, fill=colour, width=max(1, scale // 3))
        _mark(draw, corner, radius, (220, 30, 30), LABEL_HEIGHT, square=True)
        if cheese is not None and not (step >= last and episode.reached_cheese):
            _mark(draw, cheese, radius, (255, 215, 0), LABEL_HEIGHT)
        _mark(draw, shift[-1], radius, (60, 140, 255), 0)
        draw.text((2, 1), episode.label, fill=(0, 0, 0))
        out.append(panel)
    return out


def _point(maze: Maze, cell: Cell, lo: int, scale: int) -> tuple[float, float]:
    """A cell's centre in panel pixels (before the label strip)."""
    row, col = maze_to_pixel_center(*cell, maze.maze_dim, maze.world_dim)
    return (col - lo) * scale, (row - lo) * scale


def _mark(draw: ImageDraw.ImageDraw, at: tuple[float, float], radius: int,
          fill: tuple[int, int, int], dy: int, square: bool = False) -> None:
    """A filled, black-outlined marker: cheese and mouse round, the top-right cell
    square."""
    x, y = at[0], at[1] + dy
    box = (x - radius, y - radius, x + radius, y + radius)
    (draw.rectangle if square else draw.ellipse)(box, outline=(0, 0, 0), fill=fill)


def frames(maze: Maze, episodes: Sequence[Episode], observer: Observer | None = None
           ) -> list[Image.Image]:
    """The animation's frames: the episodes' panels side by side, every k-th step so
    that there are at most `MAX_FRAMES` (the last step always shown)."""
    observer = observer or Observer(batch=16)
    longest = max(len(e.path) for e in episodes) - 1
    stride = max(1, math.ceil((longest + 1) / MAX_FRAMES))
    steps = sorted({*range(0, longest + 1, stride), longest})
    columns = [_panels(maze, e, steps, TRAILS[k % len(TRAILS)], observer)
               for k, e in enumerate(episodes)]
    width, height = columns[0][0].size
    gap = 6
    out = []
    for row in zip(*columns, strict=True):
        frame = Image.new("RGB", (len(row) * width + gap * (len(row) - 1), height),
                          (255, 255, 255))
        for k, panel in enumerate(row):
            frame.paste(panel, (k * (width + gap), 0))
        out.append(frame)
    return out


def save_animation(images: Sequence[Image.Image], path: str | Path, colours: int = 64
                   ) -> Path:
    """Write the frames as an animated GIF or WebP (by suffix), looping, on one
    palette of `colours` colours taken from the first and last frames (the last one
    shown for a second)."""
    path = Path(path)
    sample = Image.new("RGB", (images[0].width, images[0].height * 2))
    sample.paste(images[0], (0, 0))
    sample.paste(images[-1], (0, images[0].height))
    palette = sample.quantize(colours, dither=Image.Dither.NONE)
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    durations = [FRAME_MS] * (len(images) - 1) + [1000]
    tmp = path.with_name(path.name + ".tmp")
    fmt = "WEBP" if path.suffix == ".webp" else "GIF"
    extra = {"lossless": True} if fmt == "WEBP" else {"optimize": False, "disposal": 1}
    first = quantized[0] if fmt == "GIF" else quantized[0].convert("RGB")
    rest = quantized[1:] if fmt == "GIF" else [q.convert("RGB") for q in quantized[1:]]
    first.save(tmp, format=fmt, save_all=True, append_images=rest, duration=durations,
               loop=0, **extra)
    tmp.replace(path)
    return path


def animate(policy: Policy, maze: Maze, path: str | Path, *, cheese: float | None = None,
            top_right: float | None = None, seed: int = 0, max_steps: int = 200,
            layer: str = VECTOR_LAYER) -> list[Episode]:
    """Record `maze`'s episode unedited and (with a coefficient) edited, same seed, and
    write them side by side to `path`; returns the episodes."""
    observer = Observer(batch=16)
    episodes = [record(policy, maze, label="agent", seed=seed, max_steps=max_steps)]
    if cheese is not None or top_right is not None:
        label, hooks = edits(policy, maze, cheese=cheese, top_right=top_right, layer=layer,
                             observer=observer)
        episodes.append(record(policy, maze, hooks, label=label, seed=seed,
                               max_steps=max_steps))
    save_animation(frames(maze, episodes, observer), path)
    return episodes
