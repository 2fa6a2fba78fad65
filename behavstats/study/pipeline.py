"""The one-command study, declared once as a graph of parts.

Each `Part` names its folder, the report section it belongs to, the parts whose
results it reads, the settings its result depends on, and how it is computed and
read back. `run_full_study` runs the parts in dependency order, each once: channel
discovery feeds retargeting and resampling, and the evaluation takes its vanilla
episodes from the episodes part. A part is reused on a re-run when its settings, its
inputs' settings and the policy's weights are unchanged (`parts.run_part`); the
report's sections come from `SECTIONS` and the parts' `section`.
"""

from __future__ import annotations

import graphlib
import platform
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from behavstats._version import __version__
from behavstats.errors import UserError
from behavstats.evaluation import EvaluationResult
from behavstats.interventions import (
    ChannelResult,
    CheeseVectorResult,
    ResampleResult,
    RetargetResult,
    TopRightResult,
)
from behavstats.io import read_json, write_json, write_parquet
from behavstats.maps.attribution import AttributionResult
from behavstats.maps.patching import PatchingResult
from behavstats.maps.value import ValueMapsResult
from behavstats.policy import Policy
from behavstats.results import Result
from behavstats.rollout import RolloutConfig, gather, policy_fingerprint
from behavstats.stats import StudyResult
from behavstats.study.config import StudyConfig, levels
from behavstats.study.parts import PartOutcome, run_part
from behavstats.study.schedule import run_side_by_side
from behavstats.sweeps import (
    AblationResult,
    LayerSweepResult,
    ProbeResult,
)


@dataclass(frozen=True)
class Section:
    """A report section: its heading, the question it answers and what a reader should
    know before reading its numbers (optional)."""

    title: str
    question: str
    lead: str = ""


SECTIONS = {
    "behaviour": Section("Where the agent goes", "How often does the agent get the cheese, "
                         "and where does it go instead?"),
    "regression": Section(
        "What predicts going to the cheese", "Which maze features predict that it goes to "
        "the cheese?",
        "Models are compared by held-out log-loss and ROC AUC, not by accuracy alone: a "
        "feature that sharpens every predicted probability without moving any across 0.5 "
        "leaves accuracy flat or lower, so choosing features by accuracy drops informative "
        "ones. The decision mazes are split once into two halves: the penalty, the "
        "feature selection and stability selection see only the selection half, and the "
        "selected model's scores, calibration and Logit come from the other half, so its "
        "p-values and intervals are not flattered by the search. The published "
        "four-feature model, fixed before these data, is fitted on all of them. "
        "Near-duplicate features in one model (the Euclidean and taxicab distances of the "
        "same two points) get large odds ratios of opposite sign that offset each other: "
        "read such pairs together."),
    "fields": Section("Vector fields of example mazes", "What would the agent do on every "
                      "free square of an example maze?"),
    "cheese_vector": Section("The cheese vector", "Does subtracting the cheese vector make "
                             "the agent ignore the cheese?"),
    "top_right_vector": Section("The top-right vector", "Does adding the top-right vector "
                                "send the agent to the top-right?"),
    "channels": Section("Cheese-tracking channels and retargeting", "Which channels track "
                        "the cheese, and does clamping them retarget the agent?"),
    "resample": Section("Resampling the cheese channels", "Do the cheese channels carry the "
                        "cheese's location?"),
    "layer_sweep": Section("Activation additions at every layer", "At which layer do the "
                           "cheese and top-right vectors steer, and where do they only "
                           "break the policy?"),
    "ablation": Section("Ablating each channel", "Which channels does the decision need, "
                        "beside how well they track the cheese?"),
    "patching": Section(
        "Activation patching", "Which channels and which cells of the layer carry the cheese "
        "into the decision at the decision square?",
        "Each maze with a decision square is run clean and as a corrupted twin (cheese moved "
        "off its branch, cheese removed, mouse back at the start, one wall opened off the "
        "paths). Patching one channel, or one cell with all its channels, of the clean run "
        "into the corrupted one (denoising) asks what suffices to bring the decision back; "
        "the reverse (noising) asks what it needs. 1 is the whole clean-corrupted "
        "difference, 0 nothing; mazes whose runs differ by less than a floor are left out "
        "and counted."),
    "probes": Section(
        "Linear probes", "What can a linear probe read from each layer, beyond what a "
        "random network of the same shape gives?",
        "Three kinds of probe: flattened (the whole layer, pooled, on observations along "
        "each episode's path), spatial (one classifier shared over a layer's cells: is the "
        "cheese here, is this cell on the path to it?) and early-decision (will this "
        "episode reach the cheese, read from its first observation, before any move, "
        "beside the mouse on the decision square and the published maze features). Each "
        "is scored on levels it was not fitted on, beside a control task and a random "
        "network: the random network, not chance, is the bar, since a picture's content "
        "is readable from random convolutional features too."),
    "attribution": Section(
        "Integrated gradients at the decision square", "Which pixels, places and channels "
        "of the vector layer does the choice at the decision square rest on?",
        "Integrated gradients (captum) of P(towards the cheese) and of the log-odds of the "
        "cheese move against the top-right move, with the mouse on the decision square, "
        "against two baselines: the same maze without its cheese (what the cheese does; "
        "in pixels this lies on the cheese by construction) and the open maze, walls and "
        "cheese removed (what the maze does). Attributions sum to the output difference "
        "up to the completeness gap; the steps double until the gap is within 5% of the "
        "difference (or 0.001), up to 512."),
    "value_maps": Section(
        "Value maps", "What value does the agent's value head give each square, with the "
        "cheese present, removed, and under the cheese vector?",
        "The value head's output with the mouse on each free square, beside the vector "
        "field. An agent trained only by behaviour cloning (the shipped ones) never "
        "trained its value head: its maps are then a fixed random read-out of the "
        "policy's features, not the return it expects; the rows say which."),
}
"""The report's sections in order (each part names its section)."""
ERROR = "error.json"
ANIMATED = 3
"""Example mazes animated (the first vector levels with a decision square)."""
ANIMATION_COEFF = -1.0
"""Cheese-vector coefficient of the animated episodes."""


