"""The report's sections: each states its question, shows its comparison table (ours
beside published, with verdicts), its figures with what to look at, and its raw
tables folded away; plus who the agent is and how to reproduce the study."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from behavstats.report.comparisons import Compared
from behavstats.report.html import comparison_table, esc, figure, key_values, raw_table
from behavstats.stats.multiplicity import SIGNIFICANT
from behavstats.study.folder import Study
from behavstats.study.pipeline import PARTS
from behavstats.study.pipeline import SECTIONS as STUDY_SECTIONS

SECTIONS = (*((key, section.title) for key, section in STUDY_SECTIONS.items()),
            ("reproduce", "Settings, seeds and versions"))
"""Section key -> heading, in report order: the study's declared sections, then how to
reproduce it."""


@dataclass(frozen=True)
class Figure:
    """A figure file of a part, its title and what to look at ('{tests}' in the
    caption: the size and name of the part's family of tests, `family`; of the family
    named `family` where the part tests several)."""

    part: str
    pattern: str
    title: str
    caption: str
    family: str = ""


@cache
def figure_specs() -> dict[str, list[Figure]]:
    """Each section's figures in order (package data, `pattern` may match several
    files)."""
    text = resources.files("behavstats").joinpath("data/report_figures.json").read_text()
    return {key: [Figure(**spec) for spec in specs]
            for key, specs in json.loads(text)["sections"].items()}




def family(study: Study, part: str, name: str = "") -> str:
    """'64 channel x method': how many tests the part's family holds and what they are
    (its `significant_tests` summary row; with `name`, the row of that family); ''
    without one."""
    summary = study.summary(part)
    row = summary[(summary["quantity"] == SIGNIFICANT)
                  & ((summary["condition"] == name) if name else True)]
    return "" if row.empty else f"{row['n'].iloc[0]:,.0f} {row['condition'].iloc[0]}"


def figures(study: Study, key: str) -> str:
    out = []
    for spec in figure_specs().get(key, ()):
        for path in sorted((study.path / spec.part).glob(spec.pattern)):
            level = "".join(ch for ch in path.stem if ch.isdigit())
            title = f"{spec.title}, level {level}" if "*" in spec.pattern else spec.title
            caption = spec.caption
            if "{tests}" in caption:
                caption = caption.replace("{tests}", family(study, spec.part, spec.family))
            out.append(figure(path, title, caption))
    return "".join(out)


def raw_tables(study: Study, key: str) -> str:
    """Every saved table of the section's parts, folded."""
    out = []
    for part in (p for p in PARTS if p.section == key):
        result = study.results[part.name]
        tables = result.tables() if hasattr(result, "tables") else {"table": result}
        for name, table in tables.items():
            if isinstance(table, pd.DataFrame) and not table.empty:
                out.append(raw_table(_plain(table), f"{part.name}_{name}",
                                     f"{part.name.replace('_', ' ')}: {name.replace('_', ' ')}"))
    return "".join(out)


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """List cells (episode paths) written as 'x y; x y' rather than Python reprs."""
    def cell(value):
        if hasattr(value, "__len__") and not isinstance(value, str):
            return "; ".join(" ".join(map(str, v)) if hasattr(v, "__len__") else str(v)
                             for v in value)
        return value
    return table.apply(lambda col: col.map(cell) if col.dtype == object else col)


def part_notes(study: Study, key: str) -> str:
    notes = []
    for part in (p for p in PARTS if p.section == key):
        record, error = study.records[part.name], study.errors[part.name]
        if error:
            notes.append(f"<p><b>The {part.name.replace('_', ' ')} part could not run:</b> "
                         f"{esc(error)}</p>")
        elif not record:
            notes.append(f'<p class="note">The {esc(part.name)} part has not been computed.'
                         "</p>")
        else:
            notes.append(f'<p class="note">{esc(part.name.replace("_", " "))}: computed in '
                         f'{record["seconds"]:.0f} s.</p>')
    return "".join(notes)


