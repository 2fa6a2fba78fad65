"""The one batched forward engine: every module that runs the policy on many inputs
(vector fields, rollouts, interventions, evaluation, cloning's validation) calls it.

`forward` runs rows of inputs through the policy in batches, from the images or from
the cached output of any stage (`Policy.forward_from`), up to the logits or any layer,
under interventions that are the same for every row or given per batch of rows (a
`RowInterventions` callable, e.g. `AddVector` with a (rows, C, H, W) vector), so a
sweep over levels x coefficients is one batched pass. Edits at the layer a pass
starts from are applied to its inputs; later ones by hooks; earlier ones cannot
apply and raise. `LayerCache` keeps the activations of fixed observations before an
edited layer (about two thirds of the work at the vector layer) and continues every
edited pass from there. Inputs given as `Frames` (observations of mazes with their
pictures without the mouse) run their first stages incrementally, on the few pixels
each observation changes, up to the first edited layer (`behavstats.incremental`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from behavstats.incremental import Frames, RowBases, advance, resume, worthwhile
from behavstats.policy import (
    MOVE_NAMES,
    NUM_ACTIONS,
    Policy,
    hook_module,
    inference,
    move_probs,
    preprocess,
)

BATCH = 64
"""Rows per forward batch (32-64 are fastest on a CPU)."""
RowInterventions = Callable[[np.ndarray], Sequence]
"""Given the row numbers of one forward batch, the interventions for exactly those rows
(per-sample tensors are indexed by these rows)."""
Interventions = Sequence | RowInterventions


def forward(policy: Policy, inputs: np.ndarray | torch.Tensor,
            interventions: Interventions = (), *, start: str | None = None,
            stop: str | None = None, index: np.ndarray | None = None, batch: int = BATCH,
            bf16: bool = False, row_bases: RowBases | None = None) -> torch.Tensor:
    """Outputs of layer `stop` (default: the 15 policy logits), float32, one row per
    input row.

    inputs: uint8 observations (N, 64, 64, 3) when `start` is None, else activations
        (N, C, H, W) at the output of layer `start`, from which the network continues;
        or `Frames` (observations with their mazes' base pictures, e.g. from
        `env.frames`), run incrementally up to the first edit when the policy is wide
        enough for that to pay (`behavstats.incremental`).
    index: row r is `inputs[index[r]]` (default: every input once, in order).
    interventions: the same for every row, or a `RowInterventions` callable.
    bf16: bfloat16 autocast (see `inference`).
    row_bases: `inputs` (activations at `start`) with their unedited activations at
        the stages after it: edits at `start` that change a few cells (a clamp) then
        rerun only the windows they reach (`incremental.resume`; `LayerCache` passes
        its own).
    """
    index = np.arange(len(inputs)) if index is None else np.asarray(index)
    if isinstance(inputs, Frames) and not worthwhile(policy):
        inputs = inputs.obs
    if start is not None:
        inputs = torch.as_tensor(inputs)
    parts = []
    with inference(policy, bf16):
        for begin in range(0, len(index), batch):
            rows = np.arange(begin, min(begin + batch, len(index)))
            edits = interventions(rows) if callable(interventions) else interventions
            if isinstance(inputs, Frames):
                begin_at, x = advance(policy, inputs.take(index[rows]), _free_stages(
                    policy, edits, stop))
            else:
                begin_at = start
                x = inputs[index[rows]] if start is None else inputs[torch.as_tensor(index[rows])]
                if start is None:
                    x = preprocess(x)
                elif x.ndim == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
            resumable = None if row_bases is None else (row_bases, index[rows])
            parts.append(_one_pass(policy, x, edits, begin_at, stop, resumable).float())
    if parts:
        return torch.cat(parts)
    return torch.empty(0, NUM_ACTIONS) if stop is None else torch.empty(0)


def _one_pass(policy: Policy, x: torch.Tensor, edits: Sequence, start: str | None,
              stop: str | None, resumable: tuple[RowBases, np.ndarray] | None = None
              ) -> torch.Tensor:
    """One batch from the output of `start` to the output of `stop`, edited. With
    `resumable` (the row bases of `x` and its rows among them), edits at `start` that
    change only a few cells continue on windows (`incremental.resume`) when no later
    edit or recording needs the full maps."""
    begin = -1 if start is None else policy.stage_index(start)
    later, edited = [], False
    for edit in edits:
        at = policy.stage_index(edit.layer)
        if start is not None and policy.stage_of(edit.layer) == policy.stage_of(start):
            out = edit(x)
            x, edited = x if out is None else out, True
        elif at <= begin:
            raise ValueError(f"an edit at {edit.layer} cannot apply to a pass that starts "
                             f"from the activations of {start}")
        else:
            later.append(edit)
    if resumable is not None and edited and not later and stop is None:
        start, x = resume(*resumable, x) or (start, x)
    recorded: list[torch.Tensor] = []
    target = None if stop is None else policy.stage_of(stop)
    with policy.hooks(*later):
        if stop is None or target is not None:
            return policy.forward_from(start, x, stop)
        handle = hook_module(policy, stop).register_forward_hook(
            lambda _m, _i, output: recorded.append(output))
        try:
            policy.forward_from(start, x, policy.stage_names[policy.stage_index(stop)])
        finally:
            handle.remove()
    return recorded[0]


def _free_stages(policy: Policy, edits: Sequence, stop: str | None) -> int:
    """How many leading stages run before the first edit and up to `stop`: a pass may
    run a stage whose output is edited or recorded, not one an edit lies inside."""
    limits = [len(policy.stage_names)]
    for layer in [edit.layer for edit in edits] + ([stop] if stop else []):
        at = policy.stage_index(layer)
        limits.append(at + 1 if policy.stage_of(layer) is not None else at)
    return min(limits)


stage_index = Policy.stage_index
"""`stage_index(policy, layer)`: the old name of `Policy.stage_index`."""


def probs(policy: Policy, inputs: np.ndarray | torch.Tensor, interventions: Interventions = (),
          *, start: str | None = None, index: np.ndarray | None = None, batch: int = BATCH,
          bf16: bool = False, row_bases: RowBases | None = None) -> np.ndarray:
    """Move probabilities (rows, 5), columns `MOVE_NAMES`, of `forward`'s rows."""
    logits = forward(policy, inputs, interventions, start=start, index=index, batch=batch,
                     bf16=bf16, row_bases=row_bases)
    return move_probs(logits).numpy() if len(logits) else np.empty((0, len(MOVE_NAMES)),
                                                                    np.float32)


