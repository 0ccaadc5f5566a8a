"""Run a bundle's generated FastAPI app in-process, with every request routed to its session's database.

The environment code is executed once per process, as the original AWM runtime runs it: every engine it
creates (whatever URL it names) is the bundle's one routing engine, so its module-level code
(`Base.metadata.create_all(engine)`, and anything else) runs against the template database being built.
Afterwards its sessionmakers are given a session class whose `get_bind` returns the current request's
session connection (a context variable); so each request sees the in-memory SQLite database of the
session that made it, and no code is re-executed.
Tool calls are ASGI calls into the app, through its middleware and exception handlers, each to its own
route: two routes on one method and path are two tools that each run their own handler.

Isolation: environment code runs inside the server process. A handler that loops forever or allocates
without bound affects the process it runs in; see the README's "What is isolated" section.
"""

from __future__ import annotations

import ast
import json
import linecache
import os
import re
import sqlite3
import sys
import traceback
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy
import sqlalchemy.engine
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import NullPool
from starlette.convertors import StringConvertor
from starlette.exceptions import HTTPException

from awm_release.bundle import Bundle
from awm_release.routes import HTTP_METHODS
from env_server.errors import EnvironmentLoadError, ToolCallError
from env_server.tools import Request, Tool, tool_from_operation, unique_names

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
        request = tool.build_request(arguments or {})
        token = current_database.set(db)
        try:
            status, is_json, raw = await self._asgi_request(tool, request)
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
        detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
        if status == 422:
            raise ToolCallError("invalid_arguments", _validation_message(tool.name, payload), status=422, detail=detail)
        kind = "tool_error" if status < 500 else "environment_error"
        raise ToolCallError(kind, f"{tool.name} answered HTTP {status}: {_text(detail)}", status=status, detail=detail)

    async def _asgi_request(self, tool: Tool, request: Request) -> tuple[int, bool, bytes]:
        """One request into the app, for the tool's own route: (status, is the body JSON, body)."""
        body = request.body
        headers = [(b"host", b"awm-env"), (b"accept", b"application/json"), *request.headers]
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        path, raw_path = tool.path, tool.path
        for name, value in request.path_params.items():
            path = path.replace("{" + name + "}", value)
            raw_path = raw_path.replace("{" + name + "}", quote(value, safe=""))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": tool.method,
            "scheme": "http",
            "path": path,
            "raw_path": raw_path.encode("utf-8"),
            "root_path": "",
            "query_string": request.query,
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("awm-env", 80),
        }
        if tool.route is not None:
            scope[_ROUTE_KEY] = (tool.route, request.path_params)
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
        raw_loc = list(err.get("loc", []))
        loc = [str(p) for p in raw_loc if p not in ("body", "query", "path", "header")]
        field_name = ".".join(loc) or ("(request body: no body arguments were given)" if raw_loc == ["body"] else "(arguments)")
        got = f" (got {json.dumps(err['input'])[:80]})" if "input" in err and err["input"] is not None else ""
        parts.append(f"{field_name}: {err.get('msg', 'invalid')}{got}")
    return f"invalid arguments for {tool_name}: " + "; ".join(parts)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)[:500]


def load_environment(bundle: Bundle, database: sqlite3.Connection | None = None) -> Environment:
    """Execute the bundle's code once (without its `__main__` block) and rebind its database handles.

    Its module-level code runs against `database` (the template being built, as the original runtime runs it
    against the bundle's database file), or against a throwaway in-memory database when none is given.
    """
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
    engine = _routing_engine()
    template = SessionDatabase(database if database is not None else sqlite3.connect(":memory:"))
    token = current_database.set(template)
    try:
        with _every_engine_is(engine), _database_variables(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generated code uses FastAPI's deprecated `example=`; not the user's concern
            exec(compile(tree, filename, "exec"), module.__dict__)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == filename), None)
        source_line = linecache.getline(filename, line) if line else None
        raise EnvironmentLoadError(bundle.bundle_id, f"{type(exc).__name__}: {exc}", line, source_line) from None
    finally:
        template.end_request()
        template.release()
        current_database.reset(token)
        if database is None:
            template.conn.close()
    app = _find_app(bundle.bundle_id, module)
    _rebind_database_handles(module, engine)
    tools = {tool.name: tool for tool in app_tools(app)}
    if not tools:
        raise EnvironmentLoadError(bundle.bundle_id, "the FastAPI app defines no routes, so there are no tools")
    return Environment(bundle.bundle_id, app, tools, filename)


