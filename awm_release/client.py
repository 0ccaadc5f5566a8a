"""A Python client for awm-serve: sessions over its REST API, sync (`AWMClient`) and async (`AsyncAWMClient`).

    from awm_release.client import AWMClient

    with AWMClient("http://127.0.0.1:8000") as client:
        with client.session(task_idx=0) as env:              # a private copy of the bundle's database
            print(env.task, [tool["name"] for tool in env.tools()])
            print(env.call("search_books", {"query": "Le Guin"}))   # {"ok": true, "result": ...}
            print(env.verify())                               # {"result": "others", "reward": 0.0, ...}

Every method returns the server's JSON as it is (see the REST table in the README). Tool failures are
observations (`{"ok": false, "error": {...}}`), not exceptions; what the server refuses raises `AWMServerError`
(its `kind` is the server's error type), and a session lost with its worker raises `SessionLost`. A session is
closed when its `with` block ends, also on an exception; closing twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 300.0  # a verification in sql mode waits for the LLM judge


class AWMServerError(RuntimeError):
    """awm-serve refused a request (`kind` is its error type, `status` the HTTP status) or could not be reached."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


class SessionLost(AWMServerError):
    """The session's worker was lost (its environment hung, crashed or hoarded memory): HTTP 410."""


@dataclass(frozen=True)
class _Request:
    """One REST request, built once and sent by either client."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _create(bundle_id: str | None, task_idx: int | None, record: bool) -> _Request:
    return _Request("POST", "/sessions", {"bundle_id": bundle_id, "task_idx": task_idx, "record": record})


def _call(session_id: str, tool: str, arguments: dict[str, Any] | None) -> _Request:
    return _Request("POST", f"/sessions/{session_id}/call", {"tool": tool, "arguments": arguments or {}})


def _verify(session_id: str, mode: str, final_answer: str | None, task_idx: int | None,
            rewards: dict[str, float] | None) -> _Request:
    body = {"mode": mode, "final_answer": final_answer, "task_idx": task_idx, "rewards": rewards}
    return _Request("POST", f"/sessions/{session_id}/verify", body)


def _close(session_id: str, save: bool) -> _Request:
    return _Request("DELETE", f"/sessions/{session_id}", params={"save": "true"} if save else {})


def _checked(response: httpx.Response, request: _Request) -> httpx.Response:
    """The response if it succeeded, else the server's error as AWMServerError / SessionLost."""
    if response.is_success:
        return response
    try:
        error = response.json()["error"]
        kind, message = str(error["type"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        kind = "bad_response"
        message = f"HTTP {response.status_code} from {request.method} {request.path}: {response.text[:200]!r}"
    if response.status_code == 410:
        raise SessionLost(kind, message, response.status_code)
    raise AWMServerError(kind, f"awm-serve: {message}", response.status_code)


def _unreachable(url: str, exc: httpx.HTTPError) -> AWMServerError:
    return AWMServerError("unreachable", f"cannot reach awm-serve at {url} ({type(exc).__name__}: {exc}); start it "
                                         "with `awm-serve ...` or check the URL")


class _SessionInfo:
    """What the server said about a session when it was created."""

    def __init__(self, created: dict[str, Any]):
        self.info = created
        self.session_id: str = created["session_id"]
        self.bundle_id: str = created["bundle_id"]
        self.task_idx: int | None = created.get("task_idx")
        self.task: str | None = created.get("task")
        self.mcp_url: str | None = created.get("mcp_url")
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {self.session_id} {self.bundle_id} task={self.task_idx} {state}>"


class AWMClient:
    """A connection to one awm-serve; `session(...)` creates an isolated environment for a task."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def _send(self, request: _Request) -> httpx.Response:
        try:
            response = self._http.request(request.method, request.path, json=request.json, params=request.params)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None
        return _checked(response, request)

    def health(self) -> dict[str, Any]:
        """{"status", "sessions", "bundles"}."""
        return self._send(_Request("GET", "/health")).json()

    def bundles(self) -> list[dict[str, Any]]:
        """The served bundles: id, display name, task count, whether hydrated."""
        return self._send(_Request("GET", "/bundles")).json()["bundles"]

    def bundle(self, bundle_id: str) -> dict[str, Any]:
        """One bundle: its tasks and tools (every session of it gets the same tools)."""
        return self._send(_Request("GET", f"/bundles/{bundle_id}")).json()

    def session(self, bundle_id: str | None = None, task_idx: int | None = None, *, record: bool = True) -> Session:
        """Create a session for `task_idx` of `bundle_id` (optional when the server serves one bundle)."""
        return Session(self, self._send(_create(bundle_id, task_idx, record)).json())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AWMClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Session(_SessionInfo):
    """One environment on awm-serve: its own database, tools, calls, reset, verification. Close it when done."""

    def __init__(self, client: AWMClient, created: dict[str, Any]):
        super().__init__(created)
        self._client = client

    def tools(self) -> list[dict[str, Any]]:
        """The tools: name, description and the JSON Schema of the arguments."""
        return self._client._send(_Request("GET", f"/sessions/{self.session_id}/tools")).json()["tools"]

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """{"ok": true, "result": ...} or {"ok": false, "error": {"type", "message"}}."""
        return self._client._send(_call(self.session_id, tool, arguments)).json()

    def reset(self) -> dict[str, Any]:
        """Back to the seed database (and an empty call record)."""
        return self._client._send(_Request("POST", f"/sessions/{self.session_id}/reset")).json()

    def verify(self, *, mode: str = "code", final_answer: str | None = None, task_idx: int | None = None,
               rewards: dict[str, float] | None = None) -> dict[str, Any]:
        """Judge the task on the seed vs the current database: {"result", "reward", ...}."""
        return self._client._send(_verify(self.session_id, mode, final_answer, task_idx, rewards)).json()

    def database(self) -> bytes:
        """The session's current SQLite database file."""
        return self._client._send(_Request("GET", f"/sessions/{self.session_id}/database")).content

    def close(self, *, save: bool = False) -> dict[str, Any] | None:
        """Close the session (with `save`, the server first writes its run folder); None if already closed."""
        if self.closed:
            return None
        self.closed = True
        return self._client._send(_close(self.session_id, save)).json()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.close()
        except AWMServerError:
            if exc is None:  # the block's own exception matters more than a failed close
                raise


class AsyncAWMClient:
    """The asyncio twin of `AWMClient`: `await client.session(...)`, then `await env.call(...)`."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def _send(self, request: _Request) -> httpx.Response:
        try:
            response = await self._http.request(request.method, request.path, json=request.json, params=request.params)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, exc) from None
        return _checked(response, request)

    async def health(self) -> dict[str, Any]:
        return (await self._send(_Request("GET", "/health"))).json()

    async def bundles(self) -> list[dict[str, Any]]:
        return (await self._send(_Request("GET", "/bundles"))).json()["bundles"]

    async def bundle(self, bundle_id: str) -> dict[str, Any]:
        return (await self._send(_Request("GET", f"/bundles/{bundle_id}"))).json()

    async def session(self, bundle_id: str | None = None, task_idx: int | None = None, *,
                      record: bool = True) -> AsyncSession:
        return AsyncSession(self, (await self._send(_create(bundle_id, task_idx, record))).json())

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncAWMClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class AsyncSession(_SessionInfo):
    """The asyncio twin of `Session`."""

    def __init__(self, client: AsyncAWMClient, created: dict[str, Any]):
        super().__init__(created)
        self._client = client

    async def tools(self) -> list[dict[str, Any]]:
        return (await self._client._send(_Request("GET", f"/sessions/{self.session_id}/tools"))).json()["tools"]

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        return (await self._client._send(_call(self.session_id, tool, arguments))).json()

    async def reset(self) -> dict[str, Any]:
        return (await self._client._send(_Request("POST", f"/sessions/{self.session_id}/reset"))).json()

    async def verify(self, *, mode: str = "code", final_answer: str | None = None, task_idx: int | None = None,
                     rewards: dict[str, float] | None = None) -> dict[str, Any]:
        return (await self._client._send(_verify(self.session_id, mode, final_answer, task_idx, rewards))).json()

    async def database(self) -> bytes:
        return (await self._client._send(_Request("GET", f"/sessions/{self.session_id}/database"))).content

    async def close(self, *, save: bool = False) -> dict[str, Any] | None:
        if self.closed:
            return None
        self.closed = True
        return (await self._client._send(_close(self.session_id, save))).json()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            await self.close()
        except AWMServerError:
            if exc is None:
                raise
