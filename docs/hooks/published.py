"""MkDocs hook: the published results of a topic, read from the package's own data.

A page line `<!-- published: TOPIC -->` becomes a box with what the publications
reported on TOPIC (`behavstats.reference.reference_results()`: the notes in prose, and
the figures that `Result.summary()` joins into its `published` column), so a page
shows the same published numbers as the reports and cannot drift from them. An
unknown topic is a build warning (an error under `--strict`).
"""

from __future__ import annotations

import logging
import math
import re

log = logging.getLogger("mkdocs.hooks.published")

MARKER = re.compile(r"^<!-- published: (?P<topic>\w+) -->$", re.MULTILINE)


def _number(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:g}"


def published_box(topic: str, page: str) -> str:
    from behavstats.reference import reference_results

    data = reference_results()
    notes = [n["text"] for n in data["notes"] if n["topic"] == topic]
    figures = [f for f in data["figures"] if f["topic"] == topic]
    if not notes and not figures:
        log.warning("%s: no published results for topic %r", page, topic)
        return ""
    lines = ['!!! quote "Published: Langosco et al.\'s `rand_region_5` agent (scale 4)"', ""]
    lines += [f"    - {text}" for text in notes]
    if figures:
        lines += ["", '    ??? note "The published figures beside `summary()` rows"', "",
                  "        | quantity | condition | published | note |",
                  "        |---|---|---|---|"]
        lines += [f"        | `{f['quantity']}` | {f['condition']} | "
                  f"{_number(f['published'])} | {f.get('note') or ''} |" for f in figures]
    lines += ["", f"    <small>{data['source']}</small>", ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda m: published_box(m["topic"], page.file.src_uri), markdown)
