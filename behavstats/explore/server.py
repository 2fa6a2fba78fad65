"""Serving the explorer: uvicorn in the foreground (the CLI) or in a thread (Python,
Jupyter, tests)."""

from __future__ import annotations

import threading
import time

import uvicorn

from behavstats.explore.app import create_app
from behavstats.explore.engine import Engine
from behavstats.policy import Policy, load_policy


def build_engine(policy: str | Policy = "default") -> Engine:
    """An engine for a policy file or shipped name, or for a Policy object."""
    if isinstance(policy, Policy):
        return Engine(policy, name="<your Policy object>")
    return Engine(load_policy(policy), name=str(policy))


class Server:
    """The explorer app under uvicorn on `host:port` (port 0: a free one)."""

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 8000):
        config = uvicorn.Config(create_app(engine), host=host, port=port,
                                log_level="warning", timeout_graceful_shutdown=2)
        self.uvicorn = uvicorn.Server(config)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = self.uvicorn.servers[0].sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/"

    def start(self, timeout: float = 30.0) -> Server:
        """Serve in a daemon thread; returns once the socket listens."""
        self._thread = threading.Thread(target=self.uvicorn.run, daemon=True,
                                        name="behavstats-explore")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the explorer did not start on {self.host} "
                                   "(is the port in use?)")
            time.sleep(0.02)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C reaches the caller)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
