"""A scale-1 policy with a planted cheese channel, for tests with a known answer.

Every weight is zero except one path:

- block1.conv channel 0: a linear 3x3 colour detector (fitted once by a linear SVM to
  cheese pixels of easy-mode levels 0-199, exact on levels 0-399: its score exceeds
  `THRESHOLD` at some pixel of every cheese and nowhere away from the cheese), plus an
  offset that keeps it positive.
- block1.res1 cancels that channel (resadd channel 0 = 0) and writes into channel 1
  the thresholded detector D = relu(score - THRESHOLD) convolved with a 2x2
  checkerboard kernel (+1 -1 / -1 +1): every row and every column of that map sums
  to zero, so the row and column profiles the probes read are zero (up to the
  image's left edge): the cheese is in block 1, but not linearly in the probes'
  features.
- block2.conv copies it; the max-pool turns it positive near the cheese; block2.res1
  writes relu of it into channel `CHANNEL`: at `LAYER` that channel is a cheese
  indicator (zero away from the cheese).
- block3.conv copies that channel; fc reads its horizontal position and the policy
  head makes RIGHT more likely when the cheese is in the right half of the image and
  LEFT when in the left half. Nothing after `LAYER` reads any other channel.
"""

from __future__ import annotations

import numpy as np
import torch

from behavstats.policy import MOVE_GROUPS, Policy

LAYER = "embedder.block2.res1.resadd"
CHANNEL = 1
THRESHOLD = 0.77
_DETECTOR = [-3.305, -0.504, -1.36, -0.997, 13.889, 0.832, -1.247, -1.494, 0.453, 4.796, 1.916,
             2.4, 2.584, 1.9, 1.331, 1.6, 3.673, -2.958, -1.091, -1.037, -1.725, 0.315,
             -14.453, 1.352, -1.242, 0.67, 0.88]
_DETECTOR_BIAS = -13.774
_CHECKER = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.0, -1.0, 1.0]])
_CENTRE = (1, 1)


def _copy(conv: torch.nn.Conv2d, out: int, inp: int, scale: float = 1.0) -> None:
    conv.weight.data[out, inp, *_CENTRE] = scale


def zero_policy() -> Policy:
    """A scale-1 policy whose every weight is zero, to plant a path into."""
    policy = Policy(1)
    for p in policy.parameters():
        p.data.zero_()
    return policy


def planted_policy(gain: float = 3.0) -> Policy:
    """The planted policy (module docstring)."""
    policy = zero_policy()
    e = policy.embedder
    offset = float(np.abs(_DETECTOR).sum() + abs(_DETECTOR_BIAS) + 1.0)
    e.block1.conv.weight.data[0] = torch.tensor(_DETECTOR).reshape(3, 3, 3)
    e.block1.conv.bias.data[0] = _DETECTOR_BIAS + offset
    res = e.block1.res1
    _copy(res.conv1, 0, 0)
    _copy(res.conv1, 1, 0)
    res.conv1.bias.data[1] = -(offset + THRESHOLD)
    _copy(res.conv2, 0, 0, -1.0)
    res.conv2.weight.data[1, 1] = _CHECKER
    _copy(e.block2.conv, 0, 1)
    _copy(e.block2.res1.conv1, CHANNEL, 0)
    _copy(e.block2.res1.conv2, CHANNEL, CHANNEL)
    _copy(e.block3.conv, 0, CHANNEL)
    across = torch.arange(8.0) - 3.5
    weight = torch.zeros(32, 8, 8)
    weight[0] = across.expand(8, 8)
    e.fc.weight.data[0] = weight.flatten()
    e.fc.weight.data[1] = -weight.flatten()
    policy.fc_policy.weight.data[list(MOVE_GROUPS["RIGHT"]), 0] = gain
    policy.fc_policy.weight.data[list(MOVE_GROUPS["LEFT"]), 1] = gain
    return policy.to(memory_format=torch.channels_last).eval()
