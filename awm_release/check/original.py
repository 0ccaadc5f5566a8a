"""The original AWM runtime, reproduced from the AWM repository (`awm/core/db.py`, `sample.py`, `reset.py`,
`server.py`) and fastapi-mcp 0.4 (`openapi/convert.py`, `server.py`), to compare awm-serve against.

It is written apart from awm-serve's own hydration (awm_release.database, env_server) on purpose: a checker
that reused the code under test could not find its bugs.

- database: a file; per table its DDL then its indexes, a failure abandoning the rest of that table; commit;
  then, on a new connection with `PRAGMA foreign_keys = ON`, every seed statement, failures skipped; commit.
- server: the code with each line holding `create_engine(` replaced by an engine on that file, and the line
  holding `uvicorn.run(app` replaced by a run on a unix socket where the original listens on HOST/PORT (the
  sandbox has no network; the original also mounts fastapi-mcp there, which adds `/mcp` outside the OpenAPI and
  changes no tool; fastapi-mcp 0.4 does not install beside mcp 2.x), run as its own process (in awm-serve's
  sandbox), which executes its module-level code against the file.
- tools: one per OpenAPI operation, keyed by operationId (a later operation with the same id replaces the
  earlier one); a call substitutes path parameters with `str(value)` unescaped, sends query and header
  parameters by name, and whatever remains as the JSON body of a POST, PUT or PATCH.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from awm_release.bundle import Bundle
from awm_release.check.compare import Outcome, outcome_of_response
from awm_release.routes import HTTP_METHODS
from awm_release.sandbox.launch import Sandbox

STARTUP_TIMEOUT_S = 30.0
# Where `awm env start` would listen: set in the server's environment and sent as the Host header, as there.
NOMINAL_HOST, NOMINAL_PORT = "127.0.0.1", 8000
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes, the last one a NUL


class OriginalStartError(RuntimeError):
    """The original runtime could not start the bundle's server (with the end of its log)."""


def build_original_database(bundle: Bundle, path: Path) -> None:
    """The database file as `awm env reset_db` / `awm env start` builds it."""
    conn = sqlite3.connect(path)
    cursor = conn.cursor()
    for table in bundle.tables:
        try:
            cursor.execute(table.ddl)
            for index in table.indexes:
                cursor.execute(index)
        except Exception:  # noqa: BLE001 - the original logs the table as failed and goes on
            pass
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    cursor = conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON;")
    try:
        for table in bundle.seed:
            for statement in table.insert_statements:
                try:
                    cursor.execute(statement)
                except sqlite3.Error:
                    pass
        conn.commit()
    except Exception:  # noqa: BLE001 - e.g. a deferred foreign key at commit: the whole seed is rolled back
        conn.rollback()
    finally:
        conn.close()


def original_server_code(env_code: str, db_path: Path, socket_path: Path) -> str:
    """The code `awm env start` writes to temp_server_<scenario>.py, less the fastapi-mcp mount, on a unix socket."""
    out = ["import warnings", 'warnings.filterwarnings("ignore", category=DeprecationWarning)']
    for line in env_code.split("\n"):
        if "create_engine(" in line:
            left = line.split("create_engine(")[0]
            line = f"{left}create_engine('sqlite:///{db_path}', connect_args={{'check_same_thread': False}})"
        if "uvicorn.run(app" in line:
            out.append(f"    print('Server starting on {socket_path}')")
            line = f"    uvicorn.run(app, uds={str(socket_path)!r})"
        out.append(line)
    return "\n".join(out)


# Runs the rewritten code as `python server_code.py` would (module `__main__`), with the environment
# variables `awm env start` sets: the sandbox starts every program with a fixed environment of its own.
_RUN_AS_MAIN = ("import json, os, runpy, sys; os.environ.update(json.loads(sys.argv[2])); "
                "code = sys.argv[1]; sys.argv = [code]; runpy.run_path(code, run_name='__main__')")


