"""The ports awm-serve and awm view serve on, bound before anything is printed.

Binding first means a taken port is one clear line with a port that is free now, not a "serving" banner
followed by uvicorn's raw `Errno 98`.
"""

from __future__ import annotations

import errno
import socket


class PortUnavailable(RuntimeError):
    """The port cannot be listened on; the message says what to pass instead."""


def bind_port(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: any free one), or PortUnavailable saying what to do.

    Not yet listening: uvicorn listens when it starts serving, with its own backlog.
    """
    sock = _socket_for(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} on {host} is already in use (another awm-serve, awm view or a model server?): serve on "
                f"another with --port, e.g. --port {_free_port_after(host, port)}, or --port 0 for any free one") from None
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host and --port") from None
    return sock


def _socket_for(host: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)


def _free_port_after(host: str, port: int) -> int:
    """The next port above `port` that binds now (a suggestion; 0 when none of the next 50 is free)."""
    for candidate in range(port + 1, min(port + 51, 65536)):
        with _socket_for(host) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return 0