@contextmanager
def _every_engine_is(engine: Engine) -> Iterator[None]:
    """While the code runs, `create_engine(...)` gives the bundle's routing engine, whatever URL it names.

    The original runtime rewrites every `create_engine(` line of the code to open the bundle's database
    file; this is the same, without editing source text.
    """
    saved = sqlalchemy.create_engine, sqlalchemy.engine.create_engine

    def bundle_engine(*args: Any, **kwargs: Any) -> Engine:
        return engine

    sqlalchemy.create_engine = sqlalchemy.engine.create_engine = bundle_engine
    try:
        yield
    finally:
        sqlalchemy.create_engine, sqlalchemy.engine.create_engine = saved


@contextmanager
def _database_variables() -> Iterator[None]:
    """DATABASE_PATH / DATABASE_URL name an in-memory database while the code runs (nothing on disk)."""
    saved = {name: os.environ.get(name) for name in _DATABASE_ENV_VARS}
    for name in _DATABASE_ENV_VARS:
        os.environ[name] = "sqlite://"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def app_tools(app: FastAPI) -> list[Tool]:
    """One tool per route and method, in declaration order, each bound to its own route.

    FastAPI's OpenAPI document keeps only the last of several routes on one method and path; each of the
    others gets its operation from a document of its own, so none disappears and none borrows another's schema.
    """
    openapi = app.openapi()
    routes: dict[tuple[str, str], list[APIRoute]] = {}
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods:
                routes.setdefault((route.path_format, method.lower()), []).append(route)
    direct = _install_route_dispatch(app)
    tools: list[Tool] = []
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            candidates = routes.get((path, method), []) if direct else []
            if len(candidates) < 2:
                tools.append(tool_from_operation(method, path, operation, openapi, candidates[0] if candidates else None))
                continue
            for route in candidates:  # several routes on one method and path: a document per route
                own = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version, routes=[route])
                tools.append(tool_from_operation(method, path, own["paths"][path][method], own, route))
    return unique_names(tools)


_ROUTE_KEY = "awm.route"  # scope key: (route, path values) of the tool being called


def _install_route_dispatch(app: FastAPI) -> bool:
    """Make the app's router hand a request carrying `_ROUTE_KEY` straight to that route (False if it cannot)."""
    router = app.router
    by_path = getattr(router, "middleware_stack", None)
    if by_path is None:
        return False
    if getattr(by_path, "awm_dispatch", False):
        return True

    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        target = scope.get(_ROUTE_KEY)
        if target is None:
            await by_path(scope, receive, send)
            return
        route, values = target
        params: dict[str, Any] = {}
        for name, value in values.items():
            convertor = route.param_convertors.get(name)
            if convertor is None:
                continue
            # A string value is passed whole (even with a `/`); other types must look like themselves, as in a URL.
            if not value or (not isinstance(convertor, StringConvertor) and not re.fullmatch(convertor.regex, value)):
                raise HTTPException(status_code=404)  # what the router answers when no route takes the path
            params[name] = convertor.convert(value)
        scope.setdefault("router", router)
        scope.update({"endpoint": route.endpoint, "path_params": params, "route": route})
        await route.handle(scope, receive, send)

    dispatch.awm_dispatch = True  # type: ignore[attr-defined]
    router.middleware_stack = dispatch
    return True


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


def _rebind_database_handles(module: types.ModuleType, engine: Engine) -> None:
    """Route every module-level Engine, sessionmaker and scoped_session to the current session's database."""
    for name, value in list(vars(module).items()):
        if isinstance(value, Engine):
            if value is not engine:
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
