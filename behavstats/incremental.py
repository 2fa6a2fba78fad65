"""Exact incremental forward passes over many observations of the same maze.

Observations of one maze differ only in the few pixels around the mouse (a 1-2 px
box in hard mode). `Frames` pairs each observation with a base picture of its maze
(the maze without the mouse). The first stages of the network run once on each base
(`_BaseStore` keeps them, least recently used out); each observation then recomputes
only the window its changed pixels reach: +1 pixel per 3x3 convolution, halved (and
kept aligned to stride 2) by a max-pool. Windows are gathered from the base
activations with the recomputed values pasted in; positions off the map are set to
the padding value (0 before a convolution, -inf before a max-pool), so a convolution
with padding 0 over a window gives exactly the values of the full pass. Every row of
a batch gets a window of the same size, so a stage is one conv call over
(rows, C, h, w). Where a window would cover most of the map (`DENSE_FROM`), the rows
are made dense and the network continues normally (`advance`).

At scale 4 the 32x32 stages hold about half of the multiply-adds; they, and the
first 16x16 stages, run on windows of a few pixels.

The same windows serve an edit in the middle of the network that changes only a few
cells (a clamp at the vector layer): `RowBases` keeps each row's own unedited
activations after the edited layer, and `resume` reruns only what the changed cells
reach (block 2's second residual block and block 3's convolution and max-pool).
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from behavstats.policy import Policy, ResidualBlock, preprocess

DENSE_FROM = 0.6
"""A stage whose output window would cover more than this share of its map runs dense."""
MAX_CHANGE = 8
"""Rows whose changed pixels span more than this (in either direction) run dense."""
MIN_SCALE = 2
"""Narrower networks run plain: at scale 1 the windows' bookkeeping costs more than the
convolutions it saves (episodes of levels 0-999: 19.4 s plain, 21.6 s incremental);
at scale 4 the incremental pass is 2.3x faster (`benchmarks/incremental.py`)."""
STORE_BYTES = 1.5 * 2**30
"""Memory for base activations per policy (about 3 MB a maze at scale 4)."""


@dataclass(frozen=True)
class Frames:
    """Observations `obs` (N, 64, 64, 3) uint8, row r showing `bases[owner[r]]` (its
    maze without the mouse) with a few pixels changed. Any base is exact (the changed
    pixels are found by comparison); a close one makes the pass cheap. `keys` name the
    bases (default: a digest of their pixels)."""

    obs: np.ndarray
    bases: np.ndarray
    owner: np.ndarray
    keys: tuple = field(default=())

    def __post_init__(self):
        if not self.keys:
            object.__setattr__(self, "keys", tuple(map(picture_key, self.bases)))

    def __len__(self) -> int:
        return len(self.obs)

    def take(self, rows: np.ndarray) -> Frames:
        return Frames(self.obs[rows], self.bases, self.owner[rows], self.keys)


def worthwhile(policy: Policy) -> bool:
    """Whether `policy` is wide enough for incremental passes to pay (`MIN_SCALE`)."""
    return policy.scale >= MIN_SCALE


def picture_key(picture: np.ndarray) -> bytes:
    """A digest of a picture's pixels: the key of its base activations."""
    return hashlib.blake2b(np.ascontiguousarray(picture).tobytes(), digest_size=16).digest()


@dataclass
class _Window:
    """Values (n, C, h, w) of each row's activation on the box whose top-left corner is
    (r0[i], c0[i]) (may reach off the map); the rest equals the base."""

    values: torch.Tensor
    r0: torch.Tensor
    c0: torch.Tensor

    def size(self) -> tuple[int, int]:
        return tuple(self.values.shape[2:])


def _cells(values: torch.Tensor) -> torch.Tensor:
    """(n, C, h, w) -> (n * h * w, C), one row per position (a view when channels_last)."""
    return values.permute(0, 2, 3, 1).reshape(-1, values.shape[1])


