"""A scale-1 policy and mazes under which no channel's ablation has a mean effect, by
construction, for testing that the ablation's p-values are calibrated.

`null_policy`: every weight is zero except

- block1.conv and block2.conv: seeded random 1x1 convolutions (and biases); the
  residual blocks add nothing, so `LAYER` is maxpool(conv(maxpool(conv(picture)))),
  and its column j (of 16) sees pixel columns up to 4 j + 3;
- block3.conv copies `LAYER` (plus an offset); fc's unit 0 reads block3's `READ` left
  columns (of 8), i.e. `LAYER` columns 0-7 and pixel columns 0-31, with random
  weights summing to 0 per channel, and the policy head makes P(RIGHT) = sigmoid(y),
  P(LEFT) = 1 - P(RIGHT) from it; every other move has probability 0.

So the network's move probabilities, ablated or not, depend only on the left half
of the picture, and whatever a channel's ablation does to P(RIGHT) it does the
opposite to P(LEFT).

`sided(maze)`: the maze with its cheese moved beside the path from the start to the
top-right cell where the move from the path to it is LEFT, and where it is RIGHT (the
first such cells along the path, checked by `decision_point`); both cells and both
decision squares lie in world columns >= `FAR`, whose pixels (from 35.8 in a 25-cell
world) the network never sees. A fair coin choosing one of the two gives a level
whose change of P(towards cheese) under any ablation is +r or -r with probability
1/2 each, r fixed by the maze: every channel's changes are symmetric about 0, the
sign-flip test's null hypothesis, exactly.
"""

from __future__ import annotations

import torch
from _planted import zero_policy

from behavstats.geometry import decision_point, shortest_path
from behavstats.maze import Maze
from behavstats.maze.edits import move_cheese
from behavstats.maze.model import MOVE_NAMES, MOVES
from behavstats.policy import MOVE_GROUPS, Policy

LAYER = "embedder.block2.res1.resadd"
READ = 4
"""block3 columns fc reads: `LAYER` columns 0 to 2 * READ - 1."""
FAR = 14
"""The first world column the cheese and the decision square may lie in."""
SIDES = ("LEFT", "RIGHT")
_OFFSET, _SCALE, _BIAS = 20.0, 0.05, 100.0
"""Keep relu3 and relufc on their linear side; P(RIGHT) mostly within 0.2-0.8."""


def null_policy(seed: int = 0) -> Policy:
    """The null policy (module docstring), its random weights drawn from `seed`."""
    draw = torch.Generator().manual_seed(seed)
    policy = zero_policy()
    e = policy.embedder
    for conv in (e.block1.conv, e.block2.conv):
        out, inp = conv.weight.shape[:2]
        conv.weight.data[:, :, 1, 1] = torch.randn(out, inp, generator=draw)
        conv.bias.data[:] = torch.randn(out, generator=draw)
    channels = e.block3.conv.weight.shape[0]
    e.block3.conv.weight.data[:, :, 1, 1] = torch.eye(channels)
    e.block3.conv.bias.data[:] = _OFFSET
    weight = torch.zeros(channels, 8, 8)
    read = torch.randn(channels, 8, READ, generator=draw)
    weight[:, :, :READ] = read - read.mean((1, 2), keepdim=True)
    e.fc.weight.data[0] = _SCALE * weight.flatten()
    e.fc.bias.data[0] = _BIAS
    head = policy.fc_policy
    head.bias.data[:] = -1e4
    for name, sign in (("RIGHT", 0.5), ("LEFT", -0.5)):
        head.weight.data[list(MOVE_GROUPS[name]), 0] = sign
        head.bias.data[list(MOVE_GROUPS[name])] = -sign * _BIAS
    return policy.to(memory_format=torch.channels_last).eval()


def sided(maze: Maze) -> dict[str, Maze] | None:
    """{'LEFT': maze, 'RIGHT': maze} with the cheese moved as the module docstring
    says, or None where the maze has no such pair of cells."""
    path = shortest_path(maze, maze.start, maze.top_right)
    found: dict[str, Maze] = {}
    for cell in path:
        for name in SIDES:
            side = (cell[0] + MOVES[name][0], cell[1])
            if (name in found or side in path or not maze.is_free(side)
                    or min(maze.world_cell(cell)[0], maze.world_cell(side)[0]) < FAR):
                continue
            edited = move_cheese(maze, side)
            point = decision_point(edited)
            if point is not None and point.cell == cell and MOVE_NAMES[point.to_cheese] == name:
                found[name] = edited
    return found if len(found) == 2 else None