@dataclass(frozen=True)
class PartRun:
    """What a part's `compute` is given: the policy and study settings, the folder to
    write into, and the loaded results of the part's inputs by name."""

    policy: Policy
    config: StudyConfig
    directory: Path
    inputs: dict[str, Any]
    executor: Executor | None
    progress: bool


@dataclass(frozen=True)
class Part:
    """One part of the study: `settings(config)` is what its result depends on (besides
    the policy, seed, mode and its inputs), `compute(run)` writes its result into
    `run.directory`, `load(directory)` reads it back for the parts that name it in
    `inputs` and for the report."""

    name: str
    section: str
    settings: Callable[[StudyConfig], dict]
    compute: Callable[[PartRun], None]
    load: Callable[[Path], Any]
    inputs: tuple[str, ...] = ()
    spreads: bool = False
    """Whether the part spreads its own work over the cores: the episodes' and the
    evaluation's shards over the executor, the regression's and the probes' fits over
    joblib's processes. Side by side, it runs in this process with every worker slot
    (a joblib pool started in a worker would outlive the part by joblib's idle timeout
    and hold up the executor's shutdown)."""


def _episodes(run: PartRun) -> None:
    config = run.config
    rollout = RolloutConfig(seed=config.seed, mode=config.mode, max_steps=config.max_steps)
    table = gather(run.policy, levels(config.episode_levels), run.directory / "shards",
                   rollout, executor=run.executor, progress=run.progress)
    write_parquet(table, run.directory / "episodes.parquet")


def _evaluation(run: PartRun) -> None:
    run.config.settings_of("evaluation").run(
        run.policy, levels(run.config.evaluation_levels), progress=run.progress,
        executor=run.executor, episodes_dir=run.directory / "episodes",
        vanilla=run.inputs["episodes"]).save(run.directory)


