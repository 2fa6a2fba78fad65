"""The report's number writing and intervals."""

import math

from behavstats.report.numbers import wilson


def test_wilson_interval_of_a_share():
    low, high = wilson(0.36, 5155)
    assert 0.346 < low < 0.36 < high < 0.374  # 36% of 5,155 decision mazes
    assert wilson(0.0, 10)[0] == 0.0 and 0.2 < wilson(0.0, 10)[1] < 0.35
    assert all(math.isnan(v) for v in wilson(0.5, 0))
