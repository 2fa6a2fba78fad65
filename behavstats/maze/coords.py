"""The package's one coordinate convention and every conversion out of it.

Maze frame: (x, y) with x = column from the left and y = row from the bottom of the
maze, so the maze's bottom-left cell is (0, 0) and its top-right cell is
(maze_dim - 1, maze_dim - 1). The maze is centred in a square world of world_dim
cells (25 in hard mode, 15 in easy mode) whose margin is wall, so maze-frame
coordinates may also be negative or >= maze_dim for world cells outside the maze
(e.g. a corridor carved to the world's top-right).

World cell: (wx, wy) = (x + margin, y + margin), wy counted from the bottom, which
is procgen's grid order (index wy * world_dim + wx).
Image: 64 x 64 pixels, row 0 at the top.
Activation cell: (row, col) of a convolutional layer's h x w map, row 0 at the top.
"""

from __future__ import annotations

import math

OBS_SIZE = 64
"""Side of the procgen observation in pixels."""


def margin(maze_dim: int, world_dim: int) -> int:
    """Wall cells between the world's edge and the maze on each side."""
    return (world_dim - maze_dim) // 2


def maze_to_world(x: int, y: int, maze_dim: int, world_dim: int) -> tuple[int, int]:
    """Maze-frame (x, y) -> world cell (wx, wy), wy from the bottom."""
    m = margin(maze_dim, world_dim)
    return x + m, y + m


def world_to_maze(wx: int, wy: int, maze_dim: int, world_dim: int) -> tuple[int, int]:
    """World cell (wx, wy), wy from the bottom -> maze-frame (x, y)."""
    m = margin(maze_dim, world_dim)
    return wx - m, wy - m


def world_to_image_row(wy: int, world_dim: int) -> int:
    """World row counted from the bottom -> grid row counted from the top (image order)."""
    return world_dim - 1 - wy


def maze_to_pixel_center(x: int, y: int, maze_dim: int, world_dim: int) -> tuple[float, float]:
    """Maze-frame (x, y) -> (row, col) of the cell's centre in observation pixels."""
    wx, wy = maze_to_world(x, y, maze_dim, world_dim)
    cell = OBS_SIZE / world_dim
    return (world_to_image_row(wy, world_dim) + 0.5) * cell, (wx + 0.5) * cell


def pixel_to_maze(row: int, col: int, maze_dim: int, world_dim: int) -> tuple[int, int]:
    """Observation pixel (row from the top, col) -> maze-frame (x, y) of the world cell
    that contains the pixel's centre (cells are 64 / world_dim pixels wide)."""
    cell = OBS_SIZE / world_dim
    wx, from_top = math.floor((col + 0.5) / cell), math.floor((row + 0.5) / cell)
    return world_to_maze(wx, world_dim - 1 - from_top, maze_dim, world_dim)


def pixel_maze_axes(maze_dim: int, world_dim: int) -> tuple[list[int], list[int]]:
    """`pixel_to_maze` for a whole observation, which it maps axis by axis: the maze x
    of each pixel column and the maze y of each pixel row (rows from the top)."""
    xs = [pixel_to_maze(0, col, maze_dim, world_dim)[0] for col in range(OBS_SIZE)]
    ys = [pixel_to_maze(row, 0, maze_dim, world_dim)[1] for row in range(OBS_SIZE)]
    return xs, ys


def maze_to_activation_cell(
    x: int, y: int, maze_dim: int, world_dim: int, act_size: int
) -> tuple[int, int]:
    """Maze-frame (x, y) -> (row, col) of the activation cell of a square act_size x
    act_size map (covering the whole observation) whose receptive-field centre is
    nearest to the cell's centre.

    In the IMPALA stack (3x3 convs with padding 1, 3x3/2 max-pools with padding 1)
    activation i of a map with stride s = 64 / act_size is centred on pixel s * i
    (continuous coordinate s * i + 0.5), not on the middle of the s-pixel tile.
    """
    stride = OBS_SIZE / act_size
    return tuple(
        min(act_size - 1, max(0, math.floor((p - 0.5) / stride + 0.5)))
        for p in maze_to_pixel_center(x, y, maze_dim, world_dim)
    )
