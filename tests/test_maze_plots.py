"""plot_maze renders (Agg) and puts its markers on the right pixels."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from behavstats.geometry import decision_square, shortest_path  # noqa: E402
from behavstats.maze.coords import OBS_SIZE, maze_to_pixel_center  # noqa: E402
from behavstats.maze.edits import remove_cheese  # noqa: E402
from behavstats.plots.maze import MARKERS, plot_maze  # noqa: E402


def _artist(ax, gid):
    found = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


@pytest.fixture(scope="module")
def maze_with_fork(level_mazes):
    return next(m for m in level_mazes["hard"]
                if m.maze_dim >= 11 and decision_square(m) is not None)


@pytest.mark.parametrize("mode", ["hard", "easy"])
def test_markers_and_paths_sit_on_the_cells(level_mazes, observer, mode, monkeypatch):
    maze = next(m for m in level_mazes[mode] if m.maze_dim >= 9
                and decision_square(m) is not None)
    observation = observer.observe([maze])[0]
    import procgen

    def no_envs(*args, **kwargs):
        raise AssertionError("plot_maze must not build a procgen env")

    monkeypatch.setattr(procgen, "ProcgenGym3Env", no_envs)
    monkeypatch.setattr("behavstats.maze.levels.ProcgenGym3Env", no_envs)
    ax = plot_maze(maze, observation=observation)
    cells = {"start": maze.start, "cheese": maze.cheese, "top_right": maze.top_right,
             "dsq": decision_square(maze)}
    size = OBS_SIZE / maze.world_dim
    for gid, cell in cells.items():
        line = _artist(ax, gid)
        (col,), (row,) = line.get_xdata(), line.get_ydata()
        assert (row, col) == pytest.approx(maze_to_pixel_center(*cell, maze.maze_dim,
                                                                  maze.world_dim))
        # the pixel under the marker belongs to the cell (pixel i covers [i, i + 1))
        wx, wy = maze.world_cell(cell)
        assert int(col // size) == wx and int(row // size) == maze.world_dim - 1 - wy
    # the cheese marker sits on the cheese procgen drew
    drawn = np.any(observer.observe([remove_cheese(maze)])[0] != observation, axis=-1)
    rows, cols = np.nonzero(drawn)
    line = _artist(ax, "cheese")
    col, row = line.get_xdata()[0], line.get_ydata()[0]
    assert rows.min() <= row <= rows.max() + 1 and cols.min() <= col <= cols.max() + 1
    # the paths run through the centres of the shortest paths' cells
    for gid, target in (("path_cheese", maze.cheese), ("path_top_right", maze.top_right)):
        path = shortest_path(maze, maze.start, target)
        line = _artist(ax, gid)
        centres = [maze_to_pixel_center(*c, maze.maze_dim, maze.world_dim) for c in path]
        np.testing.assert_allclose(line.get_ydata(), [r for r, _ in centres])
        np.testing.assert_allclose(line.get_xdata(), [c for _, c in centres])
    image = ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), observation)
    assert image.get_extent() == [0, OBS_SIZE, OBS_SIZE, 0]


def test_rendered_markers_land_on_their_pixels(maze_with_fork, observer):
    """Draw with Agg and read the rendered figure back: each marker's colour appears at
    the place of its cell's pixel in the drawn observation."""
    maze = maze_with_fork
    observation = observer.observe([maze])[0]
    ax = plot_maze(maze, observation=observation, paths=True)
    fig = ax.figure
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    picture = np.asarray(canvas.buffer_rgba())[..., :3].astype(float) / 255
    height = picture.shape[0]
    box = ax.get_window_extent()
    for gid, cell in (("dsq", decision_square(maze)), ("cheese", maze.cheese),
                      ("top_right", maze.top_right), ("start", maze.start)):
        row, col = maze_to_pixel_center(*cell, maze.maze_dim, maze.world_dim)
        x, y = ax.transData.transform((col, row))
        # where the cell's centre is in the image shown in the axes
        assert (x - box.x0) / box.width * OBS_SIZE == pytest.approx(col, abs=0.05)
        assert (box.y1 - y) / box.height * OBS_SIZE == pytest.approx(row, abs=0.05)
        colour = picture[int(height - y), int(x)]
        np.testing.assert_allclose(colour, to_rgb(MARKERS[gid]["color"]), atol=0.03)
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue()[:4] == b"\x89PNG"


def test_without_observation_or_paths(maze_with_fork, build_maze):
    ax = plot_maze(maze_with_fork, paths=False)
    gids = {line.get_gid() for line in ax.get_lines()}
    assert gids == {"start", "cheese", "top_right"}
    walls = ax.get_images()[0].get_array()
    assert walls.shape == (25, 25)
    # image row 0 is the world's top row: the maze's top-right cell is free (white)
    m = (25 - maze_with_fork.maze_dim) // 2
    assert walls[m, 24 - m] == 1.0 and walls[0, 0] < 1.0
    # a maze whose cheese is cut off and has been removed: no crash, fewer marks
    boxed = build_maze("""
        ....
        .##.
        .#C#
        ..#.
    """)
    ax = plot_maze(boxed)
    gids = {line.get_gid() for line in ax.get_lines()}
    assert gids == {"start", "cheese", "top_right", "path_top_right"}
    ax = plot_maze(remove_cheese(boxed))
    assert "cheese" not in {line.get_gid() for line in ax.get_lines()}
    with pytest.raises(ValueError, match="observation"):
        plot_maze(boxed, observation=np.zeros((32, 32, 3), np.uint8))


def test_draws_on_a_given_axes(maze_with_fork):
    from matplotlib.figure import Figure

    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plot_maze(maze_with_fork, ax=axes[1]) is axes[1]
    assert not axes[0].get_lines()


def test_core_modules_do_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import os, sys; cwd = os.getcwd(); "
            "import behavstats.maze, behavstats.maze.levels, behavstats.maze.edits, "
            "behavstats.features, behavstats.env; "
            "assert 'matplotlib' not in sys.modules; assert os.getcwd() == cwd")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
