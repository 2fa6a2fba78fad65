"""The package's version, in a module of its own so that submodules can read it without
importing the package's `__init__` (the public API, which sits above every layer)."""

__version__ = "0.3.0"
