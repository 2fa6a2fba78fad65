"""HTML pieces of the report: the page and its print styles, comparison tables,
figures with captions, animations, and raw tables that unfold and download as CSV
from inside the file (data: URIs; nothing is fetched)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import pandas as pd

from behavstats.report.comparisons import Compared, frame

CSV_LIMIT = 400_000
"""Bytes of CSV embedded per raw table at most (longer tables: their first rows)."""
ROWS_SHOWN = 15
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1080px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #ccc;padding-top:.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
td,th{border:1px solid #ddd;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.question{font-size:1.08em;font-style:italic;color:#444}
.lead{max-width:60em}
.findings{background:#f6f8fc;border-left:5px solid #6a8fd8;padding:.4em 1.2em}
.findings li{margin:.35em 0} .agent td,.settings td{text-align:left}
.v-agrees{color:#1a7f37;font-weight:600} .v-weaker,.v-lower{color:#9a6700;font-weight:600}
.v-stronger,.v-higher{color:#0a58ca;font-weight:600} .v-differs{color:#c0362c;font-weight:600}
figure{margin:1.2em 0;break-inside:avoid} figure img{max-width:100%;height:auto;
border:1px solid #eee} figcaption{font-size:.9em;color:#444;max-width:860px}
.note{color:#666;font-size:.88em} details{margin:.4em 0} summary{cursor:pointer}
.published{background:#fafafa;border-left:3px solid #bbb;padding:.2em 1em;font-size:.9em}
@media print{body{max-width:none;margin:0}
section{break-before:page} details::details-content{content-visibility:visible;
display:contents} figure img{max-height:23cm} a{color:inherit;text-decoration:none}}
"""
SCRIPT = ("window.addEventListener('beforeprint',()=>document.querySelectorAll('details')"
          ".forEach(d=>d.open=true));")
"""Opens every raw table before printing (Chromium prints closed details closed)."""


def esc(text: object) -> str:
    return html.escape(str(text))


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}'
            f'</title><style>{STYLE}</style></head><body>{body}<script>{SCRIPT}</script>'
            "</body></html>\n")


def comparison_table(rows: list[Compared], name: str) -> str:
    """Ours beside published, with verdicts (and a column of tests where a row has
    one), and the table as CSV."""
    if not rows:
        return '<p class="note">Nothing measured for this table in this study.</p>'
    tested = any(c.test for c in rows)
    body = "".join(
        f"<tr><td>{esc(c.row.label)}</td><td>{esc(c.ours)}</td><td>{_n(c.n)}</td>"
        + (f"<td>{esc(c.test)}</td>" if tested else "")
        + f"<td>{esc(c.theirs)}</td><td class=\"v-{c.verdict}\">{esc(c.verdict)}</td></tr>"
        for c in rows)
    return ("<table><thead><tr><th>quantity</th><th>ours [95% interval]</th><th>n</th>"
            f"{'<th>test</th>' if tested else ''}<th>published</th><th>verdict</th></tr></thead>"
            f"<tbody>{body}</tbody></table>" + csv_link(frame(rows), f"{name}_comparison"))


def _n(n: float) -> str:
    return "" if n is None or math.isnan(n) else f"{int(n):,}"


def csv_link(table: pd.DataFrame, name: str) -> str:
    """A link that saves `table` as name.csv from the file itself."""
    text = table.to_csv(index=False)
    note = ""
    if len(text) > CSV_LIMIT:
        keep = max(1, int(len(table) * CSV_LIMIT / len(text)))
        text = table.head(keep).to_csv(index=False)
        note = f" (first {keep:,} of {len(table):,} rows; all in the study folder)"
    data = base64.b64encode(text.encode()).decode()
    return (f'<p class="note"><a download="{esc(name)}.csv" '
            f'href="data:text/csv;charset=utf-8;base64,{data}">download {esc(name)}.csv</a>'
            f"{esc(note)}</p>")


def raw_table(table: pd.DataFrame, name: str, title: str) -> str:
    """A collapsed raw table: its first rows shown, all of it (up to `CSV_LIMIT`) as
    CSV."""
    shown = table.head(ROWS_SHOWN).to_html(index=False, border=0, na_rep="",
                                          float_format=lambda v: f"{v:.4g}")
    more = f'<p class="note">first {ROWS_SHOWN} of {len(table):,} rows</p>' \
        if len(table) > ROWS_SHOWN else ""
    return (f"<details><summary>{esc(title)} ({len(table):,} rows)</summary>{shown}{more}"
            f"{csv_link(table, name)}</details>")


def figure(path: Path, title: str, caption: str) -> str:
    """An embedded PNG, GIF or WebP with its title and caption ('' if missing)."""
    if not path.exists():
        return ""
    kind = {".gif": "gif", ".webp": "webp"}.get(path.suffix, "png")
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><img alt="{esc(title)}" src="data:image/{kind};base64,{data}">'
            f"<figcaption><b>{esc(title)}.</b> {esc(caption)}</figcaption></figure>")


def key_values(pairs: list[tuple[str, str]], css: str = "") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="{css}">{body}</table>'
