"""`awm view`: the viewer alone, on loopback, over run folders (no awm-serve needed)."""

from __future__ import annotations

import errno
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


class ViewServerError(RuntimeError):
    """The viewer could not start; the message says what to change."""


def standalone_app(roots: Sequence[RunRoot]) -> ASGIApp:
    return Starlette(routes=[Route("/", lambda _request: RedirectResponse(f"{MOUNT}/")), Mount(MOUNT, create_viewer(roots))])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), bound before anything is printed so errors come first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ViewServerError(f"port {port} on {host} is in use (another awm view or awm-serve?): pass --port N "
                                  "for another port, or --port 0 for any free one") from None
        raise ViewServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{MOUNT}/"


def serve(roots: Sequence[RunRoot], sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = uvicorn.Server(uvicorn.Config(standalone_app(roots), log_level="warning", lifespan="off", access_log=False))
    server.run(sockets=[sock])
