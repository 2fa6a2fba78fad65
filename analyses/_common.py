"""Shared argument parsing of the analysis scripts (thin wrappers of the package)."""

from __future__ import annotations

import argparse
from pathlib import Path

from behavstats.policy import Policy, load_policy


def parse(description: str, default_out: str, levels: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--policy", default="default",
                        help="policy file (a published Langosco checkpoint or ours) or 'default'")
    parser.add_argument("--out", type=Path, default=Path(default_out), help="output folder")
    parser.add_argument("--levels", default=levels, help="level seeds, A:B")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def levels(spec: str) -> list[int]:
    start, stop = (int(p) for p in spec.split(":"))
    return list(range(start, stop))


def policy(spec: str) -> Policy:
    return load_policy(spec)