def launch_original(code_file: Path, workdir: Path, db_path: Path, log: IO[bytes], sandbox: Sandbox) -> subprocess.Popen[bytes]:
    """Start the bundle's own server process: the one place where the checker runs bundle code.

    Bundle code is untrusted, so it runs in the sandbox awm-serve's workers run in (bubblewrap: none of this
    machine's files, environment, processes or network), with `workdir` (its code, its database file and the
    unix socket it listens on) writable.
    """
    settings = {"HOST": NOMINAL_HOST, "PORT": str(NOMINAL_PORT), "DATABASE_PATH": f"sqlite:///{db_path}"}
    return sandbox.popen([sys.executable, "-c", _RUN_AS_MAIN, str(code_file), json.dumps(settings)],
                         writable=[str(workdir)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Operation:
    """One tool as fastapi-mcp derives it: where its calls go."""

    name: str
    method: str
    path: str
    parameters: tuple[tuple[str, str], ...]  # (location, name) of path, query and header parameters


class OriginalServer:
    """One bundle served the original way; `with OriginalServer(bundle, workdir, sandbox) as server: server.call(...)`."""

    def __init__(self, bundle: Bundle, workdir: Path, sandbox: Sandbox, *, call_timeout_s: float = 60.0):
        self.bundle = bundle
        self.sandbox = sandbox
        self.workdir = workdir
        self.db_path = workdir / "final.db"
        self.socket_path = workdir / "server.sock"
        self.call_timeout_s = call_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.operations: dict[str, Operation] = {}
        self.tool_names: list[str] = []  # as listed, duplicates included (fastapi-mcp lists every operation)
        self._pristine: sqlite3.Connection | None = None
        self._clean_counter = b""
        # No keep-alive: uvicorn closes idle connections after 5 s, and a call on a connection it just closed
        # would read as a crash of the original.
        transport = httpx.HTTPTransport(uds=str(self.socket_path), limits=httpx.Limits(max_keepalive_connections=0))
        self._client = httpx.Client(base_url=f"http://{NOMINAL_HOST}:{NOMINAL_PORT}", transport=transport,
                                    timeout=call_timeout_s)

    def __enter__(self) -> OriginalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            raise OriginalStartError(f"the original's socket path {self.socket_path} is longer than a unix socket allows "
                                     f"({MAX_SOCKET_PATH} bytes): set TMPDIR to a shorter folder")
        self.workdir.mkdir(parents=True, exist_ok=True)
        build_original_database(self.bundle, self.db_path)
        shutil.copy2(self.db_path, self.workdir / "initial.db")
        code_file = self.workdir / "server_code.py"
        code_file.write_text(original_server_code(self.bundle.env_code or "", self.db_path, self.socket_path), encoding="utf-8")
        self._log = (self.workdir / "server.log").open("wb")
        self.proc = launch_original(code_file, self.workdir, self.db_path, self._log, self.sandbox)
        openapi = self._wait_for_openapi()
        self.operations, self.tool_names = operations_from_openapi(openapi)
        self._pristine = sqlite3.connect(":memory:")  # the database once module-level code has run: what resets restore
        live = sqlite3.connect(self.db_path)
        try:
            live.backup(self._pristine)
        finally:
            live.close()

    def _wait_for_openapi(self) -> dict[str, Any]:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise OriginalStartError(f"the original server exited with status {self.proc.returncode}: {self.log_tail()}")
            try:
                response = self._client.get("/openapi.json", timeout=1.0)
                if response.status_code == 200:
                    return response.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise OriginalStartError(f"the original server did not answer within {STARTUP_TIMEOUT_S:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 6) -> str:
        text = (self.workdir / "server.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reset(self) -> None:
        """Back to the database the server started with (the live file is overwritten through SQLite)."""
        assert self._pristine is not None
        live = sqlite3.connect(self.db_path, timeout=10)
        try:
            live.execute("PRAGMA synchronous = OFF")  # a scratch file: no fsync needed, and resets are 5x faster
            self._pristine.backup(live)
        finally:
            live.close()
        self._clean_counter = self._change_counter()

    def dirty(self) -> bool:
        """Whether anything was written since the last reset (SQLite's file change counter moved)."""
        return self._change_counter() != self._clean_counter

    def _change_counter(self) -> bytes:
        with self.db_path.open("rb") as handle:  # header bytes 24-27: incremented by every committed write
            handle.seek(24)
            return handle.read(4)

    def database(self) -> sqlite3.Connection:
        """A private in-memory copy of the live database (to dump and compare)."""
        copy = sqlite3.connect(":memory:")
        live = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            live.backup(copy)
        finally:
            live.close()
        return copy

    def call(self, tool: str, arguments: dict[str, Any]) -> Outcome:
        """Call a tool as fastapi-mcp's `_execute_api_tool` does, over HTTP."""
        operation = self.operations.get(tool)
        if operation is None:
            return Outcome("tool_error", None, f"Unknown tool: {tool}")
        args = dict(arguments)
        path = operation.path
        query: dict[str, Any] = {}
        headers: dict[str, Any] = {}
        for where, name in operation.parameters:
            if name in args:
                if where == "path":
                    path = path.replace("{" + name + "}", str(args.pop(name)))
                elif where == "query":
                    query[name] = args.pop(name)
                else:
                    headers[name] = args.pop(name)
        body = args if args else None
        try:
            if operation.method in ("get", "delete"):
                response = self._client.request(operation.method.upper(), path, params=query, headers=headers)
            else:
                response = self._client.request(operation.method.upper(), path, params=query, headers=headers, json=body)
        except (TypeError, ValueError) as exc:  # what httpx refuses to encode fails the MCP call the same way
            return Outcome("tool_error", None, f"{type(exc).__name__}: {exc}")
        except httpx.HTTPError as exc:
            return Outcome("crash", None, f"no answer: {type(exc).__name__}: {exc}")
        return outcome_of_response(response.status_code, response.content)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._pristine is not None:
            self._pristine.close()
        self._client.close()
        if getattr(self, "_log", None):
            self._log.close()


def operations_from_openapi(openapi: dict[str, Any]) -> tuple[dict[str, Operation], list[str]]:
    """fastapi-mcp's operation map (operationId -> call target; the last wins) and its tool names in order."""
    operations: dict[str, Operation] = {}
    names: list[str] = []
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or not operation.get("operationId"):
                continue
            parameters = tuple((p.get("in"), p.get("name")) for p in operation.get("parameters", [])
                               if p.get("in") in ("path", "query", "header"))
            operations[operation["operationId"]] = Operation(operation["operationId"], method, path, parameters)
            names.append(operation["operationId"])
    return operations, names
