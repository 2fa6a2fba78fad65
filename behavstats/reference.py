"""The published figures that reports print beside ours (package data, with source)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def reference_results() -> dict:
    """Published results for Langosco et al.'s rand_region = 5 agent; see `source`."""
    text = resources.files("behavstats").joinpath("data/reference_results.json").read_text()
    return json.loads(text)
