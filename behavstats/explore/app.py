"""The explorer's web app: a JSON API over `Engine` and the static page.

Requests are pydantic models (`behavstats.explore.state`); a request the explorer
refuses gets a 422 whose `detail` says why. Bodies are limited to `MAX_BODY` bytes.
Handlers are plain functions, so FastAPI runs them in its threadpool and the event
loop stays free while the engine (one worker lock) computes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from behavstats.explore import responses as r
from behavstats.explore.engine import Engine
from behavstats.explore.snippet import python_snippet
from behavstats.explore.state import (
    COEFF_LIMIT,
    ActivationRequest,
    EpisodeRequest,
    Refused,
    View,
)
from behavstats.levelspec import MAX_SEED
from behavstats.vocabulary import VECTOR_LAYER

STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a request body over `limit` bytes (read before the app
    sees it, whether or not the client sent a Content-Length)."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            size += len(message.get("body", b""))
            if size > self.limit:
                response = JSONResponse({"detail": f"request body over {self.limit} bytes"},
                                        status_code=413)
                return await response(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return body.pop() if body else await receive()

        return await self.app(scope, replay, send)


def create_app(engine: Engine) -> FastAPI:
    """The app serving one engine (its policy is fixed: no request names a file)."""
    app = FastAPI(title="behavstats explorer", version="1",
                  description="Edit a procgen maze and watch the policy's vector field.")
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(Refused)
    async def refused(_request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/info")
    def info() -> r.Info:
        layers = [r.LayerInfo(name=name, channels=c, size=s)
                  for name, (c, s) in engine.layers.items()]
        return r.Info(policy=engine.name, scale=engine.policy.scale, layers=layers,
                      vector_layer=VECTOR_LAYER, max_level=MAX_SEED, coeff_limit=COEFF_LIMIT)

    @app.post("/api/field")
    def field(view: View) -> r.FieldResponse:
        return engine.field(view)

    @app.post("/api/activations")
    def activations(request: ActivationRequest) -> r.ActivationResponse:
        return engine.activation(request)

    @app.post("/api/episode")
    def episode(request: EpisodeRequest) -> r.EpisodeResponse:
        return engine.episode(request)

    @app.post("/api/python")
    def python(view: View) -> r.PythonSnippet:
        side = engine.check_layer(view.interventions.layer)[1]
        engine.maze(view)  # refuse the edits the page would refuse
        return r.PythonSnippet(code=python_snippet(view, engine.name, side))

    return app
