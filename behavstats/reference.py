"""The published figures that reports print beside ours (package data, with source).

`figures` are keyed like our summaries, (quantity, condition), so that
`Result.summary()` joins them; `notes` keep what the publications said in prose.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import pandas as pd


@cache
def reference_results() -> dict:
    """Published results for Langosco et al.'s rand_region = 5 agent: source, figures
    (topic, quantity, condition, published, note) and notes (topic, text)."""
    text = resources.files("behavstats").joinpath("data/reference_results.json").read_text()
    return json.loads(text)


def published_figures() -> pd.DataFrame:
    """The published figures: topic, quantity, condition, published, note."""
    return pd.DataFrame(reference_results()["figures"],
                        columns=["topic", "quantity", "condition", "published", "note"])
