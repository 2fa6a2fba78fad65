"""Integrated gradients of the decision at the decision square, on captum.

With the mouse on a maze's decision square (dsq), a target quantity of the policy's
output (`vocabulary.DECISION_TARGETS`: p_cheese, P(move towards the cheese); logit_diff,
log P(cheese move) - log P(top-right move), the difference of the two moves' logsumexp
over their actions' logits) is attributed by integrated gradients along the straight
line from a baseline to the observation:

- to the input pixels (captum's `IntegratedGradients` on the float image the policy
  reads, `policy.preprocess`), summed over the three colours into a 64 x 64 map;
- to each channel and cell of a layer (`LayerIntegratedGradients`, the line running
  between the layer's activations of the baseline and of the observation), summed over
  cells per channel and over channels per cell.

Baselines (`vocabulary`): cheese_removed, the same observation without the cheese, so
the attributions explain what the cheese does (in pixels they lie on the cheese's own
pixels by construction: nowhere else does the input differ); blank, the level with
every wall of the maze proper and the cheese removed (`maze.edits.open_maze`), the
background, the margin of wall and the mouse on the dsq unchanged, so the attributions
explain what the maze's walls and cheese do. A blank maze rather than black pixels:
no frame the agent saw is black, and the line from black to the observation runs
through dimmed pictures of the whole frame, so its attributions spread over the
background texture and the mouse, which every maze shares; the open maze is a procgen
frame that differs from the observation only where the level does.

Completeness: the attributions of a row sum to f(observation) - f(baseline) in the
limit of many integration steps; the gap (captum's convergence delta: sum minus
difference) is made small by doubling the steps from `n_steps` until |gap| <=
tolerance x |difference| (or <= abs_tolerance) or `max_n_steps` is reached; each row
records the steps used and whether it got there.

cheese_share: the share of the map's absolute attribution (pixels: summed over colour;
layer: summed over channels, per cell) that lies within one maze cell (Chebyshev) of the
cheese: pixels whose centre lies in one of those cells (`coords.pixel_maze_axes`), and
the activation cells nearest to them (`coords.maze_to_activation_cell`, as channel
discovery places the cheese).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients
from tqdm.auto import tqdm

from behavstats.engine import BATCH
from behavstats.env import Observer, render
from behavstats.errors import UserError
from behavstats.experiments import Attribution
from behavstats.interventions.effects import estimate_ci, mean_ci
from behavstats.interventions.forward import ChannelError, decision_levels
from behavstats.maze import Maze
from behavstats.maze.coords import maze_to_activation_cell, pixel_maze_axes
from behavstats.maze.edits import move_mouse, open_maze, remove_cheese
from behavstats.maze.model import level_id
from behavstats.policy import MOVE_GROUPS, Policy, hook_module, preprocess
from behavstats.results import Result, figure_only, quantity_row
from behavstats.stats.multiplicity import family_row, sign_flip_pvalues, with_tests
from behavstats.vocabulary import BLANK, CHEESE_REMOVED, DECISION_TARGETS, LOGIT_DIFF, P_CHEESE

GROUP = 16
"""Levels attributed together (bounds the memory of the interpolated inputs)."""
PIXELS = "pixels"
"""The input space, as the summary's conditions name it (a layer by its name)."""
FAMILY = "channel x target x baseline"
"""The attribution's family of tests: each channel's mean attribution against 0."""
SUMMARY_CHANNELS = 5
"""Channels per target and baseline in the summary (the largest mean attributions)."""
COLUMNS = ("level", "target", "baseline", "output", "output_difference", "attribution_sum",
           "completeness_gap", "steps", "converged", "cheese_share", "layer_attribution_sum",
           "layer_completeness_gap", "layer_steps", "layer_converged", "layer_cheese_share")
EXAMPLE_DIM = 9
"""Example levels are the first with mazes at least this wide (then smaller ones)."""
BASELINES: dict[str, Callable[[Maze], Maze]] = {CHEESE_REMOVED: remove_cheese, BLANK: open_maze}
"""Each baseline's maze, made from the level's (the mouse stays on the dsq)."""


class TargetError(UserError):
    """A target or baseline name that is not one of the known ones."""


