"""Comparison rows: one of our summary rows, labelled for a reader, beside the
published figure (a number joined from `data/reference_results.json`, or the
publication's words), with the verdict of `numbers.VERDICT_RULE`.

The HTML report, its findings and the README's Markdown table all read these rows,
so they cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from behavstats.report import numbers


@dataclass(frozen=True)
class Row:
    """What to show: `label` (a reader's words, unit included), the summary row
    (quantity, condition), whether it is an effect (for the verdict), whether to write
    it as a percentage (or a whole number), and the publication's words where it gave no number."""

    label: str
    quantity: str
    condition: str
    effect: bool = False
    percent: bool = False
    published_text: str = ""
    headline: bool = False
    whole: bool = False


@dataclass(frozen=True)
class Compared:
    """A row as shown: label, numbers, their text and the verdict; p_value and q_value
    where the row's quantity was tested (`stats.multiplicity`), NaN otherwise."""

    row: Row
    estimate: float
    ci_low: float
    ci_high: float
    n: float
    published: float
    p_value: float = math.nan
    q_value: float = math.nan

    @property
    def found(self) -> bool:
        return not math.isnan(self.estimate)

    def _text(self, value: float) -> str:
        if self.row.whole and not math.isnan(value):
            return f"{value:,.0f}"
        if not self.row.percent or math.isnan(value):
            return numbers.number(value)
        if value == 0:
            return "0%"
        size = abs(value * 100)
        digits = 0 if size >= 10 else 1 if size >= 1 else 2
        return f"{value * 100:.{digits}f}%".replace("-", "−")

    @property
    def ours(self) -> str:
        """'0.79 [0.78, 0.80]' (percentages with %)."""
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return self._text(self.estimate)
        return f"{self._text(self.estimate)} [{self._text(self.ci_low)}, " \
               f"{self._text(self.ci_high)}]"

    @property
    def theirs(self) -> str:
        """The published number, or the publication's words, or ''."""
        if not math.isnan(self.published):
            text = self._text(self.published)
            return f"{text} ({self.row.published_text})" if self.row.published_text else text
        return self.row.published_text

    @property
    def test(self) -> str:
        """'p = 0.003, q = 0.02', 'p = 0.4' (a test outside a family), or '' (none)."""
        found = [f"{name} = {numbers.number(value)}" for name, value
                 in (("p", self.p_value), ("q", self.q_value)) if not math.isnan(value)]
        return ", ".join(found)

    @property
    def verdict(self) -> str:
        return numbers.verdict(self.estimate, self.ci_low, self.ci_high, self.published,
                               effect=self.row.effect)


def compare(summary: pd.DataFrame, rows: list[Row], share_intervals: bool = False
            ) -> list[Compared]:
    """The rows found in `summary` (a `Result.summary()`), in order; shares without an
    interval get a Wilson interval when `share_intervals`. Where a (quantity, condition)
    occurs twice, the first row counts."""
    table = summary.drop_duplicates(["quantity", "condition"]).set_index(
        ["quantity", "condition"]).sort_index()
    out = []
    for row in rows:
        key = (row.quantity, row.condition)
        if key not in table.index:
            continue
        found = table.loc[key]
        low, high = float(found["ci_low"]), float(found["ci_high"])
        if share_intervals and math.isnan(low):
            low, high = numbers.wilson(float(found["estimate"]), float(found["n"]))
        out.append(Compared(row, float(found["estimate"]), low, high, float(found["n"]),
                            float(found.get("published", math.nan)),
                            float(found["p_value"]), float(found["q_value"])))
    return out


def frame(compared: list[Compared]) -> pd.DataFrame:
    """The rows as the table a reader downloads: label, ours, interval, n, p- and
    q-value, published, verdict (numbers unrounded)."""
    return pd.DataFrame([{"quantity": c.row.label, "estimate": c.estimate,
                          "ci_low": c.ci_low, "ci_high": c.ci_high, "n": c.n,
                          "p_value": c.p_value, "q_value": c.q_value,
                          "published": c.published if not math.isnan(c.published)
                          else c.row.published_text, "verdict": c.verdict}
                         for c in compared])
