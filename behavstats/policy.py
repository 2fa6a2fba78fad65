"""The IMPALA maze policy with the published module names, checkpoints, and moves.

Architecture (Langosco et al.'s maze agents): three blocks of conv 3x3 -> maxpool
3x3/2 -> two residual blocks (relu, conv, relu, conv, add), widths 16s, 32s, 32s;
relu, flatten, linear to 256, relu; a policy head of 15 logits and a value head.
Module names match the published checkpoints (`embedder.block2.res1.resadd`, ...),
so their state dicts load unchanged and hooks use the published layer names.
Inputs are float images (N, 3, 64, 64) in [0, 1]; `preprocess` makes them from
procgen's uint8 (N, 64, 64, 3).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from behavstats.io import write_atomic
from behavstats.maze.model import MOVE_NAMES

NUM_ACTIONS = 15
MOVE_GROUPS: dict[str, tuple[int, ...]] = {
    "LEFT": (0, 1, 2),
    "DOWN": (3,),
    "NOOP": (4, 9, 10, 11, 12, 13, 14),
    "UP": (5,),
    "RIGHT": (6, 7, 8),
}
"""Which of the 15 procgen actions make each move (diagonals move horizontally)."""
MOVE_ACTION = {"LEFT": 1, "DOWN": 3, "NOOP": 4, "UP": 5, "RIGHT": 7}
"""One procgen action that makes each move."""
METADATA_KEY = "behavstats"
DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "data" / "policies" / "default.pt"
"""The shipped default agent (in the source checkout that `pip install -e .` uses)."""


class CheckpointError(ValueError):
    """A policy file that cannot be loaded: not a checkpoint, or wrong contents."""


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.resadd = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.relu2(self.conv1(self.relu1(x))))
        return self.resadd(out + x)


class ImpalaBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.res1 = ResidualBlock(out_channels)
        self.res2 = ResidualBlock(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res2(self.res1(self.maxpool(self.conv(x))))


class Embedder(nn.Module):
    def __init__(self, scale: int):
        super().__init__()
        self.block1 = ImpalaBlock(3, 16 * scale)
        self.block2 = ImpalaBlock(16 * scale, 32 * scale)
        self.block3 = ImpalaBlock(32 * scale, 32 * scale)
        self.relu3 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * scale * 8 * 8, 256)
        self.relufc = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu3(self.block3(self.block2(self.block1(x))))
        return self.relufc(self.fc(self.flatten(x)))


class Policy(nn.Module):
    """IMPALA actor-critic. `forward(x)` -> (logits (N, 15), value (N,))."""

    def __init__(self, scale: int = 1, metadata: dict | None = None):
        super().__init__()
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = scale
        self.metadata = dict(metadata or {})
        self.embedder = Embedder(scale)
        self.fc_policy = nn.Linear(256, NUM_ACTIONS)
        self.fc_value = nn.Linear(256, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.embedder(x)
        return self.fc_policy(hidden), self.fc_value(hidden).squeeze(-1)

    @property
    def training_region(self) -> int | None:
        """n of the top-right n x n region its training drew the cheese from (PPO's
        setting, else cloning's), or None for a policy without our training record
        (e.g. a published checkpoint, whose name says its n)."""
        training = self.metadata.get("training") or {}
        setup = training.get("ppo") or training.get("cloning") or {}
        return setup.get("region")

    def hooks(self, *interventions):
        """Context manager applying interventions (see `behavstats.hooks`)."""
        from behavstats.hooks import apply_interventions

        return apply_interventions(self, *interventions)


def preprocess(obs: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, 64, 64, 3) images -> float (N, 3, 64, 64) in [0, 1], channels_last."""
    x = torch.as_tensor(obs)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected images (N, 64, 64, 3), got shape {tuple(x.shape)}")
    return (x.permute(0, 3, 1, 2).float() / 255.0).contiguous(memory_format=torch.channels_last)


@cache
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX). Without it,
    bf16 autocast is emulated: measured on an AVX2-only EPYC, training ran at 36
    samples/s against 380 in fp32."""
    cpu = torch.cpu
    return any(getattr(cpu, name, lambda: False)()
               for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def warn_if_bf16_is_emulated(bf16: bool) -> None:
    """Warn (once per call site) when bf16 autocast is asked for on a CPU without
    native bfloat16, where it is about 10x slower than fp32."""
    if bf16 and not native_bf16():
        warnings.warn("bf16 autocast is emulated on this CPU (no AVX512-BF16 or AMX) and "
                      "runs about 10x slower than fp32: set bf16 to false", stacklevel=3)


@contextmanager
def inference(policy: Policy, bf16: bool = False) -> Iterator[Policy]:
    """Evaluation mode without gradients (restores the previous training flag);
    `bf16` runs the forward passes under bfloat16 autocast (about 1.6x faster on a
    CPU with native bfloat16, logits within about 1e-2 of fp32; much slower on one
    without, see `native_bf16`)."""
    warn_if_bf16_is_emulated(bf16)
    was_training = policy.training
    policy.eval()
    try:
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            yield policy
    finally:
        policy.train(was_training)


def logits_of(policy: Policy, obs: np.ndarray, batch: int = 64) -> torch.Tensor:
    """Logits (N, 15) of uint8 observations, computed in batches."""
    with inference(policy):
        parts = [policy(preprocess(obs[i : i + batch]))[0] for i in range(0, len(obs), batch)]
    return torch.cat(parts) if parts else torch.empty(0, NUM_ACTIONS)


_GROUP_MATRIX = torch.zeros(NUM_ACTIONS, len(MOVE_NAMES))
for _j, _name in enumerate(MOVE_NAMES):
    _GROUP_MATRIX[list(MOVE_GROUPS[_name]), _j] = 1.0


def move_probs(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the 15 actions, summed into (N, 5) probabilities of
    LEFT, DOWN, NOOP, UP, RIGHT (`MOVE_NAMES`)."""
    if logits.shape[-1] != NUM_ACTIONS:
        raise ValueError(f"expected {NUM_ACTIONS} logits, got {logits.shape[-1]}")
    return torch.softmax(logits.float(), dim=-1) @ _GROUP_MATRIX