def activations(policy: Policy, obs: np.ndarray, layer: str, *, batch: int = BATCH
                ) -> torch.Tensor:
    """Output of `layer` (N, ...) , float32, for uint8 observations."""
    return forward(policy, obs, stop=layer, batch=batch)


class LayerCache:
    """Move probabilities of fixed observations under many edits at `layer` (and
    after it).

    The activations at the last stage output at or before `layer` (`start`) are
    computed once; each edited pass continues from them, so only the rest of the
    network runs. For a layer inside a stage (e.g. a residual block's conv1) that is
    the stage before, and the edit applies by a hook. For a wide enough policy, an
    edit that changes only a few cells of `start` (a clamp) reruns only the windows it
    reaches in the next stages, against each row's own unedited activations there
    (`incremental.RowBases`, computed on the first such edit).
    """

    def __init__(self, policy: Policy, obs: np.ndarray, layer: str, *, batch: int = BATCH):
        self.policy, self.layer, self.batch = policy, layer, batch
        at = policy.stage_index(layer)
        if policy.stage_of(layer) is None:
            at -= 1
        self.start = policy.stage_names[at] if at >= 0 else None
        self.acts = obs if self.start is None else activations(policy, obs, self.start,
                                                                batch=batch)
        self.row_bases = (RowBases(policy, self.start, self.acts) if self.start is not None
                          and self.acts.ndim == 4 and worthwhile(policy) else None)

    def __len__(self) -> int:
        return len(self.acts)

    def probs(self, interventions: Interventions = (), *, index: np.ndarray | None = None
              ) -> np.ndarray:
        """As `probs(policy, obs, interventions, index=index)`; an edit before the
        cache's layer raises ValueError."""
        return probs(self.policy, self.acts, interventions, start=self.start, index=index,
                     batch=self.batch, row_bases=self.row_bases)
