"""The model card of a trained policy: training distribution, method, compute, curve
and evaluation, written as Markdown next to the policy file."""

from __future__ import annotations

from pathlib import Path

from behavstats.errors import UserError
from behavstats.evaluation import EvaluationResult
from behavstats.io import write_atomic
from behavstats.policy import Policy, parameter_count


def model_card(policy: Policy, evaluation: EvaluationResult, *, name: str,
               curve: str | None = None,
               notes: str = "") -> str:
    """Markdown model card from the policy's training metadata and an `evaluate` result."""
    training = policy.metadata.get("training", {})
    ppo = training.get("ppo", {})
    region = policy.training_region or "?"
    table = _markdown_table(evaluation.table())
    params = evaluation.params
    d, misses = (evaluation.decision.set_index("group").loc[g] for g in ("decision mazes",
                                                                         "misses"))
    stages = []  # cloning stages, last first: each may continue an earlier policy
    record = training
    while record and record.get("cloning"):
        stages.append(record)
        record = record.get("warm_start")
    first_seed = min([s["cloning"]["first_seed"] for s in stages] +
                     ([ppo["first_seed"]] if ppo else []), default=0)
    lines = [
        f"# {name}",
        "",
        f"IMPALA maze policy, scale {policy.scale} ({parameter_count(policy):,} parameters), "
        "published module names and checkpoint layout (`{\"model_state_dict\": ...}` plus a "
        "`behavstats` metadata entry).",
        "",
        "## Training",
        "",
        f"- Distribution: procgen maze, hard mode, cheese drawn uniformly from the free cells of "
        f"the maze's top-right {region} x {region} region at every reset (`rand_region = "
        f"{region}`); training level seeds from {first_seed:,} on, so evaluation levels "
        "0-99,999 are unseen.",
        f"- Method: {training.get('method', '?')}"
        f"{f' ({len(stages)} cloning stages)' if len(stages) > 1 else ''}.",
    ]
    for number, stage in enumerate(reversed(stages), start=1):
        lines.append(_cloning_line(stage, number if len(stages) > 1 else None))
    if ppo:
        lines.append(
            f"- PPO: {training.get('ppo_steps', 0):,} environment steps in "
            f"{training.get('ppo_seconds', 0) / 60:.0f} minutes; {ppo['num_envs']} envs x "
            f"{ppo['num_steps']} steps per rollout, {ppo['update_epochs']} epochs, "
            f"{ppo['num_minibatches']} minibatches, gamma {ppo['gamma']}, lambda "
            f"{ppo['gae_lambda']}, lr {ppo['lr']}, clip {ppo['clip_coef']}, entropy "
            f"{ppo['ent_coef']}, value warm-up {ppo['value_warmup_updates']} updates, reward "
            f"normalisation {ppo['normalize_reward']}, seed {ppo['seed']}.")
    lines += ["- Machine: 2 CPU cores, no GPU.", ""]
    if curve:
        lines += [f"![learning curve]({curve})", ""]
    lines += [
        "## Evaluation",
        "",
        f"Levels `{params['levels']}` (held out), one episode "
        f"each, sampling from the policy, {params['max_steps']}-step limit, seed "
        f"{params['seed']} (`behavstats evaluate`). Share of episodes that reached the "
        "cheese, by maze size:",
        "",
        table,
        "",
        f"Vanilla mazes with a decision square and the cheese outside the top-right 5x5 "
        f"(n = {int(d.n)}): reached the cheese {d.reached_cheese:.1%}, the top-right cell "
        f"{d.reached_top_right:.1%}, the top-right 5x5 {d.reached_tr5:.1%}. Of the "
        f"{int(misses.n)} episodes that missed the cheese, {misses.reached_top_right:.1%} "
        f"reached the top-right cell and {misses.reached_tr5:.1%} the top-right 5x5. "
        "(Published `rand_region = 5` agent: about 70% reach the cheese, and it goes to the "
        "top-right otherwise.)",
        "",
        "```json",
        evaluation.to_json(),
        "```",
    ]
    if notes:
        lines += ["", "## Notes", "", notes]
    return "\n".join(lines) + "\n"


def _cloning_line(stage: dict, number: int | None) -> str:
    """One cloning stage of a policy's training record, as a Markdown list item."""
    cloning = stage["cloning"]
    start = "from the previous stage's weights" if cloning.get("init_policy") else \
        "from random weights"
    return (
        f"- Cloning{f' stage {number}' if number else ''} ({start}): shortest-path expert "
        f"labels at every free cell of {cloning['chunks'] * cloning['chunk_mazes']:,} mazes "
        f"with the cheese in the top-right {cloning['region']} x {cloning['region']} "
        f"(level seeds from {cloning['first_seed']:,}; {cloning['chunks']} chunks of "
        f"{cloning['chunk_mazes']} mazes, {cloning['passes']} passes each), mouse mirroring "
        f"randomised, {stage.get('cloning_samples', 0):,} samples, batch {cloning['batch']}, "
        f"Adam lr {cloning['lr']} (warm-up {cloning['warmup_steps']}, cosine), bf16 autocast "
        f"{cloning['bf16']}, {stage.get('cloning_seconds', 0) / 60:.0f} minutes.")


def _markdown_table(frame) -> str:
    """A DataFrame as a Markdown table (floats with 3 decimals, n as an integer)."""
    def cell(value) -> str:
        return f"{value:.3f}" if isinstance(value, float) and not float(value).is_integer() \
            else f"{int(value)}" if isinstance(value, float) else str(value)

    header = "| | " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|---" * (len(frame.columns) + 1) + "|"
    rows = ["| " + str(index) + " | " + " | ".join(cell(v) for v in row) + " |"
            for index, row in zip(frame.index, frame.itertuples(index=False), strict=True)]
    return "\n".join([header, rule, *rows])


def write_model_card(policy: Policy, evaluation: EvaluationResult, path: Path, *,
                     stage_runs: list[Path] = (), **kwargs) -> Path:
    """Write the card to `path`; with `stage_runs` (the `behavstats train --out` directories
    of the policy's cloning stages, first stage first) also draw their held-out accuracy
    end to end into `<card stem>_curve.png` beside it and show it in the card."""
    if stage_runs:
        kwargs["curve"] = write_stage_curve(stage_runs, path.with_name(f"{path.stem}_curve.png"))\
            .name
    text = model_card(policy, evaluation, **kwargs)
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def cloning_logs(stage_runs: list[Path]) -> list[Path]:
    """The cloning log of each training run, or UserError naming a run without one."""
    logs = [Path(run) / "cloning" / "cloning_log.csv" for run in stage_runs]
    for run, log in zip(stage_runs, logs, strict=True):
        if not log.is_file():
            raise UserError(f"{run} has no cloning log ({log}); pass the `behavstats train "
                            "--out` directories of the stages")
    return logs


def write_stage_curve(stage_runs: list[Path], path: Path) -> Path:
    """The cloning logs of several training runs that continue each other, drawn end to
    end."""
    import pandas as pd

    from behavstats.plots import save_figure
    from behavstats.plots.training import plot_cloning_curve

    logs = [pd.read_csv(log) for log in cloning_logs(stage_runs)]
    return save_figure(plot_cloning_curve(logs).figure, path)