def section(study: Study, key: str, rows: list[Compared]) -> str:
    """One study section."""
    lead = STUDY_SECTIONS[key].lead
    return (f'<p class="question">{esc(STUDY_SECTIONS[key].question)}</p>'
            + (f'<p class="lead">{esc(lead)}</p>' if lead else "")
            + comparison_table(rows, key) + figures(study, key)
            + raw_tables(study, key) + part_notes(study, key))


def _text(value) -> str:
    """A settings value for a reader: lists as '0, 1000', the rest as is."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def _setting(value) -> str:
    """A settings value as HTML: a part's settings object as 'name = <code>value</code>;
    ...' (without the study's seed, mode and step limit, shown once above it), any
    other value as text."""
    if not isinstance(value, dict):
        return esc(_text(value))
    return "; ".join(f"{esc(k.replace('_', ' '))} = <code>{esc(_text(v))}</code>"
                     for k, v in value.items() if k not in ("seed", "mode", "max_steps"))


def agent(study: Study) -> str:
    """Who the agent is: policy, fingerprint, size, training, model card."""
    info = study.info
    meta = info.get("policy_metadata", {})
    training = meta.get("training", {})
    stages, inner = 0, training
    while inner:
        stages, stage = stages + 1, inner.get("cloning") or inner.get("ppo") or {}
        first, inner = stage, inner.get("warm_start")
    method = training.get("method", "unknown")
    region = (training.get("cloning") or training.get("ppo") or {}).get("region")
    rows = [("policy", f"<code>{esc(info.get('policy', '?'))}</code>"),
            ("fingerprint", f"<code>{esc(info.get('policy_fingerprint', '?'))}</code>"),
            ("network", f"IMPALA, scale {info.get('policy_scale', meta.get('scale', '?'))}, "
                        f"{info.get('policy_parameters', 0):,} parameters")]
    if training:
        rows.append(("training", esc(
            f"{method} ({stages} stage{'s' * (stages > 1)}); cheese in the top-right "
            f"{region} x {region} region (rand_region = {region}), {first.get('mode', '?')} "
            f"mode, training levels from {first.get('first_seed', 0):,}, so every study "
            "level is held out")))
    if info.get("model_card"):
        rows.append(("model card", f"<code>data/policies/{esc(info['model_card'])}</code>"))
    return key_values(rows, "agent")


def reproduce_command(study: Path, config: dict, policy: str) -> str | None:
    """The `behavstats study` command that recomputes a study of `config` (as saved in
    study.json): every option that changes a result (policy, seed, mode, --quick),
    quoted for a POSIX shell; None when its sizes are no preset of the command (set
    through `run_full_study`)."""
    from behavstats.study import StudyConfig, quick_config

    preset = (quick_config if config["quick"] else StudyConfig)(seed=config["seed"],
                                                                mode=config["mode"])
    if json.loads(json.dumps(preset.as_dict())) != config:
        return None
    return shlex.join(["behavstats", "study", "--policy", policy, "--out", study.name,
                       "--seed", str(config["seed"]), "--mode", config["mode"]] +
                      ["--quick"] * config["quick"])


def reproduce(study: Study) -> str:
    info = study.info
    if not info:
        return ""
    command = reproduce_command(study.path, info["config"], info["policy"])
    how = (f"<p>Re-run with <code>{esc(command)}</code> (finished parts are reused when "
           "their settings are unchanged).</p>" if command else
           "<p>Re-run with <code>run_full_study</code> and the settings below (its sizes "
           "are no preset of <code>behavstats study</code>).</p>")
    settings = [(k.replace("_", " "), _setting(v)) for k, v in info["config"].items()]
    versions = [(k, f"<code>{esc(v)}</code>") for k, v in info["versions"].items()]
    return (how + "<h3>Study settings</h3>" + key_values(settings, "settings")
            + "<h3>Versions</h3>" + key_values(versions))
