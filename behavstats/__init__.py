"""behavstats: statistical behavioural analysis of maze-solving policy networks.

    import behavstats as bs

    policy = bs.load_policy()                        # the shipped default agent
    result = bs.CheeseVector().run(policy, range(100))  # an experiment's settings
    result.summary(), result.settings

The public API is re-exported here: the experiments and their Results, the engine,
geometry, and maze and policy loading (`__all__`, also what `dir(behavstats)` lists).
Each name is imported on first use, so `import behavstats` stays cheap (no torch) and
has no side effects beyond registering the old module names below.

No exported name is also a submodule's name. The engine was the module
`behavstats.forward` and the evaluation `behavstats.evaluate`, names of exported
functions too: importing the module rebound the package attribute, so `bs.forward` was
the function or the module depending on what had run before. They are now
`behavstats.engine` and `behavstats.evaluation`, and the old names stay importable
(`from behavstats.forward import forward`, `import behavstats.evaluate`) through a
stand-in in `sys.modules` (`_MOVED`): found there, the import system never binds the
package attribute, which stays the function. A stand-in imports its module on the
first use of a public name and answers no other dunder than `__all__`, so tools that
sweep `sys.modules` (inspect, pickle) import nothing through it.
"""

from __future__ import annotations

import importlib
import sys
import warnings

_EXPORTS = {
    # mazes: levels, the maze model, observations
    "Maze": "behavstats.maze",
    "MazeStateError": "behavstats.maze",
    "parse": "behavstats.maze",
    "serialize": "behavstats.maze",
    "maze_for_level": "behavstats.maze.levels",
    "LevelGenerator": "behavstats.maze.levels",
    "observe": "behavstats.env",
    "Observer": "behavstats.env",
    "MazeVecEnv": "behavstats.env",
    # geometry and features
    "free_cell_graph": "behavstats.geometry",
    "distances": "behavstats.geometry",
    "shortest_path": "behavstats.geometry",
    "steps_to_path": "behavstats.geometry",
    "reachable": "behavstats.geometry",
    "first_moves": "behavstats.geometry",
    "decision_square": "behavstats.geometry",
    "decision_point": "behavstats.geometry",
    "DecisionPoint": "behavstats.geometry",
    "features_table": "behavstats.features",
    "level_features": "behavstats.features",
    "PUBLISHED_FEATURES": "behavstats.vocabulary",
    # the policy and its loading
    "Policy": "behavstats.policy",
    "load_policy": "behavstats.policy",
    "save_policy": "behavstats.policy",
    "widen": "behavstats.policy",
    "move_probs": "behavstats.policy",
    "preprocess": "behavstats.policy",
    # the engine and interventions
    "forward": "behavstats.engine",
    "probs": "behavstats.engine",
    "activations": "behavstats.engine",
    "LayerCache": "behavstats.engine",
    "run_with_cache": "behavstats.hooks",
    "AddVector": "behavstats.hooks",
    "SetCell": "behavstats.hooks",
    "ReplaceChannels": "behavstats.hooks",
    "Ablate": "behavstats.hooks",
    "Patch": "behavstats.hooks",
    # vector fields and episodes
    "vector_field": "behavstats.vfield",
    "vector_fields": "behavstats.vfield",
    "decision_probs": "behavstats.vfield",
    "RolloutConfig": "behavstats.rollout",
    "run_episodes": "behavstats.rollout",
    "level_episodes": "behavstats.rollout",
    "gather": "behavstats.rollout",
    "load_episodes": "behavstats.episodes",
    # words, shared by every experiment
    "VECTOR_LAYER": "behavstats.vocabulary",
    "TOP_RIGHT_REGION": "behavstats.vocabulary",
    "decision_mazes": "behavstats.vocabulary",
    "Estimate": "behavstats.vocabulary",
    # the experiments' settings (each has .run(policy, levels); Regression .fit(table))
    "Settings": "behavstats.experiment",
    "Experiment": "behavstats.experiment",
    "Evaluation": "behavstats.experiments",
    "Regression": "behavstats.experiments",
    "CheeseVector": "behavstats.experiments",
    "TopRightVector": "behavstats.experiments",
    "Channels": "behavstats.experiments",
    "Retarget": "behavstats.experiments",
    "Resample": "behavstats.experiments",
    "LayerSweep": "behavstats.experiments",
    "Ablation": "behavstats.experiments",
    "Attribution": "behavstats.experiments",
    "ValueMaps": "behavstats.experiments",
    "Patching": "behavstats.experiments",
    "Probes": "behavstats.experiments",
    # the experiments as functions, and their Results
    "Result": "behavstats.results",
    "evaluate": "behavstats.evaluation",
    "EvaluationResult": "behavstats.evaluation",
    "run_regression": "behavstats.stats.study:run_study",
    "RegressionResult": "behavstats.stats.study:StudyResult",
    "run_cheese_vector": "behavstats.interventions.cheese",
    "CheeseVectorResult": "behavstats.interventions.cheese",
    "run_top_right_vector": "behavstats.interventions.topright",
    "TopRightResult": "behavstats.interventions.topright",
    "run_channels": "behavstats.interventions.channels",
    "ChannelResult": "behavstats.interventions.channels",
    "run_retarget": "behavstats.interventions.retarget",
    "RetargetResult": "behavstats.interventions.retarget",
    "run_resample": "behavstats.interventions.resample",
    "ResampleResult": "behavstats.interventions.resample",
    "run_layer_sweep": "behavstats.sweeps.layers",
    "LayerSweepResult": "behavstats.sweeps.layers",
    "run_ablation": "behavstats.sweeps.ablation",
    "AblationResult": "behavstats.sweeps.ablation",
    "run_probes": "behavstats.sweeps.probes",
    "ProbeResult": "behavstats.sweeps.probes",
    "run_patching": "behavstats.maps.patching",
    "PatchingResult": "behavstats.maps.patching",
    "across_agents": "behavstats.across",
    "AcrossAgentsResult": "behavstats.across",
    "AttributionResult": "behavstats.maps.attribution",
    "ValueMapsResult": "behavstats.maps.value",
    # maps over the maze
    "value_map": "behavstats.maps.value",
    "value_maps": "behavstats.maps.value",
    "ValueMap": "behavstats.maps.value",
    "integrated_gradients": "behavstats.maps.attribution",
    # the whole study
    "run_full_study": "behavstats.study.pipeline",
    "StudyConfig": "behavstats.study.config",
    "Study": "behavstats.study.folder",
    "reference_results": "behavstats.reference",
}
"""Public name -> the module that defines it ("module:name" where its name there
differs)."""
__all__ = sorted(_EXPORTS)