def decision_quantity(logits: torch.Tensor, target: str, to_cheese: torch.Tensor,
                      to_top_right: torch.Tensor) -> torch.Tensor:
    """The target (N,) of 15-action logits (N, 15), given each row's move towards the
    cheese and towards the top-right cell (indices into `MOVE_NAMES`)."""
    log_p = torch.log_softmax(logits.float(), dim=-1)
    moves = torch.stack([torch.logsumexp(log_p[:, list(actions)], dim=-1)
                         for actions in MOVE_GROUPS.values()], dim=1)
    cheese = moves.gather(1, to_cheese.reshape(-1, 1)).squeeze(1)
    if target == P_CHEESE:
        return cheese.exp()
    if target == LOGIT_DIFF:
        return cheese - moves.gather(1, to_top_right.reshape(-1, 1)).squeeze(1)
    raise TargetError(f"unknown target {target!r}: choose from {', '.join(DECISION_TARGETS)}")


@dataclass(frozen=True)
class DecisionFunction:
    """The policy from float images (N, 3, 64, 64) to one target per row: the function
    captum differentiates (extra arguments: each row's moves)."""

    policy: Policy
    target: str

    def __call__(self, x: torch.Tensor, to_cheese: torch.Tensor, to_top_right: torch.Tensor
                 ) -> torch.Tensor:
        logits = self.policy.forward_from(None, x.contiguous(memory_format=torch.channels_last))
        return decision_quantity(logits, self.target, to_cheese, to_top_right)


@dataclass(frozen=True)
class Attributions:
    """Integrated gradients of N rows: `attributions` (N, ...) (inputs' or the layer's
    shape), `output` f(x) and `output_difference` f(x) - f(baseline) (N,), the
    completeness `gap` (N,) (sum of attributions minus the difference), the `steps` used
    and whether each row `converged` (met the tolerance)."""

    attributions: torch.Tensor
    output: np.ndarray
    output_difference: np.ndarray
    gap: np.ndarray
    steps: np.ndarray
    converged: np.ndarray

    @property
    def sums(self) -> np.ndarray:
        return self.attributions.flatten(1).sum(1).double().numpy()


def integrated_gradients(policy: Policy, inputs: torch.Tensor, baselines: torch.Tensor,
                         target: str, to_cheese: Sequence[int], to_top_right: Sequence[int],
                         *, layer: str | None = None,
                         tolerance: float = Attribution.default("tolerance"),
                         abs_tolerance: float = Attribution.default("abs_tolerance"),
                         n_steps: int = Attribution.default("n_steps"),
                         max_n_steps: int = Attribution.default("max_n_steps"),
                         batch: int = BATCH) -> Attributions:
    """Integrated gradients of `target` from float images `inputs` (N, 3, 64, 64) against
    `baselines` (same shape): to the pixels, or with `layer` to that layer's output.
    Steps double from `n_steps` for the rows whose completeness gap exceeds
    max(tolerance x |output difference|, abs_tolerance), up to `max_n_steps`."""
    with _input_gradients_only(policy):
        return _integrated_gradients(policy, inputs, baselines, target, to_cheese,
                                     to_top_right, layer, tolerance, abs_tolerance,
                                     n_steps, max_n_steps, batch)


@contextmanager
def _input_gradients_only(policy: Policy) -> Iterator[None]:
    """Evaluation mode with the weights' requires_grad off (autograd then skips their
    gradients: about 20% faster), both restored afterwards."""
    was_training = policy.training
    wanted = [(p, p.requires_grad) for p in policy.parameters()]
    policy.eval()
    try:
        for p, _ in wanted:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in wanted:
            p.requires_grad_(flag)
        policy.train(was_training)