def _crop(base: torch.Tensor, slots: torch.Tensor, r0: torch.Tensor, c0: torch.Tensor,
          size: tuple[int, int], window: _Window, pad: float) -> torch.Tensor:
    """(n, C, *size) boxes at (r0, c0) of each row's activation (base `base[slots]` with
    `window` pasted in), `pad` off the map; channels_last. Gathers and pastes whole
    channel vectors by flat position (index_select / index_copy_)."""
    side, (height, width), (h, w) = base.shape[-1], size, window.size()
    rows = r0[:, None] + torch.arange(height)
    cols = c0[:, None] + torch.arange(width)
    flat = (slots[:, None, None] * side + rows.clamp(0, side - 1)[:, :, None]) * side \
        + cols.clamp(0, side - 1)[:, None, :]
    out = _cells(base).index_select(0, flat.reshape(-1))
    pr = (window.r0 - r0)[:, None] + torch.arange(h)
    pc = (window.c0 - c0)[:, None] + torch.arange(w)
    local = (torch.arange(len(slots))[:, None, None] * height + pr[:, :, None]) * width \
        + pc[:, None, :]
    out.index_copy_(0, local.reshape(-1), _cells(window.values).to(out.dtype))
    off = ~(((rows >= 0) & (rows < side))[:, :, None] & ((cols >= 0) & (cols < side))[:, None, :])
    if off.any():
        out[off.reshape(-1)] = pad
    return out.view(len(slots), height, width, -1).permute(0, 3, 1, 2)


def _conv(conv: nn.Conv2d, base: torch.Tensor, slots: torch.Tensor, win: _Window) -> _Window:
    h, w = win.size()
    crop = _crop(base, slots, win.r0 - 2, win.c0 - 2, (h + 4, w + 4), win, 0.0)
    return _Window(F.conv2d(crop, conv.weight, conv.bias), win.r0 - 1, win.c0 - 1)


def _maxpool(base: torch.Tensor, slots: torch.Tensor, win: _Window) -> _Window:
    """3x3 / stride 2 / pad 1: output o reads inputs 2o-1 .. 2o+1."""
    (h, w), r0, c0 = win.size(), win.r0.div(2, rounding_mode="floor"), \
        win.c0.div(2, rounding_mode="floor")
    ho, wo = (h + 1) // 2 + 1, (w + 1) // 2 + 1
    crop = _crop(base, slots, 2 * r0 - 1, 2 * c0 - 1, (2 * ho + 1, 2 * wo + 1), win,
                 float("-inf"))
    return _Window(F.max_pool2d(crop, 3, 2), r0, c0)


def _residual(block: ResidualBlock, bases: tuple[torch.Tensor, torch.Tensor],
              slots: torch.Tensor, win: _Window) -> _Window:
    """relu, conv1, relu, conv2, + input; bases: the block's input and conv1 output."""
    base_x, base_h = bases
    (h, w), r0, c0 = win.size(), win.r0 - 2, win.c0 - 2
    x = _crop(base_x, slots, r0, c0, (h + 4, w + 4), win, 0.0)
    hidden = _Window(F.conv2d(torch.relu(x), block.conv1.weight, block.conv1.bias), r0 + 1,
                     c0 + 1)
    crop = _crop(base_h, slots, r0 - 1, c0 - 1, (h + 6, w + 6), hidden, 0.0)
    out = F.conv2d(torch.relu(crop), block.conv2.weight, block.conv2.bias) + x
    return _Window(out, r0, c0)


def _dense(base: torch.Tensor, slots: torch.Tensor, win: _Window) -> torch.Tensor:
    """Each row's whole activation: its base with the window's on-map values."""
    out = base.index_select(0, slots).contiguous(memory_format=torch.channels_last)
    side, (h, w) = out.shape[-1], win.size()
    rows = (win.r0[:, None] + torch.arange(h))[:, :, None]
    cols = (win.c0[:, None] + torch.arange(w))[:, None, :]
    flat = ((torch.arange(len(slots))[:, None, None] * side + rows) * side + cols).reshape(-1)
    inside = ((rows >= 0) & (rows < side) & (cols >= 0) & (cols < side)).reshape(-1)
    _cells(out).index_copy_(0, flat[inside], _cells(win.values)[inside].to(out.dtype))
    return out


