"""A whole training run: optional cloning warm start, then PPO, resumable by folder.

run_dir/cloning/ and run_dir/ppo/ hold each stage's checkpoint and log; the final
policy is run_dir/policy.pt and the learning curve run_dir/learning_curve.png.
Re-running on the same folder resumes the unfinished stage.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pandas as pd

from behavstats.errors import UserError
from behavstats.io import write_atomic
from behavstats.policy import Policy, load_policy
from behavstats.train.cloning import CloningConfig, train_cloning
from behavstats.train.ppo import PPOConfig, train_ppo


class ConfigFileError(UserError):
    """A training config file that is not JSON of the documented shape."""


def load_config_file(path: Path) -> tuple[dict, dict]:
    """A JSON file {"ppo": {...}, "cloning": {...}} of field overrides; malformed JSON,
    another shape or unknown names raise ConfigFileError (listing the valid names)."""
    try:
        data = json.loads(Path(path).read_text())
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ConfigFileError(f"{path} is not valid JSON: {exc}") from exc
    shape = '{"ppo": {...}, "cloning": {...}}'
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigFileError(f"{path} must hold a JSON object {shape}")
    unknown_sections = set(data) - {"ppo", "cloning"}
    if unknown_sections:
        raise ConfigFileError(f"{path}: unknown sections {sorted(unknown_sections)} (use ppo, "
                              "cloning)")
    for section, cls in (("ppo", PPOConfig), ("cloning", CloningConfig)):
        names = {f.name for f in dataclasses.fields(cls)}
        bad = set(data.get(section, {})) - names
        if bad:
            raise ConfigFileError(f"{path}: unknown {section} settings {sorted(bad)}; valid: "
                                  f"{sorted(names)}")
    return data.get("ppo", {}), data.get("cloning", {})


def train(run_dir: Path, ppo: PPOConfig, cloning: CloningConfig | None = None, *,
          progress: bool = True) -> Policy:
    """Train (or resume) into run_dir and return the final policy (the cloned one when
    PPO has a budget of 0 steps)."""
    run_dir = Path(run_dir)
    if cloning is not None:
        cloned = run_dir / "cloning" / "policy.pt"
        policy = load_policy(cloned) if cloned.exists() else \
            train_cloning(cloning, run_dir / "cloning", progress=progress)
        ppo = dataclasses.replace(ppo, init_policy=str(cloned))
    run_ppo = cloning is None or ppo.total_steps > 0
    if run_ppo:
        policy = train_ppo(ppo, run_dir / "ppo", progress=progress)
    final = run_dir / ("ppo" if run_ppo else "cloning")
    write_atomic(run_dir / "policy.pt", lambda tmp: shutil.copyfile(final / "policy.pt", tmp))
    write_learning_curve(run_dir)
    return policy


def write_learning_curve(run_dir: Path) -> Path | None:
    """run_dir/learning_curve.png from the PPO log (and the cloning log, if any), or
    from the cloning log alone when the run had no PPO stage."""
    from behavstats.plots import save_figure
    from behavstats.plots.training import plot_cloning_curve, plot_learning_curve

    ppo_log = run_dir / "ppo" / "ppo_log.csv"
    cloning_log = run_dir / "cloning" / "cloning_log.csv"
    cloning = pd.read_csv(cloning_log) if cloning_log.exists() else None
    if ppo_log.exists():
        ax = plot_learning_curve(pd.read_csv(ppo_log), cloning)
    elif cloning is not None:
        ax = plot_cloning_curve([cloning])
    else:
        return None
    return save_figure(ax.figure, run_dir / "learning_curve.png")
