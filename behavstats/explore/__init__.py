"""The interactive explorer: edit a maze in the browser and watch the policy change.

`behavstats explore` (the CLI) or `behavstats.explore(policy)` serves a local page
(FastAPI + uvicorn; static files, no build step) on the library's forward engine.
The module itself is callable, so `behavstats.explore(policy)` works whether or not
this subpackage has been imported.
"""

from __future__ import annotations

import sys
import types

from behavstats.explore.server import Server, build_engine
from behavstats.policy import Policy


def explore(policy: str | Policy = "default", *, host: str = "127.0.0.1", port: int = 8000,
            open_browser: bool = False, height: int = 900) -> Server:
    """Start the explorer in a background thread and print its URL; in IPython also
    show it inline (an IFrame). Returns the `Server` (`.url`, `.stop()`)."""
    server = Server(build_engine(policy), host=host, port=port).start()
    print(f"behavstats explorer: {server.url}")
    try:
        from IPython import get_ipython
        from IPython.display import IFrame, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(IFrame(server.url, width="100%", height=height))
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    return server


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs) -> Server:
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__all__ = ["Server", "explore"]
