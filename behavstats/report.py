"""Assemble a study directory into one self-contained HTML report.

Reads only files: each part's typed result (`ResultType.load(part_dir)`), rendered
from its `summary()` (the published figures joined beside ours) and its tables, plus
the PNG figures, so a finished study can be re-rendered without recomputing anything.
Figures are embedded as base64 PNGs and there are no external links to load: the
report opens offline. Every section shows what was published for Langosco et al.'s
agent beside ours.
"""

from __future__ import annotations

import base64
import html
import json
import shlex
from pathlib import Path

import pandas as pd

from behavstats.evaluate import EvaluationResult, decision_behaviour
from behavstats.interventions import (
    ChannelResult,
    CheeseVectorResult,
    ResampleResult,
    RetargetResult,
    TopRightResult,
)
from behavstats.io import read_json, write_atomic
from behavstats.quantities import label
from behavstats.reference import published_notes, reference_results
from behavstats.results import PARAMS, Result
from behavstats.stats import StudyResult
from behavstats.study.pipeline import SECTIONS as STUDY_SECTIONS
from behavstats.sweeps import AblationResult, LayerSweepResult, ProbeResult

SECTIONS = (*STUDY_SECTIONS.items(), ("reproduce", "Settings, seeds and versions"))
"""The study's declared sections, then how to reproduce it."""
_STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-top:1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.cols{display:flex;gap:2em;flex-wrap:wrap} .cols>div{flex:1;min-width:320px}
.published{background:#f6f8fc;border-left:4px solid #6a8fd8;padding:.3em 1em}
img{max-width:100%;margin:.4em 0} .note{color:#666;font-size:.9em}
"""


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _figures(folder: Path, names: list[str] | None = None) -> str:
    paths = sorted(folder.glob("*.png")) if names is None else \
        [folder / f"{n}.png" for n in names if (folder / f"{n}.png").exists()]
    return "\n".join(_figure(p) for p in paths)


def _table(frame: pd.DataFrame, max_rows: int = 30) -> str:
    shown = frame.head(max_rows)
    text = shown.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="",
                         border=0, escape=True)
    if len(frame) > max_rows:
        text += f'<p class="note">first {max_rows} of {len(frame)} rows</p>'
    return text


def _summary(summary: pd.DataFrame, max_rows: int = 60) -> str:
    """A result's summary rows, each quantity with its label."""
    return _table(summary.assign(quantity=summary["quantity"].map(label)), max_rows)


def _key_values(data: dict) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td>"
                   f"{html.escape(v if isinstance(v, str) else json.dumps(v, default=str))}"
                   "</td></tr>" for k, v in data.items())
    return f"<table>{body}</table>"


def _published(topic: str) -> str:
    """What was published about `topic` in prose (figures are joined into summaries)."""
    source = html.escape(reference_results()["source"])
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in published_notes(topic))
    return ('<div class="published"><h4>Published (Langosco et al.\'s rand_region = 5 '
            f'agent, scale 4)</h4><ul>{notes}</ul><p class="note">Published figures stand '
            f'in the summaries\' "published" column. {source}</p></div>')


def _load(kind: type[Result], part: Path) -> Result | None:
    return kind.load(part) if (part / PARAMS).exists() else None


def _part_note(study: Path, name: str) -> str:
    record = read_json(study / name / "part.json")
    if not record:
        return f'<p class="note">part "{name}" has not been computed.</p>'
    error = read_json(study / name / "error.json")
    if error:
        return f'<p><b>This part could not run:</b> {html.escape(error["message"])}</p>'
    return f'<p class="note">part "{name}": {record["seconds"]:.0f} s; settings ' \
           f'{html.escape(json.dumps(record["settings"], default=str))}</p>'


def _behaviour(study: Path) -> str:
    evaluation = _load(EvaluationResult, study / "evaluation")
    ours = ""
    if evaluation:
        ours += "<h4>Success rate (reached the cheese) by maze size</h4>" + \
            _table(evaluation.table().reset_index(names="levels")) + _summary(
                evaluation.summary())
    episodes = study / "episodes" / "episodes.parquet"
    if episodes.exists():
        table = pd.read_parquet(episodes)
        ours += "<h4>Episodes gathered for the regression (decision mazes, cheese outside the " \
                "top-right 5x5)</h4>" + _key_values({
                    "episodes": len(table), "mean steps": f"{table['steps'].mean():.4g}"}) + \
            _table(decision_behaviour(table))
    return f'<div class="cols"><div>{ours}</div><div>{_published("evaluation")}</div></div>' + \
        _part_note(study, "evaluation") + _part_note(study, "episodes")


