"""The published analyses as scripts: each runs on the shipped policy and writes its
tables (tiny sizes; the full runs are the study's)."""

import subprocess
import sys
from pathlib import Path

import pytest

ANALYSES = Path(__file__).resolve().parent.parent / "analyses"
RUNS = {
    "behavioural_regression.py": (["--levels", "0:400"], ["coefficients.parquet",
                                                         "published_model.parquet"]),
    "cheese_vector.py": (["--levels", "0:12"], ["decision.parquet"]),
    "top_right_vector.py": (["--levels", "0:8"], ["decision.parquet", "composition.parquet"]),
    "retargeting.py": (["--levels", "305:306"], ["channels/table.parquet",
                                                 "retarget/targets.parquet"]),
    "resampling.py": (["--levels", "310:314"], ["effects.parquet"]),
    "layer_sweep.py": (["--levels", "0:6"], ["layer_sweep.csv", "layer_sweep.parquet",
                                             "levels.parquet"]),
    "channel_ablation.py": (["--levels", "0:8"], ["ablation.csv", "ablation.parquet"]),
    "probes.py": (["--levels", "0:12"], ["probes.csv", "observations.parquet",
                                         "spatial.parquet"]),
    "attribution.py": (["--levels", "0:3"], ["attribution.csv", "pixels.parquet"]),
    "value_maps.py": (["--levels", "0:3"], ["cells.parquet", "by_steps.parquet"]),
    "patching.py": (["--levels", "0:8"], ["patching.csv", "by_layer.csv", "per_level.parquet"]),
    "across_agents.py": (["--policies", "default", "--levels", "12", "--vector-levels", "12"],
                         ["across_agents.csv", "summaries.parquet", "scores.csv",
                          "coefficients.csv", "coefficient_test.csv", "design.parquet",
                          "default/decision.parquet"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(RUNS))
def test_analysis_script_runs_and_writes_its_tables(script, tmp_path):
    args, outputs = RUNS[script]
    done = subprocess.run([sys.executable, str(ANALYSES / script), "--out", str(tmp_path),
                           *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in outputs:
        assert (tmp_path / name).stat().st_size > 0, name
