"""`awm_serve_url`: the awm-serve a run was given, or one started for the run (and stopped after it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from awm_release.client import AWMServerError
from env_server.process import ServerProcess

SERVER_STARTUP_TIMEOUT_S = 600.0  # hydrating hundreds of bundles at start-up takes a while


@contextmanager
def awm_serve_url(server_url: str | None, serve_args: list[str], *, workers: int | None = None) -> Iterator[str]:
    """`server_url` as is, or the URL of an awm-serve started with `serve_args` for the duration of the block."""
    if server_url:
        yield server_url.rstrip("/")
        return
    worker_args = ["--workers", str(workers if workers is not None else os.cpu_count() or 1)]
    try:
        server = ServerProcess([*serve_args, *worker_args], startup_timeout_s=SERVER_STARTUP_TIMEOUT_S, log_level="error").start()
    except (RuntimeError, TimeoutError) as exc:
        raise AWMServerError("server_start_failed", f"awm-serve did not start: {start_failure_reason(str(exc))}") from None
    try:
        yield server.url
    finally:
        server.stop()


def start_failure_reason(output: str) -> str:
    """The line of a failed awm-serve start that says why (its `error:` line), without the noise around it."""
    lines = [line for line in output.splitlines() if line.strip()]
    reason = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
    return reason.strip().removeprefix("error:").strip()
