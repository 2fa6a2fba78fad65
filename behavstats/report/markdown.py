"""The study's headline results as a Markdown table (the README's "What the study
finds" table), from the same comparison rows as the HTML report."""

from __future__ import annotations

from pathlib import Path

from behavstats.report.rows import section_rows
from behavstats.study.folder import Study


def markdown_table(study: Study | str | Path) -> str:
    """| question | this agent | published agent | verdict | of every headline row of a
    study (a `Study`, or the folder to load one from)."""
    rows = section_rows(Study.of(study))
    lines = ["| question | this agent [95% interval], n | published agent | verdict |",
             "|---|---|---|---|"]
    for compared in (c for section in rows.values() for c in section if c.row.headline):
        n = "" if compared.n != compared.n else f", n = {int(compared.n):,}"
        cells = (compared.row.label, f"{compared.ours}{n}", compared.theirs,
                 compared.verdict)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