def _integrated_gradients(policy: Policy, inputs: torch.Tensor, baselines: torch.Tensor,
                          target: str, to_cheese: Sequence[int], to_top_right: Sequence[int],
                          layer: str | None, tolerance: float, abs_tolerance: float,
                          n_steps: int, max_n_steps: int, batch: int) -> Attributions:
    forward = DecisionFunction(policy, target)
    method = IntegratedGradients(forward) if layer is None else \
        LayerIntegratedGradients(forward, hook_module(policy, layer))
    moves = (torch.as_tensor(np.asarray(to_cheese), dtype=torch.long),
             torch.as_tensor(np.asarray(to_top_right), dtype=torch.long))
    with torch.no_grad():
        output = forward(inputs, *moves).double().numpy()
        difference = output - forward(baselines, *moves).double().numpy()
    n = len(inputs)
    attributions: list[torch.Tensor | None] = [None] * n
    gap, steps = np.full(n, np.nan), np.zeros(n, dtype=int)
    pending, steps_now = np.arange(n), n_steps
    while len(pending):
        for begin in range(0, len(pending), GROUP):
            rows = torch.as_tensor(pending[begin: begin + GROUP])
            found, delta = method.attribute(
                inputs[rows], baselines[rows], additional_forward_args=tuple(
                    m[rows] for m in moves), n_steps=steps_now,
                internal_batch_size=max(batch, len(rows)), return_convergence_delta=True)
            for k, r in enumerate(rows.tolist()):
                attributions[r] = found[k].detach()
                gap[r], steps[r] = float(delta[k]), steps_now
        allowed = np.maximum(tolerance * np.abs(difference), abs_tolerance)
        pending = pending[np.abs(gap[pending]) > allowed[pending]]
        steps_now *= 2
        if steps_now > max_n_steps:
            break
    converged = np.abs(gap) <= np.maximum(tolerance * np.abs(difference), abs_tolerance)
    return Attributions(torch.stack(attributions), output, difference, gap, steps, converged)


def near_cheese_pixels(maze: Maze, radius: int = 1) -> np.ndarray:
    """(64, 64) bool: pixels whose centre lies in a maze cell within `radius` cells
    (Chebyshev) of the cheese."""
    cx, cy = maze.cheese
    xs, ys = map(np.array, pixel_maze_axes(maze.maze_dim, maze.world_dim))
    return (np.abs(ys - cy)[:, None] <= radius) & (np.abs(xs - cx)[None, :] <= radius)


def near_cheese_cells(maze: Maze, size: int, radius: int = 1) -> np.ndarray:
    """(size, size) bool: the box of activation cells from the one nearest to the cell
    `radius` below and left of the cheese to the one nearest to the cell `radius` above
    and right of it (a box, since maze cells and activation cells differ in size and the
    nearest cells of neighbouring maze cells can skip one)."""
    cx, cy = maze.cheese
    corners = [maze_to_activation_cell(cx + d, cy + d, maze.maze_dim, maze.world_dim, size)
               for d in (-radius, radius)]
    rows, cols = [c[0] for c in corners], [c[1] for c in corners]
    mask = np.zeros((size, size), dtype=bool)
    mask[min(rows): max(rows) + 1, min(cols): max(cols) + 1] = True
    return mask


def share_within(values: np.ndarray, mask: np.ndarray) -> float:
    """Share of sum |values| that lies where `mask` is True (NaN when all are zero)."""
    size = np.abs(values)
    total = size.sum()
    return float(size[mask].sum() / total) if total > 0 else float("nan")


@dataclass
class AttributionExample:
    """Figure material of one level: the maze with the mouse on its dsq (`maze.mouse`)
    and its observation there."""

    level: int
    maze: Maze
    observation: np.ndarray


