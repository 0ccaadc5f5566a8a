"""The host application: REST under `/`, MCP under `/mcp` and `/sessions/{id}/mcp`, OpenEnv under `/openenv` (and `/ws`),
and the viewer under `/ui`, over one session backend."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.routing import Route

import awm_release
from awm_release.viewer.app import create_viewer
from awm_release.viewer.live import LiveSource
from awm_release.viewer.run_folders import run_root
from env_server.errors import HostError, invalid_request
from env_server.limits import install_limits
from env_server.mcp_endpoint import McpEndpoint
from env_server.openenv_protocol import OpenEnvEndpoint
from env_server.rest import build_router
from env_server.worker_pool import SessionBackend

log = logging.getLogger("awm.serve")
SWEEP_INTERVAL_S = 30.0


class _AsgiEndpoint:
    """Adapts an ASGI callable so Starlette's Route passes it through untouched (MCP needs raw ASGI)."""

    def __init__(self, handler):
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        await self.handler(scope, receive, send)


def create_app(backend: SessionBackend, *, idle_timeout_s: float, max_body_bytes: int = 1 << 20,
               sandbox_info: dict | None = None) -> FastAPI:
    mcp = McpEndpoint(backend, idle_timeout_s)
    openenv = OpenEnvEndpoint(backend)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp.sdk.run():
            sweeper = asyncio.create_task(_sweep(backend, mcp, openenv))
            try:
                yield
            finally:
                sweeper.cancel()

    app = FastAPI(
        title="awm-serve",
        version=awm_release.__version__,
        description="Agent World Model environments: isolated per-session SQLite state behind REST and MCP.",
        lifespan=lifespan,
    )
    app.include_router(build_router(backend, sandbox_info or {"enabled": False}))
    app.include_router(openenv.router)
    install_limits(app, max_body_bytes)

    @app.exception_handler(HostError)
    async def host_error(_: Request, exc: HostError) -> JSONResponse:
        return JSONResponse(exc.to_json(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def wrong_shape(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await host_error(request, invalid_request(list(exc.errors())))

    methods = ["GET", "POST", "DELETE"]
    bundle_endpoint = _AsgiEndpoint(mcp.handle_bundle)
    app.router.routes.append(Route("/mcp", bundle_endpoint, methods=methods))
    app.router.routes.append(Route("/mcp/{bundle_id}", bundle_endpoint, methods=methods))
    app.router.routes.append(Route("/sessions/{session_id}/mcp", _AsgiEndpoint(mcp.handle_session), methods=methods))
    app.mount("/ui", _viewer(backend))
    return app


def _viewer(backend: SessionBackend):
    """The web viewer at /ui: bundles, live sessions and the run folders of --runs-dir."""
    runs_dir = backend.config.runs_dir
    if runs_dir is not None:
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
    return create_viewer([run_root(runs_dir)] if runs_dir is not None else [], LiveSource(backend))


async def _sweep(backend: SessionBackend, mcp: McpEndpoint, openenv: OpenEnvEndpoint) -> None:
    """Expire idle sessions so abandoned rollouts do not hold memory forever."""
    while True:
        await asyncio.sleep(SWEEP_INTERVAL_S)
        expired = await backend.expire_idle()
        if expired:
            mcp.forget(expired)
            openenv.forget(expired)
            log.info("expired %d idle session(s)", len(expired))
