"""The study's headline results as a Markdown table (the README's "What the study
finds" table), from the same comparison rows as the HTML report."""

from __future__ import annotations

from pathlib import Path

from behavstats.report.rows import section_rows
from behavstats.report.study import Study


def markdown_table(study: str | Path) -> str:
    """| question | this agent | published agent | verdict | of every headline row."""
    rows = section_rows(Study.load(study))
    lines = ["| question | this agent [95% interval], n | published agent | verdict |",
             "|---|---|---|---|"]
    for compared in (c for section in rows.values() for c in section if c.row.headline):
        n = "" if compared.n != compared.n else f", n = {int(compared.n):,}"
        cells = (compared.row.label, f"{compared.ours}{n}", compared.theirs,
                 compared.verdict)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
