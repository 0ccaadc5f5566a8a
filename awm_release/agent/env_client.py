"""An async client for awm-serve's REST API, and `awm_serve_url`: a given server, or one started for the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from env_server.process import ServerProcess

SERVER_STARTUP_TIMEOUT_S = 600.0  # hydrating hundreds of bundles at start-up takes a while


class EnvServerError(RuntimeError):
    """awm-serve refused a request (`kind` is its error type) or could not be reached."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


class SessionLost(EnvServerError):
    """The session's worker was lost (the environment hung, crashed or hoarded memory): HTTP 410."""


class EnvClient:
    """The session calls an episode needs: create, tools, call, verify, database, close."""

    def __init__(self, url: str, *, timeout_s: float = 300.0):
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout_s)

    async def health(self) -> dict[str, Any]:
        return (await self._request("GET", "/health")).json()

    async def bundle(self, bundle_id: str) -> dict[str, Any]:
        """A bundle's tasks and tools (the same tool list every session of it gets)."""
        return (await self._request("GET", f"/bundles/{bundle_id}")).json()

    async def create_session(self, bundle_id: str, task_idx: int) -> dict[str, Any]:
        return (await self._request("POST", "/sessions", json={"bundle_id": bundle_id, "task_idx": task_idx})).json()

    async def tools(self, session_id: str) -> list[dict[str, Any]]:
        return (await self._request("GET", f"/sessions/{session_id}/tools")).json()["tools"]

    async def call(self, session_id: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """{"ok": true, "result"} or {"ok": false, "error": {type, message}}: tool errors are observations."""
        return (await self._request("POST", f"/sessions/{session_id}/call", json={"tool": tool, "arguments": arguments})).json()

    async def verify(self, session_id: str, mode: str, final_answer: str | None) -> dict[str, Any]:
        body = {"mode": mode, "final_answer": final_answer}
        return (await self._request("POST", f"/sessions/{session_id}/verify", json=body)).json()

    async def database(self, session_id: str) -> bytes:
        return (await self._request("GET", f"/sessions/{session_id}/database")).content

    async def close_session(self, session_id: str) -> None:
        await self._request("DELETE", f"/sessions/{session_id}")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise EnvServerError("unreachable", f"cannot reach awm-serve at {self.url} ({type(exc).__name__}: {exc}); "
                                 "start it with `awm-serve ...`, or leave out --server to have one started") from None
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
            kind, message = str(error["type"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            kind, message = "bad_response", f"HTTP {response.status_code} from {method} {path}: {response.text[:200]!r}"
        if response.status_code == 410:
            raise SessionLost(kind, message, response.status_code)
        raise EnvServerError(kind, f"awm-serve: {message}", response.status_code)


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
        raise EnvServerError("server_start_failed", f"awm-serve did not start: {start_failure_reason(str(exc))}") from None
    try:
        yield server.url
    finally:
        server.stop()


def start_failure_reason(output: str) -> str:
    """The line of a failed awm-serve start that says why (its `error:` line), without the noise around it."""
    lines = [line for line in output.splitlines() if line.strip()]
    reason = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
    return reason.strip().removeprefix("error:").strip()
