"""behavstats: statistical behavioural analysis of maze-solving policy networks.

The public API is re-exported here and imported lazily (on first use), so that
`import behavstats` stays cheap and has no side effects.

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

from behavstats._version import __version__

_EXPORTS = {
    "Maze": "behavstats.maze",
    "MazeStateError": "behavstats.maze",
    "parse": "behavstats.maze",
    "serialize": "behavstats.maze",
    "maze_for_level": "behavstats.maze.levels",
    "LevelGenerator": "behavstats.maze.levels",
    "observe": "behavstats.env",
    "Observer": "behavstats.env",
    "MazeVecEnv": "behavstats.env",
    "features_table": "behavstats.features",
    "level_features": "behavstats.features",
    "decision_square": "behavstats.geometry",
    "PUBLISHED_FEATURES": "behavstats.features",
    "Policy": "behavstats.policy",
    "load_policy": "behavstats.policy",
    "save_policy": "behavstats.policy",
    "widen": "behavstats.policy",
    "move_probs": "behavstats.policy",
    "forward": "behavstats.engine",
    "activations": "behavstats.engine",
    "LayerCache": "behavstats.engine",
    "preprocess": "behavstats.policy",
    "run_with_cache": "behavstats.hooks",
    "AddVector": "behavstats.hooks",
    "SetCell": "behavstats.hooks",
    "ReplaceChannels": "behavstats.hooks",
    "Ablate": "behavstats.hooks",
    "vector_field": "behavstats.vfield",
    "vector_fields": "behavstats.vfield",
    "decision_probs": "behavstats.vfield",
    "RolloutConfig": "behavstats.rollout",
    "run_episodes": "behavstats.rollout",
    "level_episodes": "behavstats.rollout",
    "gather": "behavstats.rollout",
    "evaluate": "behavstats.evaluation",
    "run_study": "behavstats.stats",
    "reference_results": "behavstats.reference",
}
__all__ = ["__version__", *_EXPORTS]

_MOVED = {"forward": "engine", "evaluate": "evaluation"}
"""Old submodule name -> its module's name now (the old one is an exported function)."""


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'behavstats' has no attribute {name!r}")


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
