"""The full study's part times at scale 1 (the default agent) and scale 4 (its exact
widened copy, `widen`: the published agents' size, identical behaviour), each
`behavstats study` run as a fresh process in the same run of this script, and their
ratio. Targets (issues 17 and 23): the study in at most 10 minutes at scale 1 and 30 at
scale 4, on 2 cores.

A study folder that is already there is resumed (finished parts are reused and
reported with the seconds they took when computed): pass a new --out to time
everything. About 37 minutes on 2 idle cores (8 + 29).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from behavstats.policy import load_policy, save_policy, widen


def run_study(policy: Path | str, out: Path) -> tuple[float, dict[str, float]]:
    """Wall seconds of `behavstats study`, and each part's seconds from study.json."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "behavstats", "study", "--policy", str(policy),
                    "--out", str(out), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    parts = json.loads((out / "study.json").read_text())["parts"]
    return wall, {p["name"]: p["seconds"] for p in parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("benchmark-study"),
                        help="folder of the two study folders (scale1/, scale4/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    wide = save_policy(widen(load_policy("default"), 4), args.out / "default-scale4.pt")
    runs = {1: run_study("default", args.out / "scale1"),
            4: run_study(wide, args.out / "scale4")}
    names = list(runs[4][1])
    print(f"{'part':<18} {'scale 1 (s)':>12} {'scale 4 (s)':>12} {'ratio':>6}")
    for name in names:
        one, four = runs[1][1][name], runs[4][1][name]
        print(f"{name:<18} {one:12.0f} {four:12.0f} {four / max(one, 1e-9):6.1f}")
    (wall1, parts1), (wall4, parts4) = runs[1], runs[4]
    print(f"{'parts, total':<18} {sum(parts1.values()):12.0f} {sum(parts4.values()):12.0f} "
          f"{sum(parts4.values()) / sum(parts1.values()):6.1f}")
    print(f"{'wall clock':<18} {wall1:12.0f} {wall4:12.0f} {wall4 / wall1:6.1f}")
    print(f"scale-1 study: {wall1 / 60:.1f} min (target <= 10); "
          f"scale-4 study: {wall4 / 60:.1f} min (target <= 30)")


if __name__ == "__main__":
    main()
