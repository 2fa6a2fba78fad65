"""The one-command study: evaluate a policy, gather episodes, run the behavioural
regression and the activation-editing experiments, and write the report.

Every part writes into its own folder of the study directory (an experiment's typed
result: `Result.save` plus its figures, which the report loads with `ResultType.load`)
and is skipped on a re-run when its settings (and the policy's weights) are unchanged
(`parts.run_part`).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from behavstats import __version__
from behavstats.io import write_json, write_parquet
from behavstats.policy import Policy
from behavstats.rollout import RolloutConfig, gather, policy_fingerprint
from behavstats.study.config import StudyConfig, levels
from behavstats.study.parts import PartOutcome, run_part

PARTS = ("evaluation", "episodes", "regression", "fields", "cheese_vector",
         "top_right_vector", "channels", "retarget", "resample")


def run_full_study(policy: Policy, policy_source: str, out_dir: str | Path,
                   config: StudyConfig | None = None, *, executor: Executor | None = None,
                   progress: bool = False, log: Callable[[str], None] = print
                   ) -> list[PartOutcome]:
    """Run (or resume) every part into out_dir and write out_dir/report.html."""
    from behavstats.report import write_report

    config = config or StudyConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = {"policy": policy_fingerprint(policy), "version": __version__,
            "seed": config.seed, "mode": config.mode}
    parts = _parts(policy, config, executor, progress)
    outcomes = []
    for name in PARTS:
        settings, compute = parts[name]
        outcomes.append(run_part(out_dir, name, {**base, **settings},
                                 _recording_data_errors(compute, log), log=log))
    write_json({"policy": policy_source, "policy_fingerprint": base["policy"],
                "policy_metadata": policy.metadata, "config": config.as_dict(),
                "versions": versions(), "parts": [vars(o) for o in outcomes]},
               out_dir / "study.json")
    write_report(out_dir)
    return outcomes


def _recording_data_errors(compute: Callable[[Path], None], log: Callable[[str], None]
                           ) -> Callable[[Path], None]:
    """Let a part whose data cannot support its analysis (e.g. too few episodes reached
    the cheese for a regression) finish with part_dir/error.json instead of stopping
    the study; the report shows the message."""
    from behavstats.interventions import ChannelError, NoUsableLevelsError
    from behavstats.stats import StudyDataError

    def run(part: Path) -> None:
        try:
            compute(part)
        except (StudyDataError, NoUsableLevelsError, ChannelError) as exc:
            log(f"[{part.name}] could not run: {exc}")
            write_json({"error": type(exc).__name__, "message": str(exc)}, part / "error.json")

    return run


def versions() -> dict[str, str]:
    """Versions of everything the numbers depend on."""
    import numpy
    import procgen
    import sklearn
    import statsmodels
    import torch

    return {"behavstats": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
            "procgen": getattr(procgen, "__version__", "0.10.7")}


def _parts(policy: Policy, config: StudyConfig, executor: Executor | None, progress: bool
           ) -> dict[str, tuple[dict, Callable[[Path], None]]]:
    """name -> (settings that determine the part's result, compute(part_dir))."""
    from behavstats import interventions as iv
    from behavstats.evaluate import evaluate
    from behavstats.stats import run_study
    from behavstats.stats.study import PUBLISHED_MODEL

    seed, mode = config.seed, config.mode
    episodes_settings = {"levels": config.episode_levels, "max_steps": config.max_steps}

    def evaluation(part: Path) -> None:
        evaluate(policy, levels(config.evaluation_levels), seed=seed, mode=mode,
                 max_steps=config.max_steps, progress=progress, executor=executor,
                 out_dir=part / "episodes").save(part)

    def episodes(part: Path) -> None:
        rollout = RolloutConfig(seed=seed, mode=mode, max_steps=config.max_steps)
        table = gather(policy, levels(config.episode_levels), part / "shards", rollout,
                       executor=executor, progress=progress)
        write_parquet(table, part / "episodes.parquet")

    def regression(part: Path) -> None:
        table = pd.read_parquet(part.parent / "episodes" / "episodes.parquet")
        run_study(table, n_splits=config.regression_splits, seed=seed,
                  n_subsets=config.regression_subsets, progress=progress).write(part)

    def fields(part: Path) -> None:
        write_example_fields(policy, config.example_levels, mode, part)

    common = {"mode": mode, "seed": seed, "progress": progress}
    return {
        "evaluation": ({"levels": config.evaluation_levels, "max_steps": config.max_steps},
                       evaluation),
        "episodes": (episodes_settings, episodes),
        "regression": ({"episodes": episodes_settings, "splits": config.regression_splits,
                        "subsets": config.regression_subsets,
                        "published_model": PUBLISHED_MODEL}, regression),
        "fields": ({"levels": config.example_levels}, fields),
        "cheese_vector": ({"levels": config.vector_levels}, lambda part: iv.run_cheese_vector(
            policy, levels(config.vector_levels), part, **common)),
        "top_right_vector": ({"levels": config.top_right_levels},
                             lambda part: iv.run_top_right_vector(
                                 policy, levels(config.top_right_levels), part, **common)),
        "channels": ({"levels": config.channel_levels}, lambda part: iv.run_channels(
            policy, levels(config.channel_levels), part, **common)),
        "retarget": ({"levels": config.retarget_levels, "channels": config.channel_levels,
                      "rollouts": config.retarget_rollouts},
                     lambda part: iv.run_retarget(
                         policy, levels(config.retarget_levels), part,
                         n_rollouts=config.retarget_rollouts,
                         discovery_levels=levels(config.channel_levels), **common)),
        "resample": ({"levels": config.resample_levels, "channels": config.channel_levels},
                     lambda part: iv.run_resample(
                         policy, levels(config.resample_levels), part,
                         discovery_levels=levels(config.channel_levels), **common)),
    }


def write_example_fields(policy: Policy, example_levels, mode: str, part: Path) -> None:
    """Vector fields of a few example levels: fields.parquet and one PNG per level."""
    from behavstats.env import observe
    from behavstats.maze.levels import LevelGenerator
    from behavstats.plots import save_figure
    from behavstats.plots.vfield import plot_vector_field
    from behavstats.vfield import decision_probs, vector_fields

    mazes = list(LevelGenerator(mode).mazes(example_levels))
    computed = vector_fields(policy, mazes)
    frames = []
    for maze, field, ob in zip(mazes, computed, observe(mazes), strict=True):
        frame = field.to_frame()
        frame.insert(0, "level", maze.level)
        frames.append(frame)
        probs = decision_probs(field)
        title = f"level {maze.level} ({maze.maze_dim}x{maze.maze_dim})"
        if probs:
            title += f": P(cheese) {probs['p_cheese']:.2f}, P(top-right) " \
                     f"{probs['p_topright']:.2f} at the decision square"
        ax = plot_vector_field(field, observation=ob, title=title)
        save_figure(ax.figure, part / f"field_{maze.level}.png")
    write_parquet(pd.concat(frames, ignore_index=True), part / "fields.parquet")
