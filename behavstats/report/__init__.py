"""A study folder as one self-contained HTML report, and its results table as
Markdown (the README's).

Renders what the study saved (a `behavstats.study.Study`, each part's result read back
by its `Part.load`), so a finished study re-renders without recomputing; the study
never calls the report (`behavstats study` runs the study, then `write_report`).
Under the title: who the agent is and the findings, one sentence per result with its
number, interval, sample size and the published figure; then one section per question
(`sections`). Everything (figures, animations, CSV downloads) is embedded: the file
opens offline and prints to PDF.
"""

from __future__ import annotations

from pathlib import Path

from behavstats.io import write_atomic
from behavstats.reference import reference_results
from behavstats.report.findings import findings
from behavstats.report.html import esc, page
from behavstats.report.markdown import markdown_table
from behavstats.report.numbers import VERDICT_RULE
from behavstats.report.rows import section_rows
from behavstats.report.sections import SECTIONS, agent, reproduce, reproduce_command, section
from behavstats.study.folder import Study

__all__ = ["SECTIONS", "markdown_table", "render_report", "reproduce_command",
           "write_report"]


def render_report(study: Study | str | Path) -> str:
    """The report of a study (a `Study`, or the folder to load one from) as an HTML
    string."""
    loaded = Study.of(study)
    rows = section_rows(loaded)
    name = loaded.info.get("policy", loaded.path.name)
    title = f"behavstats study of the {name} policy"
    quick = (' <span class="note">(--quick: small sizes, noisy numbers)</span>'
             if loaded.quick else "")
    items = "".join(f'<li>{esc(f.text)} <a href="#{f.section}">(section)</a></li>'
                    for f in findings(rows))
    toc = "".join(f'<li><a href="#{key}">{esc(heading)}</a></li>' for key, heading in SECTIONS)
    bodies = "".join(
        f'<section id="{key}"><h2>{esc(heading)}</h2>'
        f'{reproduce(loaded) if key == "reproduce" else section(loaded, key, rows[key])}'
        "</section>" for key, heading in SECTIONS)
    source = esc(reference_results()["source"])
    head = (f"<h1>{esc(title)}{quick}</h1>{agent(loaded)}"
            f'<div class="findings" id="findings"><h2>Findings</h2><ul>{items}</ul></div>'
            f'<p class="note">{source} {VERDICT_RULE}</p><ol>{toc}</ol>')
    return page(title, head + bodies)


def write_report(study: Study | str | Path) -> Path:
    """Write report.html into the study's folder; its path."""
    loaded = Study.of(study)
    text = render_report(loaded)
    return write_atomic(loaded.path / "report.html", lambda tmp: tmp.write_text(text))