@dataclass(frozen=True)
class _Stage:
    name: str
    module: nn.Module
    kind: str  # "conv", "maxpool" or "residual"


def _kind(module: nn.Module) -> str | None:
    if isinstance(module, ResidualBlock):
        return "residual"
    if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3) and \
            module.stride == (1, 1) and module.padding == (1, 1):
        return "conv"
    if isinstance(module, nn.MaxPool2d) and (module.kernel_size, module.stride,
                                             module.padding) == (3, 2, 1):
        return "maxpool"
    return None


def _grow(kind: str, size: tuple[int, int]) -> tuple[int, int]:
    """The window an input window of `size` gives at the stage's output."""
    if kind == "maxpool":
        return tuple((s + 1) // 2 + 1 for s in size)
    return tuple(s + (4 if kind == "residual" else 2) for s in size)


def _plan(policy: Policy) -> tuple[_Stage, ...]:
    """The leading stages that can run on windows: supported kinds, while a one-pixel
    change stays under `DENSE_FROM` of the map."""
    return _leading_stages(policy, policy.stage_names, 64)


def _leading_stages(policy: Policy, names: Sequence[str], side: int) -> tuple[_Stage, ...]:
    """The supported stages at the start of `names` (whose input map is side x side) that
    a one-pixel change reaches on less than `DENSE_FROM` of their map."""
    modules = dict(policy.named_modules())
    stages = []
    for name in names:
        kind = _kind(modules[name])
        if kind is None:
            break
        stages.append(_Stage(name, modules[name], kind))
    return _fitting(stages, (1, 1), side)


def _fitting(stages: Sequence[_Stage], size: tuple[int, int], side: int) -> tuple[_Stage, ...]:
    """The leading `stages` on which a change of `size` at their input (a side x side
    map) stays under `DENSE_FROM` of the map."""
    fitting = []
    for stage in stages:
        size, side = _grow(stage.kind, size), side // 2 if stage.kind == "maxpool" else side
        if size[0] * size[1] > DENSE_FROM * side * side:
            break
        fitting.append(stage)
    return tuple(fitting)


class _BaseStore:
    """Base activations of one policy: per recorded point (the image, every stage's
    output, each residual block's conv1 output) a (slots, C, H, W) tensor, together
    `STORE_BYTES` (more only when one batch holds more bases than that); least
    recently used bases give up their slots."""

    def __init__(self, policy: Policy):
        self.plan = _plan(policy)
        self.tensors: list[torch.Tensor] = []
        self.free: list[int] = []
        self.slots: OrderedDict = OrderedDict()
        self.version: tuple = ()

    def slots_of(self, policy: Policy, frames: Frames) -> torch.Tensor:
        """The slot of each row's base, computing the bases not yet stored."""
        version = (torch.is_autocast_enabled("cpu"),
                   *(p._version for p in policy.parameters()))
        if version != self.version:
            self.tensors, self.free, self.version = [], [], version
            self.slots.clear()
        used = sorted(set(frames.owner.tolist()))
        # one per key: bases of equal pictures (e.g. two episodes of one level) share a slot
        missing = list({frames.keys[b]: b for b in used if frames.keys[b] not in self.slots}
                       .values())
        for b in used:
            if frames.keys[b] in self.slots:
                self.slots.move_to_end(frames.keys[b])
        if missing:
            acts = self._compute(torch.as_tensor(frames.bases[missing]))
            free = self._free_slots(len(missing), acts, {frames.keys[b] for b in used})
            for tensor, values in zip(self.tensors, acts, strict=True):
                tensor[free] = values.to(tensor.dtype)
            for b, slot in zip(missing, free.tolist(), strict=True):
                self.slots[frames.keys[b]] = slot
        lookup = np.array([self.slots.get(k, -1) for k in frames.keys])
        return torch.as_tensor(lookup[frames.owner])

    def _free_slots(self, count: int, acts: list[torch.Tensor], keep: set) -> torch.Tensor:
        """`count` slots for new bases: never used ones first, then those of the least
        recently used bases not in `keep`. The tensors are allocated once at full size
        (untouched pages cost no memory), so filling the store copies nothing."""
        if not self.tensors:
            per_slot = sum(a[0].numel() * a.element_size() for a in acts)
            self._allocate(acts, max(int(STORE_BYTES // per_slot), 2 * count))
        for key in list(self.slots):
            if len(self.free) >= count:
                break
            if key not in keep:
                self.free.append(self.slots.pop(key))
        if len(self.free) < count:  # one batch holds more bases than the store
            self._allocate(acts, len(self.tensors[0]) + count - len(self.free))
        taken, self.free = self.free[:count], self.free[count:]
        return torch.as_tensor(taken)

    def _allocate(self, acts: list[torch.Tensor], capacity: int) -> None:
        """Room for `capacity` bases, keeping the stored ones."""
        old = len(self.tensors[0]) if self.tensors else 0
        grown = [torch.empty((capacity, *a.shape[1:]), dtype=a.dtype,
                             memory_format=torch.channels_last) for a in acts]
        for new, kept in zip(grown, self.tensors, strict=False):
            new[:old] = kept
        self.tensors = grown
        self.free += range(old, capacity)

    def _compute(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The recorded points of base pictures (uint8 (M, 64, 64, 3)), dense."""
        return _points(self.plan, preprocess(images))


def _points(stages: Sequence[_Stage], x: torch.Tensor) -> list[torch.Tensor]:
    """`x` and what `stages` make of it, dense: every stage's output and each residual
    block's conv1 output (the bases `_through` reads)."""
    points = [x]
    for stage in stages:
        if stage.kind == "residual":
            hidden, x = stage.module.hidden_and_output(x)
            points += [hidden, x]
        else:
            x = stage.module(x)
            points.append(x)
    return points


_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _store(policy: Policy) -> _BaseStore:
    if policy not in _STORES:
        _STORES[policy] = _BaseStore(policy)
    return _STORES[policy]


def _changed_boxes(frames: Frames) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners (n, 2) and sizes (n, 2) of each row's changed pixels (an
    unchanged row gets a 1-pixel box)."""
    obs = torch.as_tensor(frames.obs)
    return _boxes((obs != torch.as_tensor(frames.bases)[torch.as_tensor(frames.owner)]).any(-1))


def _boxes(changed: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Corners and sizes (n, 2) of the True entries of each (H, W) mask of `changed`."""
    corners, sizes = [], []
    for dim in (2, 1):
        hit = changed.any(dim).numpy()
        first = hit.argmax(1)
        last = hit.shape[1] - 1 - hit[:, ::-1].argmax(1)
        corners.append(first)
        sizes.append(np.where(hit.any(1), last - first + 1, 1))
    return np.stack(corners, 1), np.stack(sizes, 1)


def _hooked(stages: tuple[_Stage, ...]) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for s in stages
               for m in s.module.modules())


def advance(policy: Policy, frames: Frames, limit: int) -> tuple[str | None, torch.Tensor]:
    """Run at most the first `limit` stages on every row of `frames`, incrementally
    where it pays; returns the last stage run (None: none) and its dense output
    (rows in order), from which `Policy.forward_from` continues."""
    plan = _plan(policy)[:limit]
    corner, size = _changed_boxes(frames)
    small = (size <= MAX_CHANGE).all(1)
    if not plan or _hooked(plan) or not small.any():
        return None, preprocess(frames.obs)
    height, width = size[small].max(0)
    stages = _fitting(plan, (int(height), int(width)), 64)
    if not stages:
        return None, preprocess(frames.obs)
    inc = frames.take(np.flatnonzero(small))
    out = _run(policy, inc, stages, corner[small], (int(height), int(width)))
    if small.all():
        return stages[-1].name, out
    rest = policy.forward_from(None, preprocess(frames.obs[~small]), stages[-1].name)
    merged = out.new_empty((len(frames), *out.shape[1:])).contiguous(
        memory_format=torch.channels_last)
    merged[torch.as_tensor(small)] = out
    merged[torch.as_tensor(~small)] = rest.to(out.dtype)
    return stages[-1].name, merged


def _run(policy: Policy, frames: Frames, stages: list[_Stage], corner: np.ndarray,
         size: tuple[int, int]) -> torch.Tensor:
    store = _store(policy)
    slots = store.slots_of(policy, frames)
    pixels, r0, c0 = _box_values(torch.as_tensor(frames.obs), corner, size)
    return _through(stages, store.tensors, slots, _Window(preprocess(pixels), r0, c0))


def _box_values(maps: torch.Tensor, corner: np.ndarray, size: tuple[int, int]
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each row's (N, H, W, C) values on the box of `size` at its `corner`, and the
    corners as tensors (r0, c0). A box of the batch's size can reach past a row's map
    edge: those positions repeat the edge (the window's off-map part, which the
    stages pad or drop)."""
    r0, c0 = (torch.as_tensor(corner[:, i], dtype=torch.long) for i in (0, 1))
    rows = (r0[:, None] + torch.arange(size[0])).clamp(max=maps.shape[1] - 1)
    cols = (c0[:, None] + torch.arange(size[1])).clamp(max=maps.shape[2] - 1)
    return maps[torch.arange(len(maps))[:, None, None], rows[:, :, None], cols[:, None, :]], \
        r0, c0


def _through(stages: Sequence[_Stage], tensors: list[torch.Tensor], slots: torch.Tensor,
             win: _Window) -> torch.Tensor:
    """Run `win` (changes at the first stage's input) through `stages` against the bases
    `tensors[..][slots]` (the recorded points of `_points`), dense at the end."""
    point = 0
    for stage in stages:
        if stage.kind == "conv":
            win = _conv(stage.module, tensors[point], slots, win)
        elif stage.kind == "maxpool":
            win = _maxpool(tensors[point], slots, win)
        else:
            win = _residual(stage.module, (tensors[point], tensors[point + 1]), slots, win)
            point += 1
        point += 1
    return _dense(tensors[point], slots, win)


class RowBases:
    """The unedited activations of fixed rows at `start` (`acts`, e.g. a `LayerCache`'s)
    and, computed on first use, at the stages after it that a small edit at `start`
    reaches on windows. An edit that changes a few cells of `start` (a clamped cell)
    then reruns only those windows (`resume`), each row against its own activations."""

    def __init__(self, policy: Policy, start: str, acts: torch.Tensor):
        names = policy.stage_names
        self.acts = acts
        self.stages = _leading_stages(policy, names[names.index(start) + 1:], acts.shape[-1])
        self._points: list[torch.Tensor] | None = None

    def points(self) -> list[torch.Tensor]:
        if self._points is None:
            self._points = [p.contiguous(memory_format=torch.channels_last)
                            for p in _points(self.stages, self.acts)]
        return self._points


def resume(bases: RowBases, rows: np.ndarray, edited: torch.Tensor
           ) -> tuple[str, torch.Tensor] | None:
    """The rows `rows` of `bases`, edited at its start to `edited`, run through the
    stages after it on the windows the edit changed: the last stage run and its dense
    output (rows in order); None when the edit is too wide or there is no stage."""
    if not bases.stages or _hooked(bases.stages):
        return None
    slots = torch.as_tensor(rows)
    corner, size = _boxes((edited != bases.acts[slots]).any(1))
    if (size > MAX_CHANGE).any():
        return None
    box = tuple(int(v) for v in size.max(0))
    stages = _fitting(bases.stages, box, edited.shape[-1])
    if not stages:
        return None
    values, r0, c0 = _box_values(edited.permute(0, 2, 3, 1), corner, box)
    return stages[-1].name, _through(stages, bases.points(), slots,
                                     _Window(values.permute(0, 3, 1, 2), r0, c0))