def _regression(run: PartRun) -> None:
    run.config.settings_of("regression").fit(run.inputs["episodes"], progress=run.progress
                                             ).write(run.directory)


def _fields(run: PartRun) -> None:
    write_example_fields(run.policy, run.config.example_levels, run.config.mode,
                         run.directory)


def _animations(run: PartRun) -> None:
    """Three example mazes' episodes, unedited beside the cheese vector (same seed)."""
    from behavstats.animation import animate
    from behavstats.geometry import decision_square
    from behavstats.maze.levels import LevelGenerator

    config, rows = run.config, []
    mazes = [m for m in LevelGenerator(config.mode).mazes(levels(config.vector_levels))
             if m.cheese is not None and decision_square(m) is not None][:ANIMATED]
    for maze in mazes:
        episodes = animate(run.policy, maze, run.directory / f"episode_level{maze.level}.gif",
                           cheese=ANIMATION_COEFF, seed=config.seed,
                           max_steps=config.max_steps)
        rows += [{"level": maze.level, "maze_dim": maze.maze_dim, "condition": e.label,
                  "steps": len(e.path) - 1, "reached_cheese": e.reached_cheese}
                 for e in episodes]
    write_parquet(pd.DataFrame(rows), run.directory / "episodes.parquet")


def experiment_part(name: str, section: str, levels_field: str, result: type[Result], *,
                    inputs: tuple[str, ...] = (), spreads: bool = False,
                    **from_inputs: str) -> Part:
    """The part of the experiment whose settings are `StudyConfig.<name>`, run on the
    levels `StudyConfig.<levels_field>`; `from_inputs` maps a keyword of its `run` to
    the input part whose result it takes (e.g. discovery="channels")."""
    def settings(config: StudyConfig) -> dict:
        return {"levels": getattr(config, levels_field),
                **config.settings_of(name).to_dict()}

    def compute(run: PartRun) -> None:
        run.config.settings_of(name).run(
            run.policy, levels(getattr(run.config, levels_field)), run.directory,
            progress=run.progress, **{k: run.inputs[v] for k, v in from_inputs.items()})

    return Part(name, section, settings, compute, result.load, inputs=inputs,
                spreads=spreads)


PARTS: tuple[Part, ...] = (
    Part("episodes", "behaviour",
         lambda c: {"levels": c.episode_levels, "max_steps": c.max_steps}, _episodes,
         lambda d: pd.read_parquet(d / "episodes.parquet"), spreads=True),
    Part("evaluation", "behaviour",
         lambda c: {"levels": c.evaluation_levels, **c.settings_of("evaluation").to_dict()},
         _evaluation, EvaluationResult.load, inputs=("episodes",), spreads=True),
    Part("regression", "regression", lambda c: c.settings_of("regression").to_dict(),
         _regression, StudyResult.load, inputs=("episodes",), spreads=True),
    Part("fields", "fields", lambda c: {"levels": c.example_levels}, _fields,
         lambda d: pd.read_parquet(d / "examples.parquet")),
    experiment_part("cheese_vector", "cheese_vector", "vector_levels", CheeseVectorResult),
    Part("animations", "cheese_vector",
         lambda c: {"levels": c.vector_levels, "max_steps": c.max_steps,
                    "count": ANIMATED, "coeff": ANIMATION_COEFF}, _animations,
         lambda d: pd.read_parquet(d / "episodes.parquet")),
    experiment_part("top_right_vector", "top_right_vector", "top_right_levels",
                    TopRightResult),
    experiment_part("channels", "channels", "channel_levels", ChannelResult),
    experiment_part("retarget", "channels", "retarget_levels", RetargetResult,
                    inputs=("channels",), discovery="channels"),
    experiment_part("resample", "resample", "resample_levels", ResampleResult,
                    inputs=("channels",), discovery="channels"),
    experiment_part("layer_sweep", "layer_sweep", "layer_sweep_levels", LayerSweepResult),
    experiment_part("ablation", "ablation", "ablation_levels", AblationResult,
                    inputs=("channels",), discovery="channels"),
    experiment_part("patching", "patching", "patching_levels", PatchingResult,
                    inputs=("channels", "ablation"), channels="channels",
                    ablation="ablation"),
    experiment_part("probes", "probes", "probe_levels", ProbeResult, spreads=True),
    experiment_part("attribution", "attribution", "attribution_levels", AttributionResult),
    experiment_part("value_maps", "value_maps", "value_levels", ValueMapsResult),
)
"""Every part of the study, in report order."""