@dataclass(frozen=True, eq=False)
class AttributionResult(Result):
    """What `Attribution.run` measured.

    attribution: one row per level, target and baseline, `COLUMNS`: the target at the
        observation (output), its difference from the baseline's, and for the pixels
        (no prefix) and the layer (layer_) the sum of attributions, the completeness gap
        (sum minus difference), the steps used, whether the gap met the tolerance and
        the cheese share (module docstring).
    pixels: the nonzero entries of each level's pixel map (summed over colour): level,
        target, baseline, row, col, attribution (pixels left out are exactly 0).
    cells: each level's layer map summed over channels: level, target, baseline, row,
        col, attribution.
    channels: each level's layer attribution summed over cells: level, target,
        baseline, channel, attribution.
    channel_effects: one row per target, baseline and channel: the mean attribution
        over levels with its bootstrap interval (estimate, ci_low, ci_high, n), p_value
        (sign-flip test of mean 0) and q_value (Benjamini-Hochberg over all rows).
    params: the settings (`Attribution`), n_levels, n_used (levels with a dsq).
    examples: figure material (`AttributionExample`s), not saved.
    """

    attribution: pd.DataFrame
    pixels: pd.DataFrame
    cells: pd.DataFrame
    channels: pd.DataFrame
    channel_effects: pd.DataFrame
    params: dict
    examples: tuple[AttributionExample, ...] = figure_only()
    topic = "attribution"
    csv_tables = ("attribution",)
    settings_type = Attribution

    def _rows(self) -> list[dict]:
        """Per target and baseline: the mean output difference; per space (pixels, the
        layer) the largest |completeness gap|, the share of levels within the tolerance,
        the most steps used and the mean cheese share; the channels with the largest
        mean attributions; how many channel tests are significant."""
        common = {"seed": self.params["seed"], "n_boot": self.params["n_boot"]}
        rows = []
        for (target, baseline), part in self.attribution.groupby(["target", "baseline"],
                                                                 sort=False):
            where = f"{target}, {baseline}"
            rows.append(mean_ci(part["output_difference"], **common).row(
                "output_difference", where))
            for space, prefix in ((PIXELS, ""), (self.params["layer"], "layer_")):
                condition, n = f"{where}, {space}", len(part)
                rows += [quantity_row("completeness_gap", condition,
                                      float(part[f"{prefix}completeness_gap"].abs().max()),
                                      n=n),
                         quantity_row("within_tolerance", condition,
                                      float(part[f"{prefix}converged"].mean()), n=n),
                         quantity_row("integration_steps", condition,
                                      float(part[f"{prefix}steps"].max()), n=n),
                         mean_ci(part[f"{prefix}cheese_share"], **common).row(
                             "cheese_share", condition)]
            effects = self.channel_effects
            top = effects[(effects["target"] == target) & (effects["baseline"] == baseline)]
            for r in top.head(SUMMARY_CHANNELS).itertuples():
                rows.append(quantity_row("channel_attribution", f"{where}, channel {r.channel}",
                                         r.estimate, r.ci_low, r.ci_high, r.n, r.p_value,
                                         r.q_value))
        return [*rows, family_row(FAMILY, self.channel_effects["q_value"])]

    def figures(self) -> dict[str, Callable[[], Any]]:
        """Attribution sums against output differences (completeness), the channels'
        mean attributions, and per example level its pixel, cell and channel maps, one row
        per baseline, for logit_diff (when computed: P(cheese) saturates near 0 and 1,
        where its attributions are tiny)."""
        from behavstats.plots import maps as plots

        figures = {"completeness": lambda: plots.plot_completeness(
                       self.attribution, self.params["layer"]),
                   "channels": lambda: plots.plot_channel_effects(self.channel_effects)}
        targets = self.params["targets"]
        target = LOGIT_DIFF if LOGIT_DIFF in targets else targets[0]
        for example in self.examples:
            figures[f"attribution_level{example.level}"] = (
                lambda e=example: plots.plot_attribution_example(
                    e, target, self.params["baselines"], self.pixels, self.cells,
                    self.channels, self.params["layer"]))
        return figures


def compute(settings: Attribution, policy: Policy, levels: Sequence[int] | Sequence[Maze],
            *, progress: bool = False, batch: int = BATCH) -> AttributionResult:
    """The attribution experiment (`Attribution.run`) on the levels (seeds or mazes)
    that have a decision square. Raises NoUsableLevelsError without any."""
    s = settings
    for name, given, known in (("target", s.targets, DECISION_TARGETS),
                               ("baseline", s.baselines, tuple(BASELINES))):
        unknown = [g for g in given if g not in known]
        if unknown or not given:
            raise TargetError(f"unknown {name}(s) {unknown or '(none)'}: choose from "
                              f"{', '.join(known)}")
    _check_layer(policy, s.layer)
    mazes, points, chosen = decision_levels(levels, s.mode)
    used, pts = [mazes[i] for i in chosen], [points[i] for i in chosen]
    ids = [level_id(mazes[i], i) for i in chosen]
    observer = Observer(batch=batch)
    at_dsq = [(m, p.cell) for m, p in zip(used, pts, strict=True)]
    observations = render(at_dsq, observer)
    x = preprocess(observations)
    moves = ([p.to_cheese for p in pts], [p.to_top_right for p in pts])
    options = {"tolerance": s.tolerance, "abs_tolerance": s.abs_tolerance,
               "n_steps": s.n_steps, "max_n_steps": s.max_n_steps, "batch": batch}
    tables: dict[str, list[pd.DataFrame]] = {k: [] for k in ("attribution", "pixels",
                                                             "cells", "channels")}
    bar = tqdm(total=len(s.targets) * len(s.baselines), desc="attribution",
               disable=not progress)
    for baseline in s.baselines:
        base = preprocess(render([(BASELINES[baseline](m), c) for m, c in at_dsq], observer))
        for target in s.targets:
            pixels = integrated_gradients(policy, x, base, target, *moves, **options)
            layer = integrated_gradients(policy, x, base, target, *moves, layer=s.layer,
                                         **options)
            for name, table in _tables(ids, used, target, baseline, pixels, layer).items():
                tables[name].append(table)
            bar.update()
    bar.close()
    found = {k: pd.concat(v, ignore_index=True) for k, v in tables.items()}
    params = {**s.to_dict(), "n_levels": len(mazes), "n_used": len(chosen)}
    readable = sorted(range(len(used)), key=lambda k: (used[k].maze_dim < EXAMPLE_DIM, k))
    examples = [AttributionExample(ids[k], move_mouse(used[k], pts[k].cell), observations[k])
                for k in sorted(readable[: s.n_examples])]
    return AttributionResult(found["attribution"], found["pixels"], found["cells"],
                             found["channels"], _channel_effects(found["channels"], s),
                             params, tuple(examples))


