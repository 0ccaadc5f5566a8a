"""Run a bundle's generated FastAPI app in-process, with every request routed to its session's database.

The environment code is executed once per process. Its module-level sessionmakers are given a session
class whose `get_bind` returns the current request's session connection (a context variable), drawn
from one routing engine per bundle that also replaces the module-level `engine`; so each request sees
the in-memory SQLite database of the session that made it, and no code is re-executed.
Tool calls are ASGI calls straight into the app: no sockets, no subprocesses.

Isolation: environment code runs inside the server process. A handler that loops forever or allocates
without bound affects the process it runs in; see the README's "What is isolated" section.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import sqlite3
import sys
import traceback
import types
import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import NullPool

from awm_release.bundle import Bundle
from env_server.errors import EnvironmentLoadError, ToolCallError
from env_server.tools import Tool, tools_from_openapi

class SessionDatabase:
    """One session's SQLite connection, and the SQLAlchemy Connection over it that its requests share.

    All sessions of a bundle share one engine (so SQL compiled for one session is reused by all); each
    session checks out one Connection from it on first use and keeps it, so per-request pool work is nil.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._connection: Connection | None = None

    def connection(self, engine: Engine) -> Connection:
        if self._connection is None:
            self._connection = engine.connect()
        return self._connection

    def end_request(self) -> None:
        """What returning a pooled connection does: roll back anything the handler left uncommitted."""
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()

    def release(self) -> None:
        """Give the SQLAlchemy connection back; the SQLite database stays open."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        self.release()
        self.conn.close()


# The database of the session whose request is being handled (set around every dispatched call).
current_database: ContextVar[SessionDatabase] = ContextVar("awm_current_database")

_DATABASE_ENV_VARS = ("DATABASE_PATH", "DATABASE_URL")


class _BorrowedConnection:
    """A session's sqlite3 connection lent to SQLAlchemy: pool `close()` must not close the session's database."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection):
        object.__setattr__(self, "_conn", conn)

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)


def _current() -> SessionDatabase:
    try:
        return current_database.get()
    except LookupError:
        raise RuntimeError("environment code touched the database outside a session request") from None


def _routing_engine() -> Engine:
    # NullPool: every checkout asks the creator, i.e. the current session's connection.
    return create_engine("sqlite://", creator=lambda: _BorrowedConnection(_current().conn), poolclass=NullPool)


@dataclass
class Environment:
    """A loaded environment: the app, its tools, and the engine that routes to session databases."""

    bundle_id: str
    app: FastAPI
    tools: dict[str, Tool]
    filename: str

    async def call(self, db: SessionDatabase | sqlite3.Connection, tool_name: str, arguments: dict[str, Any] | None) -> bytes:
        """Call one tool against a session's database; returns the response as JSON bytes, or raises ToolCallError.

        Bytes, not objects: REST passes them through untouched, so large results are never re-encoded.
        A bare sqlite3 connection works too (one-off use: its engine is made for this call).
        """
        borrowed = isinstance(db, sqlite3.Connection)
        if borrowed:
            db = SessionDatabase(db)
        tool = self.tools.get(tool_name)
        if tool is None:
            raise ToolCallError(
                "unknown_tool", f"no tool named {tool_name!r} in {self.bundle_id}; available: {', '.join(self.tools)}"
            )
        path, query, body = tool.build_request(arguments or {})
        token = current_database.set(db)
        try:
            status, is_json, raw = await self._asgi_request(tool.method, path, query, body)
        except Exception as exc:  # raised inside the environment's own code
            raise ToolCallError("environment_error", self._describe_crash(exc), status=500) from None
        finally:
            db.end_request()
            if borrowed:
                db.release()
            current_database.reset(token)
        body_json = _as_json_bytes(raw, is_json)
        if status < 400:
            return body_json
        payload = json.loads(body_json)
        if status == 422:
            raise ToolCallError("invalid_arguments", _validation_message(tool.name, payload), status=422, detail=payload)
        detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
        kind = "tool_error" if status < 500 else "environment_error"
        raise ToolCallError(kind, f"{tool.name} answered HTTP {status}: {_text(detail)}", status=status, detail=detail)

    async def _asgi_request(self, method: str, path: str, query: bytes, body: bytes | None) -> tuple[int, bool, bytes]:
        """One request straight into the app: (status, is the body JSON, body)."""
        headers = [(b"host", b"awm-env"), (b"accept", b"application/json")]
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query,
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("awm-env", 80),
        }
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if sent_body:
                return {"type": "http.disconnect"}
            sent_body = True
            return {"type": "http.request", "body": body or b"", "more_body": False}

        status = 500
        is_json = False
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, is_json
            if message["type"] == "http.response.start":
                status = message["status"]
                is_json = any(k == b"content-type" and b"json" in v for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, is_json, b"".join(chunks)

    def _describe_crash(self, exc: BaseException) -> str:
        """`ZeroDivisionError: division by zero (env_code line 120: 'x = 1 / 0')` - enough to fix the bundle."""
        where = ""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename == self.filename:
                where = f" (env_code line {frame.lineno}: {(frame.line or '').strip()!r})"
                break
        return f"{type(exc).__name__}: {exc}{where}"


def _as_json_bytes(raw: bytes, is_json: bool) -> bytes:
    """The body as JSON: empty becomes null, and a non-JSON body (plain text, HTML) becomes a JSON string."""
    if not raw:
        return b"null"
    return raw if is_json else json.dumps(raw.decode("utf-8", "replace")).encode()


def _validation_message(tool_name: str, payload: Any) -> str:
    """FastAPI's 422 detail as `field: why` lines."""
    errors = payload.get("detail") if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return f"{tool_name}: invalid arguments: {_text(payload)}"
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path")]
        field_name = ".".join(loc) or "(arguments)"
        got = f" (got {json.dumps(err['input'])[:80]})" if "input" in err and err["input"] is not None else ""
        parts.append(f"{field_name}: {err.get('msg', 'invalid')}{got}")
    return f"invalid arguments for {tool_name}: " + "; ".join(parts)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)[:500]