def net_vector(probs: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Net probability vectors (p_right - p_left, p_up - p_down), (N, 2), of (N, 5) move
    probabilities given as a torch tensor or a numpy array (same type back)."""
    return probs[:, [4, 3]] - probs[:, [0, 1]]


def parameter_count(policy: Policy) -> int:
    return sum(p.numel() for p in policy.parameters())


def save_policy(policy: Policy, path: str | Path, **extra) -> Path:
    """Write `policy` in the published layout `{"model_state_dict": ...}` plus our
    metadata entry, atomically (temp file + rename)."""
    metadata = {"scale": policy.scale, "num_actions": NUM_ACTIONS, **policy.metadata}
    payload = {"model_state_dict": {k: v.detach().cpu().contiguous()
                                    for k, v in policy.state_dict().items()},
               METADATA_KEY: metadata, **extra}
    return write_atomic(path, lambda tmp: torch.save(payload, tmp))


def _infer_scale(state: dict) -> int:
    key = "embedder.block1.conv.weight"
    if key not in state:
        raise CheckpointError(f"the state dict has no {key!r}: not an IMPALA maze policy "
                              f"(first keys: {list(state)[:5]})")
    width = state[key].shape[0]
    if width % 16:
        raise CheckpointError(f"{key} has {width} output channels, not a multiple of 16")
    return width // 16


def resolve_policy_path(path: str | Path | None) -> Path:
    """`None` or "default" -> the shipped default policy; the bare name of another
    shipped policy ("region1" for data/policies/region1.pt), unless a file of that
    name exists here, -> that policy; anything else as given."""
    if path is None or str(path) == "default":
        return DEFAULT_POLICY
    path = Path(path)
    shipped = DEFAULT_POLICY.parent / f"{path}.pt"
    if str(path) == path.name and not path.exists() and shipped.is_file():
        return shipped
    return path


def load_policy(path: str | Path | None = "default") -> Policy:
    """Load a published Langosco checkpoint or a behavstats policy file.

    Accepts a torch file holding `{"model_state_dict": state}` (optionally with
    an optimizer state and our `behavstats` metadata); the scale is inferred from
    the weights. Loads with `weights_only=True`. Raises CheckpointError naming what
    is wrong (missing file, not a torch file, missing keys, shape mismatch).
    """
    path = resolve_policy_path(path)
    if not path.is_file():
        hint = (" (the default policy ships in the source checkout's data/policies/; install "
                "with pip install -e .)" if path == DEFAULT_POLICY else "")
        raise CheckpointError(f"policy file {path} does not exist{hint}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable torch checkpoint: {exc}") from exc
    if not isinstance(payload, dict) or "model_state_dict" not in payload:
        keys = list(payload)[:5] if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} holds no 'model_state_dict' (found {keys})")
    state = payload["model_state_dict"]
    metadata = payload.get(METADATA_KEY) or {}
    policy = Policy(_infer_scale(state), metadata=metadata)
    expected = policy.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path}: missing keys {missing[:8]}, unexpected keys "
                              f"{unexpected[:8]}")
    wrong = [f"{k}: {tuple(state[k].shape)} != {tuple(v.shape)}"
             for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        raise CheckpointError(f"{path}: shape mismatch {wrong[:5]}")
    policy.load_state_dict(state)
    policy.source = str(path)
    return policy.to(memory_format=torch.channels_last).eval()