_MOVED = {"forward": "engine", "evaluate": "evaluation"}
"""Old submodule name -> its module's name now (the old one is an exported function)."""


def __getattr__(name: str):
    if name == "__version__":  # in a module of its own, which submodules import
        from behavstats._version import __version__

        return __version__
    if name in _EXPORTS:
        module, _, attribute = _EXPORTS[name].partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'behavstats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, "__version__"]


def run_study(*args, **kwargs):
    """Deprecated name of `run_regression` (the behavioural regression; the whole
    study is `run_full_study`): warns with DeprecationWarning and calls it."""
    warnings.warn("behavstats.run_study is the behavioural regression, now named "
                  "behavstats.run_regression (the whole study is behavstats.run_full_study)",
                  DeprecationWarning, stacklevel=2)
    return __getattr__("run_regression")(*args, **kwargs)


def _stand_in(old: str, new: str):
    """A module named `old` whose public names are module `new`'s, imported on first use."""
    def __getattr__(name: str):
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        module = importlib.import_module(new)
        if name == "__all__":
            return getattr(module, "__all__", [n for n in vars(module) if n[0] != "_"])
        return getattr(module, name)

    stand_in = type(sys)(old, f"The old name of `{new}`, which replaced it.")
    stand_in.__getattr__ = __getattr__
    stand_in.__dir__ = lambda: dir(importlib.import_module(new))
    return stand_in


for _old, _new in _MOVED.items():
    sys.modules.setdefault(f"{__name__}.{_old}", _stand_in(f"{__name__}.{_old}",
                                                           f"{__name__}.{_new}"))
del _old, _new
