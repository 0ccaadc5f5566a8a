"""The host application: REST under `/`, MCP under `/mcp` and `/sessions/{id}/mcp`, over one session backend."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route

import awm_release
from env_server.errors import HostError
from env_server.limits import install_limits
from env_server.mcp_endpoint import McpEndpoint
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

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp.sdk.run():
            sweeper = asyncio.create_task(_sweep(backend, mcp))
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
    install_limits(app, max_body_bytes)

    @app.exception_handler(HostError)
    async def host_error(_: Request, exc: HostError) -> JSONResponse:
        return JSONResponse(exc.to_json(), status_code=exc.status)

    methods = ["GET", "POST", "DELETE"]
    bundle_endpoint = _AsgiEndpoint(mcp.handle_bundle)
    app.router.routes.append(Route("/mcp", bundle_endpoint, methods=methods))
    app.router.routes.append(Route("/mcp/{bundle_id}", bundle_endpoint, methods=methods))
    app.router.routes.append(Route("/sessions/{session_id}/mcp", _AsgiEndpoint(mcp.handle_session), methods=methods))
    return app


async def _sweep(backend: SessionBackend, mcp: McpEndpoint) -> None:
    """Expire idle sessions so abandoned rollouts do not hold memory forever."""
    while True:
        await asyncio.sleep(SWEEP_INTERVAL_S)
        expired = await backend.expire_idle()
        if expired:
            mcp.forget(expired)
            log.info("expired %d idle session(s)", len(expired))