def load_environment(bundle: Bundle) -> Environment:
    """Execute the bundle's code once (without its `__main__` block) and rebind its database handles."""
    if bundle.env_code is None:
        raise EnvironmentLoadError(bundle.bundle_id, "the bundle has no environment code (gen_envs) and cannot be served")
    filename = f"<awm-env {bundle.bundle_id}>"
    source = bundle.env_code
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise EnvironmentLoadError(bundle.bundle_id, f"syntax error: {exc.msg}", exc.lineno, exc.text) from None
    tree.body = [node for node in tree.body if not _is_main_guard(node)]
    module_name = f"awm_env_{bundle.bundle_id}"
    module = types.ModuleType(module_name)
    module.__file__ = filename
    sys.modules[module_name] = module  # pydantic resolves forward references through sys.modules
    saved = {name: os.environ.get(name) for name in _DATABASE_ENV_VARS}
    try:
        for name in _DATABASE_ENV_VARS:  # import-time engine points at a throwaway in-memory database
            os.environ[name] = "sqlite://"
        with warnings.catch_warnings():  # generated code uses FastAPI's deprecated `example=`; not the user's concern
            warnings.simplefilter("ignore")
            exec(compile(tree, filename, "exec"), module.__dict__)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == filename), None)
        source_line = linecache.getline(filename, line) if line else None
        raise EnvironmentLoadError(bundle.bundle_id, f"{type(exc).__name__}: {exc}", line, source_line) from None
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    app = _find_app(bundle.bundle_id, module)
    _rebind_database_handles(module)
    tools = {tool.name: tool for tool in tools_from_openapi(app.openapi())}
    if not tools:
        raise EnvironmentLoadError(bundle.bundle_id, "the FastAPI app defines no routes, so there are no tools")
    return Environment(bundle.bundle_id, app, tools, filename)


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = {getattr(n, "id", None) for n in ast.walk(node.test)} | {getattr(n, "value", None) for n in ast.walk(node.test)}
    return "__name__" in names and "__main__" in names


def _find_app(bundle_id: str, module: types.ModuleType) -> FastAPI:
    candidate = getattr(module, "app", None)
    if isinstance(candidate, FastAPI):
        return candidate
    apps = [v for v in vars(module).values() if isinstance(v, FastAPI)]
    if len(apps) != 1:
        raise EnvironmentLoadError(bundle_id, f"expected one FastAPI app at module level, found {len(apps)}")
    return apps[0]


def _rebind_database_handles(module: types.ModuleType) -> None:
    """Route every module-level Engine, sessionmaker and scoped_session to the current session's database."""
    engine = _routing_engine()
    for name, value in list(vars(module).items()):
        if isinstance(value, Engine):
            value.dispose()
            setattr(module, name, engine)
        elif isinstance(value, scoped_session):
            value.remove()
            _route_sessionmaker(value.session_factory, engine)
        elif isinstance(value, sessionmaker):
            _route_sessionmaker(value, engine)


def _route_sessionmaker(factory: sessionmaker, engine: Engine) -> None:
    """SQLAlchemy's documented way to choose a bind per operation: a Session subclass overriding get_bind."""

    def get_bind(self: Session, *args: Any, **kwargs: Any) -> Connection:
        return _current().connection(engine)

    factory.configure(bind=engine)
    factory.class_ = type(f"Routed{factory.class_.__name__}", (factory.class_,), {"get_bind": get_bind})
