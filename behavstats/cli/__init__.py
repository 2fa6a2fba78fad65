"""The `behavstats` command line (also `python -m behavstats`): `app`, with one module
per command group, each registering its commands on import."""

from behavstats.cli import (  # noqa: F401
    episodes,
    interventions,
    maps,
    mazes,
    patching,
    probes,
    study,
    sweeps,
    train,
)
from behavstats.cli.app import app
from behavstats.cli.options import VECTOR_LAYER_NAME, usable_cores

__all__ = ["VECTOR_LAYER_NAME", "app", "usable_cores"]
