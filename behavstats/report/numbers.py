"""How the report writes numbers, intervals and verdicts, once for the HTML report,
the findings and the README's Markdown table."""

from __future__ import annotations

import math

from statsmodels.stats.proportion import proportion_confint

VERDICT_RULE = (
    "Verdicts compare our estimate with the published figure where the two measure the "
    "same thing: <b>agrees</b> when the published figure lies inside our 95% interval "
    "(without an interval: within 10% of it, or 0.02); otherwise, for an effect (a change, "
    "a coefficient, a correlation, a resampling effect), <b>weaker</b> or <b>stronger</b> "
    "when ours has the same sign and a smaller or larger magnitude and <b>differs</b> when "
    "the sign is opposite; for a level (a share, a median, an accuracy) <b>higher</b> or "
    "<b>lower</b>. Rows without a number on the published side get no verdict.")
"""The rule `verdict` applies, as the report states it."""


def number(value: float | None) -> str:
    """A number at a readable precision: 0.79, -2.66, 0.0004, 1,532, 0 (n/a for NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    size = abs(value)
    if size == 0:
        text = "0"
    elif size >= 100:
        text = f"{value:,.0f}"
    elif size >= 0.01:
        text = f"{value:.2f}"
    else:
        text = f"{value:.1g}"
    return text.replace("-", "−")


def interval(estimate: float, low: float, high: float) -> str:
    """'0.79 [0.78, 0.80]', or the estimate alone without an interval."""
    if any(math.isnan(v) for v in (low, high)):
        return number(estimate)
    return f"{number(estimate)} [{number(low)}, {number(high)}]"


def count(n: float) -> str:
    """A sample size: '5,155'."""
    return "n/a" if n is None or math.isnan(n) else f"{int(n):,}"


def wilson(share: float, n: float) -> tuple[float, float]:
    """Wilson 95% interval of a share of n trials (NaN, NaN without trials)."""
    if n is None or math.isnan(n) or n <= 0 or math.isnan(share):
        return math.nan, math.nan
    low, high = proportion_confint(share * n, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def verdict(estimate: float, low: float, high: float, published: float, *,
            effect: bool) -> str:
    """`VERDICT_RULE` applied to one row ('' without a published number)."""
    if published is None or math.isnan(published) or math.isnan(estimate):
        return ""
    if not math.isnan(low) and not math.isnan(high):
        if low <= published <= high:
            return "agrees"
    elif abs(estimate - published) <= max(0.02, 0.1 * abs(published)):
        return "agrees"
    if not effect:
        return "higher" if estimate > published else "lower"
    if estimate * published < 0:
        return "differs"
    return "weaker" if abs(estimate) < abs(published) else "stronger"