def computation_order(parts: Sequence[Part]) -> list[Part]:
    """The parts, each after the parts it reads (`graphlib` raises on a cycle)."""
    by_name = {p.name: p for p in parts}
    order = graphlib.TopologicalSorter({p.name: p.inputs for p in parts}).static_order()
    return [by_name[name] for name in order]


def run_full_study(policy: Policy, policy_source: str, out_dir: str | Path,
                   config: StudyConfig | None = None, *, executor: Executor | None = None,
                   workers: int = 1, progress: bool = False,
                   log: Callable[[str], None] = print) -> list[PartOutcome]:
    """Run (or resume) every part into out_dir and write out_dir/study.json.

    With an `executor` of `workers` processes, parts run side by side (`run_parts`).
    The report is the next layer's: `behavstats.report.write_report(out_dir)` then
    writes out_dir/report.html, as `behavstats study` does after this."""
    config = config or StudyConfig()
    out_dir = Path(out_dir)
    outcomes = run_parts(policy, out_dir, config, PARTS, executor=executor, workers=workers,
                         progress=progress, log=log)
    write_json({"policy": policy_source, "policy_fingerprint": policy_fingerprint(policy),
                "policy_scale": policy.scale,
                "policy_parameters": sum(p.numel() for p in policy.parameters()),
                "model_card": model_card(policy_source), "policy_metadata": policy.metadata,
                "config": config.as_dict(),
                "versions": versions(), "parts": [vars(o) for o in outcomes]},
               out_dir / "study.json")
    return outcomes


def run_parts(policy: Policy, out_dir: Path, config: StudyConfig, parts: Sequence[Part], *,
              executor: Executor | None = None, workers: int = 1, progress: bool = False,
              log: Callable[[str], None] = print) -> list[PartOutcome]:
    """Run (or resume) `parts` into out_dir/<name>, each once and after its inputs;
    the outcomes in the order given. A part's settings hash covers its inputs'
    settings, so changing a part recomputes the parts that read it.

    With an `executor` and `workers` > 1 (the executor's processes), parts run side by
    side (`schedule.run_side_by_side`): each part of `PARTS` in a worker process with
    one torch thread and no progress bar, except the parts that spread their own work
    (`Part.spreads`), which run here with every worker to themselves. One part at a
    time otherwise."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = {"policy": policy_fingerprint(policy), "version": __version__,
            "seed": config.seed, "mode": config.mode}
    by_name = {p.name: p for p in parts}
    settings: dict[str, dict] = {}
    order = computation_order(parts)
    for declared in order:
        settings[declared.name] = {**base, **declared.settings(config),
                                   "inputs": {i: settings[i] for i in declared.inputs}}
    side_by_side = executor is not None and workers > 1

    def run(declared: Part) -> PartOutcome:
        in_worker = side_by_side and not declared.spreads and \
            _PARTS_BY_NAME.get(declared.name) is declared

        def compute(directory: Path) -> None:
            if in_worker:
                message = executor.submit(_compute_in_worker, declared.name, policy, config,
                                          out_dir).result()
                if message:
                    log(message)
                return
            inputs = _loaded_inputs(declared, out_dir, by_name)
            _recording_errors(declared, PartRun(policy, config, directory, inputs, executor,
                                                progress), log)

        return run_part(out_dir, declared.name, settings[declared.name], compute, log=log)

    if side_by_side:
        outcomes = run_side_by_side(parts, workers, run)
    else:
        outcomes = {p.name: run(p) for p in order}
    return [outcomes[p.name] for p in parts]


_PARTS_BY_NAME = {p.name: p for p in PARTS}
"""The study's parts by name: what a worker process looks a part up by (a part's
functions are not picklable)."""


def _compute_in_worker(name: str, policy: Policy, config: StudyConfig, out_dir: Path
                       ) -> str | None:
    """Worker side of `run_parts`: compute the part `name` of `PARTS` into
    out_dir/<name> with one torch thread; the message if it could not run."""
    import torch

    torch.set_num_threads(1)
    declared = _PARTS_BY_NAME[name]
    messages: list[str] = []
    _recording_errors(declared, PartRun(policy, config, out_dir / name,
                                        _loaded_inputs(declared, out_dir, _PARTS_BY_NAME),
                                        None, False), messages.append)
    return "\n".join(messages) or None


def _loaded_inputs(declared: Part, out_dir: Path, by_name: dict[str, Part]) -> dict[str, Any]:
    """The results of the part's inputs by name, leaving out those that could not run."""
    return {i: by_name[i].load(out_dir / i) for i in declared.inputs
            if not part_error(out_dir / i)}


