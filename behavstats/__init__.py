"""behavstats: statistical behavioural analysis of maze-solving policy networks.

The public API is re-exported here and imported lazily (on first use), so that
`import behavstats` stays cheap and has no side effects.
"""

from __future__ import annotations

import importlib

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
    "forward": "behavstats.forward",
    "activations": "behavstats.forward",
    "LayerCache": "behavstats.forward",
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
    "evaluate": "behavstats.evaluate",
    "run_study": "behavstats.stats",
    "reference_results": "behavstats.reference",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'behavstats' has no attribute {name!r}")
