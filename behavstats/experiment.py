"""Experiments as settings objects, the scikit-learn shape.

An experiment is a frozen dataclass of everything its numbers depend on besides the
policy and the levels; `run(policy, levels)` computes its Result, which carries the
settings back (`Result.settings`). The command line reads its option defaults from
the fields (`default`), the study holds one settings object per part and hashes it
(`to_dict`) into the part's cache key, so each default is written once:

    from behavstats import CheeseVector, load_policy
    result = CheeseVector(coeffs=(-1.0,)).run(load_policy(), range(100))
    result.settings == CheeseVector(coeffs=(-1.0,))

This module and the settings classes (`behavstats.experiments`) import neither torch
nor numpy: an experiment's implementation is imported when it runs.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from behavstats.vocabulary import DEFAULT_MODE


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Base of every settings object: frozen, keyword-only, a JSON round trip.
    Subclasses name their `implementation`, the "module:function" that computes their
    result (imported when it runs)."""

    implementation: ClassVar[str]

    def __post_init__(self) -> None:
        for f in fields(self):  # lists and ranges become tuples: equal settings are ==
            object.__setattr__(self, f.name, _frozen(getattr(self, f.name)))

    def _implementation(self):
        module, function = self.implementation.split(":")
        return getattr(importlib.import_module(module), function)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """The settings in `values` (e.g. a Result's params), ignoring other keys and
        defaulting missing ones."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of setting `name` (what the command line shows)."""
        field = next(f for f in fields(cls) if f.name == name)
        return field.default_factory() if field.default is MISSING else field.default


@dataclass(frozen=True, kw_only=True)
class Experiment(Settings):
    """Settings of an experiment on a policy and levels; every one has the procgen
    mode of level seeds and the seed of its random choices. Its `implementation` is
    called as function(settings, policy, levels, progress=..., **runtime) and returns
    the Result.

    mode: procgen distribution mode of level seeds: "hard" (the published agents') or
        "easy".
    seed: seed of the experiment's random choices.
    """

    mode: str = DEFAULT_MODE
    seed: int = 0

    def run(self, policy, levels, out_dir: str | Path | None = None, *,
            progress: bool = False, **runtime: Any):
        """The Result of this experiment on `policy` and `levels` (seeds or mazes); with
        `out_dir`, also written there (`Result.write`). `runtime` are keywords that
        change how, not what, is computed (batch sizes, an executor) or inputs from
        another experiment (a channel discovery)."""
        result = self._implementation()(self, policy, levels, progress=progress, **runtime)
        if out_dir is not None:
            result.write(out_dir)
        return result


def _frozen(value: Any) -> Any:
    """Lists, tuples, ranges and arrays as tuples (numbers as Python numbers), dicts'
    values likewise, recursively."""
    if hasattr(value, "tolist"):  # a numpy array or number
        value = value.tolist()
    if isinstance(value, list | tuple | range):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value
