"""The IMPALA maze policy with the published module names, checkpoints, and moves.

Architecture (Langosco et al.'s maze agents): three blocks of conv 3x3 -> maxpool
3x3/2 -> two residual blocks (relu, conv, relu, conv, add), widths 16s, 32s, 32s;
relu, flatten, linear to 256, relu; a policy head of 15 logits and a value head.
Module names match the published checkpoints (`embedder.block2.res1.resadd`, ...),
so their state dicts load unchanged and hooks use the published layer names.
Inputs are float images (N, 3, 64, 64) in [0, 1]; `preprocess` makes them from
procgen's uint8 (N, 64, 64, 3).

The policy owns its layers: a name's module (`get_module`, which suggests close names
for a wrong one), the module a hook on it goes on (`hook_module`), the order of the
stages a pass runs (`Policy.stage_names`, `stage_of`, `stage_index`) and the context
manager that owns the hooks (`apply_interventions`, `Policy.hooks`). `behavstats.hooks`
(the interventions) and the engine build on these; nothing here imports them.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn

from behavstats.errors import UserError
from behavstats.io import write_atomic
from behavstats.maze.model import MOVE_NAMES
from behavstats.vocabulary import HIDDEN_LAYER

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


class CheckpointError(UserError):
    """A policy file that cannot be loaded: not a checkpoint, or wrong contents."""


class UnknownLayerError(UserError, KeyError):
    """A layer name that is not a module of the policy."""

    def __str__(self) -> str:
        return str(self.args[0])


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.resadd = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden_and_output(x)[1]

    def hidden_and_output(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """conv1's output and the block's output: the block written once, for the
        incremental engine, which keeps both."""
        hidden = self.conv1(self.relu1(x))
        return hidden, self.resadd(self.conv2(self.relu2(hidden)) + x)


class Chain(nn.Module):
    """A module that runs its children named in `chain` one after the other. The
    IMPALA blocks and the embedder are chains, so the network's forward pass is
    written once and `Policy.stage_names` can cut it anywhere between stages."""

    chain: tuple[str, ...] = ()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.chain:
            x = getattr(self, name)(x)
        return x


class ImpalaBlock(Chain):
    chain = ("conv", "maxpool", "res1", "res2")

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.res1 = ResidualBlock(out_channels)
        self.res2 = ResidualBlock(out_channels)


class Embedder(Chain):
    chain = ("block1", "block2", "block3", "relu3", "flatten", "fc", "relufc")

    def __init__(self, scale: int):
        super().__init__()
        self.block1 = ImpalaBlock(3, 16 * scale)
        self.block2 = ImpalaBlock(16 * scale, 32 * scale)
        self.block3 = ImpalaBlock(32 * scale, 32 * scale)
        self.relu3 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * scale * 8 * 8, 256)
        self.relufc = nn.ReLU()


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
        hidden = self.forward_from(None, x, stop=HIDDEN_LAYER)
        return self.fc_policy(hidden), self.fc_value(hidden).squeeze(-1)

    @cached_property
    def stage_names(self) -> tuple[str, ...]:
        """The modules the policy-logit pass runs, in order: each IMPALA block's conv,
        maxpool, res1 and res2, then relu3, flatten, fc, relufc and fc_policy. A pass
        can stop after any stage and continue from its output (`forward_from`)."""
        def leaves(module: Chain, prefix: str) -> Iterator[str]:
            for name in module.chain:
                child = getattr(module, name)
                yield from (leaves(child, f"{prefix}{name}.") if isinstance(child, Chain)
                            else (f"{prefix}{name}",))

        return (*leaves(self.embedder, "embedder."), "fc_policy")

    def stage_of(self, layer: str) -> str | None:
        """The stage whose output is `layer`'s output (a residual block's `resadd` is
        the block's; a chain's, such as `embedder.block2`, its last stage's), or None
        for a layer inside a stage (e.g. a residual block's conv1) or the value head.
        UnknownLayerError for a name that is not a module."""
        module = get_module(self, layer)
        if isinstance(module, ResidualBlock) or layer.endswith(".resadd"):
            layer = layer.removesuffix(".resadd")
        while isinstance(module, Chain):
            layer = f"{layer}.{module.chain[-1]}"
            module = getattr(module, module.chain[-1])
        return layer if layer in self.stage_names else None

    def stage_index(self, layer: str) -> int:
        """Position in `stage_names` of the stage whose output is `layer`, or that
        contains it (a residual block's conv1 lies in the block's stage)."""
        stage = self.stage_of(layer)
        if stage is not None:
            return self.stage_names.index(stage)
        for i, name in enumerate(self.stage_names):
            if layer.startswith(f"{name}."):
                return i
        raise ValueError(f"{layer} is not on the path to the policy logits")

    def has_channel_maps(self, layer: str) -> bool:
        """Whether `layer`'s output is (N, C, H, W) channel maps on the way to the policy
        logits: a layer of the IMPALA blocks, before `embedder.flatten`."""
        try:
            return self.stage_index(layer) < self.stage_names.index("embedder.flatten")
        except ValueError:  # not on the path to the logits (the value head)
            return False

    def forward_from(self, layer: str | None, acts: torch.Tensor, stop: str | None = None
                     ) -> torch.Tensor:
        """Continue the network from the output `acts` of `layer` (None: from input
        images) to the output of `stop` (default: the 15 policy logits). Both must be
        stage outputs (`stage_of`), `stop` not before `layer`; hooks on the modules run
        fire as in a full pass."""
        names = self.stage_names
        begin = 0 if layer is None else names.index(self._stage(layer)) + 1
        end = names.index(self._stage(stop or "fc_policy")) + 1
        if end < begin:
            raise ValueError(f"cannot run from {layer} back to {stop}")
        modules = self._stage_modules
        for name in names[begin:end]:
            acts = modules[name](acts)
        return acts

    def _stage(self, layer: str) -> str:
        stage = self.stage_of(layer)
        if stage is None:
            raise ValueError(f"{layer} lies inside a stage of the network; a pass can start or "
                             f"stop only at a stage output: {', '.join(self.stage_names)}")
        return stage

    @cached_property
    def _stage_modules(self) -> dict[str, nn.Module]:
        modules = dict(self.named_modules())
        return {name: modules[name] for name in self.stage_names}

    @property
    def training_region(self) -> int | None:
        """n of the top-right n x n region its training drew the cheese from (PPO's
        setting, else cloning's), or None for a policy without our training record
        (e.g. a published checkpoint, whose name says its n)."""
        training = self.metadata.get("training") or {}
        setup = training.get("ppo") or training.get("cloning") or {}
        return setup.get("region")

    def hooks(self, *interventions):
        """Context manager applying interventions (`behavstats.hooks`) while it lasts
        (`apply_interventions`)."""
        return apply_interventions(self, *interventions)


def get_module(model: nn.Module, name: str) -> nn.Module:
    """The module called `name`, or UnknownLayerError listing close names."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name]
    close = difflib.get_close_matches(name, [n for n in modules if n], n=5, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownLayerError(f"no layer named {name!r} in the policy.{hint} Layer names are "
                            "module names such as 'embedder.block2.res1.resadd'.")


def hook_module(model: nn.Module, name: str) -> nn.Module:
    """The module whose output is layer `name`'s output and whose forward hooks fire:
    for a chain (an IMPALA block, the embedder) its last stage, since the policy runs
    the stages one by one and never calls the chain itself."""
    module = get_module(model, name)
    while isinstance(module, Chain):
        module = getattr(module, module.chain[-1])
    return module


@contextmanager
def apply_interventions(model: nn.Module, *interventions) -> Iterator[nn.Module]:
    """Apply interventions (callables on a layer's output with a `layer` name, such as
    `behavstats.hooks.AddVector`) during the `with` block; always removes its hooks."""
    handles = []
    try:
        for intervention in interventions:
            module = hook_module(model, intervention.layer)
            handles.append(module.register_forward_hook(
                lambda _m, _inputs, output, f=intervention: f(output)))
        yield model
    finally:
        for handle in handles:
            handle.remove()


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


def widen(policy: Policy, factor: int) -> Policy:
    """The same function at `factor` times the scale: every hidden channel repeated
    `factor` times and the weights reading them divided by `factor`, so logits agree
    to float rounding. Gives published-size (scale 4) copies of a trained scale-1
    agent for tests and benchmarks."""
    wide = Policy(policy.scale * factor, metadata={**policy.metadata,
                                                   "scale": policy.scale * factor})
    state = {}
    for name, value in policy.state_dict().items():
        value = value.detach().float()
        if name.startswith("embedder.block") or name.startswith("embedder.fc."):
            if not name.startswith("embedder.fc."):
                value = value.repeat_interleave(factor, 0)
            reads_hidden = value.ndim > 1 and not name.startswith("embedder.block1.conv.")
            if name.startswith("embedder.fc.weight"):
                value = value.reshape(len(value), -1, 8, 8)
            if reads_hidden:
                value = value.repeat_interleave(factor, 1) / factor
        state[name] = value.reshape(wide.state_dict()[name].shape)
    wide.load_state_dict(state)
    return wide.to(memory_format=torch.channels_last).eval()


def parameter_count(policy: Policy) -> int:
    return sum(p.numel() for p in policy.parameters())


def save_policy(policy: Policy, path: str | Path, **extra) -> Path:
    """Write `policy` in the published layout `{"model_state_dict": ...}` plus our
    metadata entry, atomically (temp file + rename)."""
    metadata = {**policy.metadata, "scale": policy.scale, "num_actions": NUM_ACTIONS}
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


ACCEPTED = ("a policy file is a torch checkpoint dict with 'model_state_dict' of an IMPALA "
            "maze policy, loaded with weights_only=True")


def _unreadable(path: Path, exc: Exception) -> str:
    """What a file that torch.load(weights_only=True) refused is, in a few words
    (torch's own message advises weights_only=False, which would run the file's code)."""
    unsupported = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    if unsupported:
        return f"a torch file holding objects other than tensors ({unsupported[1]})"
    with path.open("rb") as file:
        head = file.read(2)
    if not head:
        return "an empty file"
    if head in (b"PK", b"\x80\x02"):  # torch's zip format, its legacy pickle format
        return "a truncated or damaged torch file"
    return "not a torch file"


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
        raise CheckpointError(f"{path} is {_unreadable(path, exc)}; {ACCEPTED}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("model_state_dict"), dict):
        keys = list(payload)[:5] if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} holds no 'model_state_dict' (found {keys}); {ACCEPTED}")
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
