"""Reading and editing activations by module name.

`run_with_cache` records module outputs; interventions are small dataclasses applied
together by `apply_interventions` (also `policy.hooks(...)`), a context manager that
removes every hook in `finally`, so a policy can never stay modified:

    with policy.hooks(AddVector("embedder.block2.res1.resadd", cheese_vec, coeff=-1)):
        logits, _ = policy(x)

Each intervention maps a layer's output activation (N, C, H, W) to a new one.
Interventions on the same layer are applied in the order given. The layers themselves
(names, the module a hook goes on, unknown names) are the policy's
(`behavstats.policy.get_module`, `hook_module`, `apply_interventions`): this module
uses them and the policy never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from behavstats.policy import (
    UnknownLayerError,
    apply_interventions,
    get_module,
    hook_module,
    preprocess,
)
from behavstats.vocabulary import VECTOR_LAYER

__all__ = ["VECTOR_LAYER", "Ablate", "AddVector", "Patch", "ReplaceChannels", "SetCell",
           "UnknownLayerError", "apply_interventions", "get_module", "hook_module",
           "run_with_cache"]


def _as_batch(vector: torch.Tensor, activation: torch.Tensor) -> torch.Tensor:
    vector = vector.to(dtype=activation.dtype, device=activation.device)
    if vector.shape == activation.shape[1:] or vector.shape == activation.shape:
        return vector
    raise ValueError(f"vector of shape {tuple(vector.shape)} does not fit activations "
                     f"{tuple(activation.shape)}")


@dataclass(frozen=True)
class AddVector:
    """activation + coeff * vector; vector (C, H, W) for every sample or (N, C, H, W)."""

    layer: str
    vector: torch.Tensor
    coeff: float = 1.0

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        return activation + self.coeff * _as_batch(self.vector, activation)


@dataclass(frozen=True)
class SetCell:
    """Set activation[r, c, row, col] = value for each channel c; with `fill`, first set
    every other cell of those channels to `fill` (the retargeting clamp). row and col
    are ints (every sample) or (N,) integer tensors (one cell per sample); value a
    float or a (len(channels),) tensor (one per channel)."""

    layer: str
    channels: Sequence[int]
    row: int | torch.Tensor
    col: int | torch.Tensor
    value: float | torch.Tensor
    fill: float | None = None

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        out = activation.clone()
        channels = torch.as_tensor(list(self.channels), dtype=torch.long)
        if self.fill is not None:
            out[:, channels] = self.fill
        n = out.shape[0]
        rows, cols = (torch.as_tensor(v).expand(n)[:, None] for v in (self.row, self.col))
        values = torch.as_tensor(self.value).to(out.dtype).expand(len(channels))
        out[torch.arange(n)[:, None], channels[None, :], rows, cols] = values[None, :]
        return out


@dataclass(frozen=True)
class ReplaceChannels:
    """Replace `channels` with activations taken elsewhere (e.g. from another maze:
    resampling); `source` is (C', H, W) / (N, C', H, W) over the chosen channels,
    or the full (C, H, W) / (N, C, H, W) activation of which they are taken.
    `channels` may also be an (N, C) bool mask choosing each sample's own channels
    (then `source` is the full (N, C, H, W))."""

    layer: str
    channels: Sequence[int] | torch.Tensor
    source: torch.Tensor

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        out = activation.clone()  # keeps the memory layout the next layer expects
        if isinstance(self.channels, torch.Tensor) and self.channels.dtype == torch.bool:
            mask = self.channels[:, :, None, None]
            out.copy_(torch.where(mask, self.source.to(activation.dtype), activation))
            return out
        channels = list(self.channels)
        source = self.source
        channel_dim = source.ndim - 3
        if source.shape[channel_dim] == activation.shape[1] != len(channels):
            source = source.index_select(channel_dim, torch.tensor(channels))
        target_shape = (*activation.shape[:1], len(channels), *activation.shape[2:])
        out[:, channels] = _as_batch(source, torch.empty(target_shape, dtype=out.dtype))
        return out


@dataclass(frozen=True)
class Ablate:
    """Zero-ablation (mean=None) or mean-ablation of `channels` (all when None);
    `mean` is a (C, H, W) activation mean, e.g. over many mazes."""

    layer: str
    channels: Sequence[int] | None = None
    mean: torch.Tensor | None = None

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        out = activation.clone()
        channels = slice(None) if self.channels is None else list(self.channels)
        if self.mean is None:
            out[:, channels] = 0.0
        else:
            out[:, channels] = self.mean.to(out.dtype)[channels]
        return out


@dataclass(frozen=True)
class Patch:
    """Activation patching: where `mask` is True, the activation takes `source`'s value.
    `source` is (N, C, H, W) (one sample each) or (C, H, W); `mask` is a bool tensor
    broadcast against (N, C, H, W): (N, C, 1, 1) patches whole channels, (N, 1, H, W)
    cells with all their channels."""

    layer: str
    mask: torch.Tensor
    source: torch.Tensor

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        out = activation.clone()  # keeps the memory layout the next layer expects
        out.copy_(torch.where(self.mask, _as_batch(self.source, activation), activation))
        return out


def run_with_cache(model: nn.Module, x: torch.Tensor | np.ndarray, names: Iterable[str],
                   *interventions) -> tuple[tuple[torch.Tensor, torch.Tensor],
                                            dict[str, torch.Tensor]]:
    """Forward `x` (under optional interventions) recording the named modules'
    outputs; returns (model output, {name: activation}).

    x: observations as `env.observe` gives them and `engine.forward` takes (uint8,
    (N, 64, 64, 3)), or the network's own float input (N, 3, 64, 64)."""
    if isinstance(x, np.ndarray) or x.dtype == torch.uint8:
        x = preprocess(x)
    cache: dict[str, torch.Tensor] = {}
    modules = {name: hook_module(model, name) for name in names}
    with apply_interventions(model, *interventions):
        handles = []
        try:
            # registered after the interventions, so they see the edited activations
            for name, module in modules.items():
                handles.append(module.register_forward_hook(
                    lambda _m, _i, output, name=name: cache.__setitem__(name, output.detach())))
            with torch.no_grad():
                output = model(x)
        finally:
            for handle in handles:
                handle.remove()
    return output, cache