def _check_layer(policy: Policy, layer: str) -> None:
    """ChannelError unless `layer` has channel maps (a layer of the IMPALA blocks)."""
    if not policy.has_channel_maps(layer):
        raise ChannelError(f"{layer} has no channel maps on the way to the policy logits: "
                           "attribute to a layer of the IMPALA blocks, e.g. "
                           "embedder.block2.res1.resadd")


def _tables(ids: list[int], mazes: list[Maze], target: str, baseline: str,
            pixels: Attributions, layer: Attributions) -> dict[str, pd.DataFrame]:
    """The rows of one target and baseline (`AttributionResult`'s tables)."""
    key = {"target": target, "baseline": baseline}
    pixel_maps = pixels.attributions.sum(1).numpy()  # over colour
    layer_maps = layer.attributions.numpy()
    cell_maps = layer_maps.sum(1)  # over channels
    size = cell_maps.shape[-1]
    summary = pd.DataFrame({
        "level": ids, **key, "output": pixels.output,
        "output_difference": pixels.output_difference, "attribution_sum": pixels.sums,
        "completeness_gap": pixels.gap, "steps": pixels.steps, "converged": pixels.converged,
        "cheese_share": [share_within(m, near_cheese_pixels(maze))
                         for m, maze in zip(pixel_maps, mazes, strict=True)],
        "layer_attribution_sum": layer.sums, "layer_completeness_gap": layer.gap,
        "layer_steps": layer.steps, "layer_converged": layer.converged,
        "layer_cheese_share": [share_within(m, near_cheese_cells(maze, size))
                               for m, maze in zip(cell_maps, mazes, strict=True)]})
    level, row, col = np.nonzero(pixel_maps)
    h, w = cell_maps.shape[1:]
    grid = np.indices((len(ids), h, w)).reshape(3, -1)
    return {"attribution": summary[list(COLUMNS)],
            "pixels": pd.DataFrame({"level": np.asarray(ids)[level], **key, "row": row,
                                    "col": col, "attribution": pixel_maps[level, row, col]}),
            "cells": pd.DataFrame({"level": np.asarray(ids)[grid[0]], **key, "row": grid[1],
                                   "col": grid[2], "attribution": cell_maps.reshape(-1)}),
            "channels": pd.DataFrame({
                "level": np.repeat(ids, layer_maps.shape[1]), **key,
                "channel": np.tile(np.arange(layer_maps.shape[1]), len(ids)),
                "attribution": layer_maps.sum((2, 3)).reshape(-1)})}


def _channel_effects(channels: pd.DataFrame, s: Attribution) -> pd.DataFrame:
    """Each channel's mean attribution over levels per target and baseline, tested
    against 0; rows ranked by |estimate| within each target and baseline."""
    groups = [(key, part.to_numpy()) for key, part in channels.groupby(
        ["target", "baseline", "channel"], sort=False)["attribution"]]
    rows = [{"target": t, "baseline": b, "channel": c,
             **estimate_ci(v, seed=s.seed, n_boot=s.n_boot)} for (t, b, c), v in groups]
    table = with_tests(pd.DataFrame(rows), sign_flip_pvalues([v for _, v in groups],
                                                             seed=s.seed))
    order = {(t, b): k for k, (t, b) in enumerate((t, b) for b in s.baselines
                                                  for t in s.targets)}
    table["order"] = [order[(t, b)] for t, b in zip(table["target"], table["baseline"],
                                                    strict=True)]
    table = table.assign(size=table["estimate"].abs()).sort_values(
        ["order", "size", "channel"], ascending=[True, False, True])
    return table.drop(columns=["order", "size"]).reset_index(drop=True)
