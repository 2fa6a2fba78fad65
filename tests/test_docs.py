"""The documentation cannot go stale: the site builds with `mkdocs build --strict` (every
page, every API reference page from the docstrings, every cross-reference resolved),
and the tutorial notebook runs from a fresh kernel without an error."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built strictly into a temporary folder (the notebook not executed here:
    the test below runs it)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "BEHAVSTATS_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stderr[-5000:]}"
    print(f"mkdocs build --strict: {time.perf_counter() - started:.1f} s")
    return out


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_api_reference(site):
    package = (site / "reference" / "behavstats" / "index.html").read_text()
    for name in ("load_policy", "maze_for_level", "vector_field", "level_episodes"):
        assert f"bs.{name}" in package, f"{name} missing from the exports table"
    reference = "".join(page.read_text() for page in (site / "reference").glob("*/index.html"))
    for name in ("load_policy", "vector_field", "run_cheese_vector", "run_study",
                 "CheeseVectorResult", "StudyResult"):
        assert re.search(rf'id="behavstats\.[\w.]*\b{name}"', reference), name


@pytest.mark.slow
def test_experiment_pages_show_the_result_columns_and_the_published_figures(site):
    page = (site / "experiments" / "cheese-vector" / "index.html").read_text()
    assert "p_cheese_random" in page  # a column named in CheeseVectorResult's docstring
    assert "0.81 to 0.03" in page  # the published note, from behavstats.reference
    for name in ("evaluation", "regression", "cheese-vector", "top-right-vector",
                 "channels-retargeting", "resampling", "layer-sweep", "ablation", "patching",
                 "probes", "across-agents", "attribution", "value-maps"):
        html = (site / "experiments" / name / "index.html").read_text()
        assert 'doc-section-title">Attributes:' in html, f"{name}: no table of its columns"
    assert (site / "tutorial" / "index.html").is_file()


@pytest.mark.slow
def test_every_setting_has_a_row_in_its_settings_table(site):
    """Each settings class lists every field in its table, its own and the inherited
    mode and seed (the docstring extension), in the API reference and on its experiment
    page (so a new field needs its `name: text` entry in the class docstring, and a new
    settings class its `::: behavstats.experiments.X` on an experiment page); the
    machinery (`implementation`) is no row and no heading; an entry naming two fields
    (`correlation, vif`) becomes a row for each."""
    import dataclasses
    import inspect

    from behavstats import experiments
    from behavstats.experiment import Settings

    reference = (site / "reference" / "behavstats.experiments" / "index.html").read_text()
    pages = "".join(page.read_text() for page in (site / "experiments").glob("*/index.html"))
    classes = [c for _, c in inspect.getmembers(experiments, inspect.isclass)
               if issubclass(c, Settings) and c.__module__ == experiments.__name__]
    assert {"CheeseVector", "Regression", "Retarget"} <= {c.__name__ for c in classes}
    for cls in classes:
        for field in dataclasses.fields(cls):
            row = f'title="behavstats.experiments.{cls.__name__}.{field.name}"'
            assert row in reference, f"{cls.__name__}.{field.name}: no row in the reference"
            assert row in pages, f"{cls.__name__}.{field.name}: no row on an experiment page"
        assert f"{cls.__name__}.implementation" not in reference
    regression = (site / "experiments" / "regression" / "index.html").read_text()
    for name in ("correlation", "vif"):
        assert f'title="behavstats.stats.study.StudyResult.{name}"' in regression
    assert (site / "changes" / "index.html").is_file()


def test_the_committed_notebook_has_no_outputs():
    """Outputs are made by the site build and by the test below, never committed."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]


@pytest.mark.slow
def test_the_tutorial_notebook_runs(tmp_path):
    """Executed from a fresh kernel in an empty folder; any error fails the test
    (23 s on 2 idle cores, the site build 12 s)."""
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    notebook = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    print(f"tutorial notebook: {time.perf_counter() - started:.1f} s")
    errors = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error"]
    assert not errors
    figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
               if "image/png" in o.get("data", {})]
    assert len(figures) >= 3  # the field, the cheese vector's fields, the coefficients