def part_error(directory: Path) -> str | None:
    """Why the part in `directory` could not run, or None."""
    return read_json(directory / ERROR).get("message")


def _recording_errors(declared: Part, run: PartRun, log: Callable[[str], None]) -> None:
    """`declared.compute(run)`; a part whose data cannot support its analysis (e.g. too
    few episodes reached the cheese for a regression), or whose input could not run,
    finishes with error.json in its folder instead of stopping the study; the report
    shows the message."""
    try:
        missing = [name for name in declared.inputs if name not in run.inputs]
        if missing:
            raise UserError(f"needs the {', '.join(missing)} part, which could not run")
        declared.compute(run)
    except UserError as exc:
        log(f"[{declared.name}] could not run: {exc}")
        write_json({"error": type(exc).__name__, "message": str(exc)}, run.directory / ERROR)


def model_card(policy_source: str) -> str | None:
    """The model card shipped beside a policy file (<policy>.md), by name, or None."""
    from behavstats.policy import resolve_policy_path

    card = resolve_policy_path(policy_source).with_suffix(".md")
    return card.name if card.is_file() else None


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


def write_example_fields(policy: Policy, example_levels, mode: str, part: Path) -> None:
    """Vector fields of a few example levels: fields.parquet (every cell), one PNG per
    level and examples.parquet (level, maze_dim, n_cells, p_cheese, p_topright at the
    decision square, NaN without one)."""
    from behavstats.env import observe
    from behavstats.maze.levels import LevelGenerator
    from behavstats.plots import save_figure
    from behavstats.plots.vfield import plot_vector_field
    from behavstats.vfield import decision_probs, vector_fields

    mazes = list(LevelGenerator(mode).mazes(example_levels))
    computed = vector_fields(policy, mazes)
    frames, examples = [], []
    for maze, field, ob in zip(mazes, computed, observe(mazes), strict=True):
        frame = field.to_frame()
        frame.insert(0, "level", maze.level)
        frames.append(frame)
        probs = decision_probs(field) or {}
        examples.append({"level": maze.level, "maze_dim": maze.maze_dim,
                         "n_cells": len(field.cells),
                         "p_cheese": probs.get("p_cheese", float("nan")),
                         "p_topright": probs.get("p_topright", float("nan"))})
        title = f"level {maze.level} ({maze.maze_dim} x {maze.maze_dim})"
        if probs:
            title += f": P(cheese) {probs['p_cheese']:.2f}, P(top-right) " \
                     f"{probs['p_topright']:.2f} at the decision square"
        ax = plot_vector_field(field, observation=ob, title=title)
        save_figure(ax.figure, part / f"field_{maze.level}.png")
    write_parquet(pd.concat(frames, ignore_index=True), part / "fields.parquet")
    write_parquet(pd.DataFrame(examples), part / "examples.parquet")
