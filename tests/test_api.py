"""The top-level API: every exported name resolves to a documented object that is not a
submodule, `dir(behavstats)` lists the experiments and their Results, an exported
function stays the function whatever is imported, and old names keep working."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import behavstats as bs

EXPERIMENTS = ("evaluate", "run_regression", "run_cheese_vector", "run_top_right_vector",
               "run_channels", "run_retarget", "run_resample", "run_layer_sweep",
               "run_ablation", "run_probes", "run_patching", "across_agents",
               "run_full_study")
RESULTS = ("EvaluationResult", "RegressionResult", "CheeseVectorResult", "TopRightResult",
           "ChannelResult", "RetargetResult", "ResampleResult", "LayerSweepResult",
           "AblationResult", "ProbeResult", "PatchingResult", "AcrossAgentsResult")


def submodule_names() -> set[str]:
    """The modules and packages right inside behavstats (importing one binds its name
    on the package)."""
    return {info.name for info in pkgutil.iter_modules(bs.__path__)}


def attribute_docstring(module: types.ModuleType, name: str) -> str | None:
    """The string literal right after `name = ...` at the top level of `module`'s source
    (the package's way to document a constant)."""
    body = ast.parse(Path(module.__file__).read_text()).body
    for statement, after in zip(body, body[1:], strict=False):
        targets = (statement.targets if isinstance(statement, ast.Assign) else
                   [statement.target] if isinstance(statement, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and \
                isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            return after.value.value
    return None


def own_docstring(value) -> str | None:
    """A function's or class's own docstring (not its base class's, nor the signature
    dataclasses write when there is none)."""
    doc = vars(value).get("__doc__") if isinstance(value, type) else value.__doc__
    if isinstance(value, type) and doc and doc.startswith(f"{value.__name__}("):
        return None
    return doc


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return done.stdout


@pytest.mark.parametrize("name", bs.__all__)
def test_every_exported_name_resolves_is_no_submodule_and_is_documented(name):
    value = getattr(bs, name)
    assert not isinstance(value, types.ModuleType)
    assert name not in submodule_names()
    if callable(value):
        doc = own_docstring(value)
    else:
        module, _, attribute = bs._EXPORTS[name].partition(":")
        doc = attribute_docstring(importlib.import_module(module), attribute or name)
    assert doc and doc.strip(), f"{name} has no docstring"


def test_dir_lists_the_experiments_their_results_and_the_engine():
    listed = dir(bs)
    assert set(listed) == {*bs.__all__, "__version__"}
    for name in (*EXPERIMENTS, *RESULTS, "forward", "probs", "LayerCache", "load_policy",
                 "maze_for_level", "free_cell_graph", "decision_square"):
        assert name in listed and name in bs.__all__
    assert "run_study" not in listed  # deprecated: resolves, but is not offered
    assert bs.__version__


def test_an_exported_function_stays_the_function_when_its_old_module_is_imported():
    """The command from the issue: `behavstats.forward` was the function until
    something imported the module of that name."""
    out = run("import behavstats as bs, behavstats.forward; print(bs.forward)")
    assert out.startswith("<function forward at")


def test_old_module_names_still_import_without_importing_torch_early():
    """Also `behavstats.evaluate` after `import behavstats.evaluate` is the function."""
    out = run("import sys, behavstats as bs\n"
              "print('torch' in sys.modules)\n"
              "from behavstats.forward import forward, LayerCache\n"
              "import behavstats.engine, behavstats.evaluate\n"
              "print(forward is bs.forward is behavstats.engine.forward,"
              " LayerCache is behavstats.engine.LayerCache)\n"
              "print(behavstats.evaluate is behavstats.evaluation.evaluate)\n"
              "from behavstats.evaluate import EvaluationResult\n"
              "print(EvaluationResult is bs.EvaluationResult)")
    assert out.split() == ["False", "True", "True", "True", "True"]


def test_old_names_in_process():
    import behavstats.evaluate  # noqa: F401
    import behavstats.forward  # noqa: F401
    from behavstats import engine, evaluation
    from behavstats.forward import LayerCache, probs
    from behavstats.hooks import UnknownLayerError, get_module, hook_module
    from behavstats.policy import UnknownLayerError as PolicyUnknownLayerError
    from behavstats.report.study import Study
    from behavstats.study import Study as StudyFolder

    assert bs.forward is engine.forward and bs.evaluate is evaluation.evaluate
    assert (LayerCache, probs) == (engine.LayerCache, engine.probs)
    assert UnknownLayerError is PolicyUnknownLayerError and callable(get_module)
    assert callable(hook_module) and Study is StudyFolder is bs.Study
    assert not inspect.ismodule(bs.forward) and not inspect.ismodule(bs.evaluate)


def test_run_study_is_the_regression_under_its_old_name():
    from behavstats.stats import run_study

    assert bs.run_regression is run_study
    assert "run_regression" in bs.run_study.__doc__
    with pytest.warns(DeprecationWarning, match="run_regression"), \
            pytest.raises(TypeError):
        bs.run_study()  # the regression's own error for missing arguments
