"""`awm view`: the viewer alone, on loopback, over run folders (no awm-serve needed)."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from awm_release.viewer.app import create_viewer
from awm_release.viewer.run_folders import RunRoot

MOUNT = "/ui"  # the same path as on awm-serve, so links and bookmarks read alike


def standalone_app(roots: Sequence[RunRoot]) -> ASGIApp:
    return Starlette(routes=[Route("/", lambda _request: RedirectResponse(f"{MOUNT}/")), Mount(MOUNT, create_viewer(roots))])


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{MOUNT}/"


def serve(roots: Sequence[RunRoot], sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = uvicorn.Server(uvicorn.Config(standalone_app(roots), log_level="warning", lifespan="off", access_log=False))
    server.run(sockets=[sock])