def _regression(study: Path) -> str:
    part = study / "regression"
    result = _load(StudyResult, part)
    ours = ""
    if result:
        summary = result.summary()
        mine = summary["condition"].str.startswith(("published model", "key features"))
        ours = "<h4>Summary</h4>" + _summary(summary[~mine])
        if result.published_model is not None:
            ours += ("<h4>The published four-feature model, refitted on these episodes</h4>" +
                     _summary(summary[summary["condition"].str.startswith("published model")])
                     + "<h4>VIF of its three key features</h4>" +
                     _summary(summary[summary["condition"].str.startswith("key features")]))
    tables = "".join(_tables(result, ("coefficients", "logit", "single_feature", "vif",
                                      "selection", "sign_stability"))) if result else ""
    return f'<div class="cols"><div>{ours}</div><div>{_published("regression")}</div></div>' \
        + _figures(part) + tables + _part_note(study, "regression")


def _tables(result: Result, names: tuple[str, ...] | None = None, max_rows: int = 30
            ) -> list[str]:
    return [f"<h4>{html.escape(name)}</h4>" + _table(table, max_rows)
            for name, table in result.tables().items()
            if table is not None and not table.empty and (names is None or name in names)]


def _experiment(study: Path, name: str, kind: type[Result], extra: str = "") -> str:
    part = study / name
    result = _load(kind, part)
    ours = "<h4>Summary</h4>" + _summary(result.summary()) if result else ""
    tables = "".join(_tables(result, max_rows=20)) if result else ""
    return f'<div class="cols"><div>{ours}</div><div>{_published(kind.topic)}</div></div>' + \
        _figures(part) + extra + f"<details><summary>tables</summary>{tables}</details>" + \
        _part_note(study, name)


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


def _reproduce(study: Path) -> str:
    info = read_json(study / "study.json")
    if not info:
        return ""
    command = reproduce_command(study, info["config"], info["policy"])
    how = (f"<p>Re-run with <code>{html.escape(command)}</code> (finished parts are reused "
           "when their settings are unchanged).</p>" if command else
           "<p>Re-run with <code>run_full_study</code> and the config below (its sizes are "
           "no preset of <code>behavstats study</code>).</p>")
    return how + _key_values({
        "policy": info["policy"], "policy fingerprint": info["policy_fingerprint"],
        "config": info["config"], "versions": info["versions"],
        "policy training": info["policy_metadata"].get("training", {})})


def render_report(study: str | Path) -> str:
    """The report of a study directory as an HTML string."""
    study = Path(study)
    info = read_json(study / "study.json")
    bodies = {
        "behaviour": _behaviour(study),
        "regression": _regression(study),
        "fields": _figures(study / "fields") + _part_note(study, "fields"),
        "cheese_vector": _experiment(study, "cheese_vector", CheeseVectorResult),
        "top_right_vector": _experiment(study, "top_right_vector", TopRightResult),
        "channels": _experiment(study, "channels", ChannelResult,
                                "<h3>Retargeting</h3>" + _experiment(study, "retarget",
                                                                      RetargetResult)),
        "resample": _experiment(study, "resample", ResampleResult),
        "layer_sweep": _experiment(study, "layer_sweep", LayerSweepResult),
        "ablation": _experiment(study, "ablation", AblationResult),
        "probes": _experiment(study, "probes", ProbeResult),
        "reproduce": _reproduce(study),
    }
    title = f"behavstats study of {html.escape(str(info.get('policy', study.name)))}"
    quick = ' <span class="note">(--quick: small sizes, noisy numbers)</span>' \
        if info.get("config", {}).get("quick") else ""
    toc = "".join(f'<li><a href="#{key}">{html.escape(heading)}</a></li>'
                  for key, heading in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{html.escape(heading)}</h2>{bodies[key]}'
                       "</section>" for key, heading in SECTIONS)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}"
            f"</title><style>{_STYLE}</style></head><body><h1>{title}{quick}</h1><ol>{toc}</ol>"
            f"{sections}</body></html>\n")


def write_report(study: str | Path) -> Path:
    """Write study/report.html."""
    study = Path(study)
    text = render_report(study)
    return write_atomic(study / "report.html", lambda tmp: tmp.write_text(text))
