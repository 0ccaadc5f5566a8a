"""Verifier fork server: runs inside the sandbox; each verification runs in a forked, confined child.

Started by verifier_pool as `python -I -B verifier_child.py SECCOMP_HEX`, never imported by the front. It imports
the modules verifiers may use once; per request (a frame with the verifier's code, both database images, the
final answer, limits and a deadline) it writes the two images into its private /tmp, forks a child that

- confines itself (confine.py): only its result pipe, its own process group, CPU/memory limits, no file
  writes at all (Landlock and a zero file-size limit), no exec, no new processes, no signals;
- opens the databases only read-only, through a sqlite3 authorizer that refuses ATTACH, DETACH, writes and
  extension loading;
- keeps an audit hook refusing imports outside ALLOWED_MODULES, file access outside the time-zone database,
  sockets, processes and native code: defense in depth behind the sandbox, which is the boundary;
- runs the verifier and writes its return value (JSON) to the pipe.

The answer frame is {"id", "ok": true, "value"} or {"id", "ok": false, "error_type", "message", "line"}.
"""

import io
import os
import shutil
import sqlite3
import sys
import traceback

from awm_release.sandbox.confine import Limits, confine
from awm_release.sandbox.forking import send_result, serve_forever

FILENAME = "<verifier>"
# Chosen by reading real AWM-1K verifiers and the demo bundles: what they import works as in plain Python.
ALLOWED_MODULES = (
    "sqlite3", "json", "re", "math", "cmath", "datetime", "zoneinfo", "time", "calendar", "_strptime", "locale",
    "collections", "itertools", "functools", "operator", "statistics", "decimal", "fractions", "numbers", "random",
    "string", "textwrap", "difflib", "unicodedata", "csv", "io", "typing", "dataclasses", "enum", "copy", "heapq",
    "bisect", "uuid", "hashlib", "hmac", "base64", "binascii", "ipaddress", "pprint", "abc", "contextlib", "types",
    "warnings",
)
# Audit events a verifier has no business raising: processes, sockets, file-system changes, native code.
BLOCKED_EVENT_PREFIXES = (
    "os.system", "os.exec", "os.fork", "os.forkpty", "os.spawn", "os.posix_spawn", "os.kill", "os.killpg",
    "subprocess.", "socket.", "os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.mkdir",
    "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.putenv", "os.unsetenv", "shutil.",
    "ctypes.", "pty.", "webbrowser.", "urllib.", "http.", "ftplib.", "smtplib.", "os.listdir", "os.scandir",
    "glob.", "os.chdir", "os.setuid", "os.setgid", "resource.setrlimit", "sys.addaudithook", "marshal.load",
    "sqlite3.enable_load_extension", "sqlite3.load_extension",
)
# sqlite3 authorizer action codes a verifier may use: reads, transactions, savepoints, recursive CTEs, functions.
_SQL_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT,
                sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_PRAGMA}
_READ_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                 "foreign_key_list", "database_list", "collation_list", "function_list"}
_REFUSED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


def _preimport() -> list[str]:
    """Import (and warm) everything a verifier may use before any child is forked; the tz database folders."""
    for name in ALLOWED_MODULES:
        __import__(name)
    import datetime
    import zoneinfo

    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d")  # loads the lazily imported parsing machinery
    return [os.path.join(os.path.realpath(p), "") for p in zoneinfo.TZPATH]


def authorize(action: int, arg1, arg2, database, trigger) -> int:
    """The sqlite3 authorizer: reads only; no ATTACH/DETACH, no writes, no schema changes, no extensions."""
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if str(arg2).lower() in _REFUSED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        return sqlite3.SQLITE_OK if arg2 is None and str(arg1).lower() in _READ_PRAGMAS else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _SQL_ALLOWED else sqlite3.SQLITE_DENY


def _read_only_sqlite(database_paths: list[str]) -> None:
    """Route every sqlite3.connect to the request's databases, opened read-only and under the authorizer."""
    original = sqlite3.connect

    def connect(database, *args, **kwargs):
        target = str(database)
        path = next((p for p in database_paths if p in target), None)
        if path is None:
            raise PermissionError(f"verifier sandbox: only the initial and final databases may be opened, not {target[:200]!r}")
        kwargs.pop("uri", None)
        conn = original(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
        conn.set_authorizer(authorize)
        return conn

    sqlite3.connect = connect


def _install_audit_hook(database_paths: list[str], tz_folders: list[str]) -> None:
    allowed_roots = set(ALLOWED_MODULES)

    def hook(event: str, args: tuple) -> None:
        if event == "sqlite3.connect" and not any(p in str(args[0]) for p in database_paths):
            raise PermissionError(f"verifier sandbox: only the initial and final databases may be opened, not {str(args[0])[:200]!r}")
        if event == "open":
            path, mode = str(args[0]), str(args[1] or "r")
            readable_tz = os.path.realpath(path).startswith(tuple(tz_folders)) and not set(mode) & set("wax+")
            if not readable_tz:
                raise PermissionError(f"verifier sandbox: opening files is not allowed ({path[:200]!r})")
        if event == "import" and str(args[0]).split(".")[0] not in allowed_roots:
            raise ImportError(f"verifier sandbox: import of {args[0]!r} is not allowed; allowed: {', '.join(ALLOWED_MODULES)}")
        if event.startswith(BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"verifier sandbox: {event} is not allowed")

    sys.addaudithook(hook)


def _error_line(exc: BaseException) -> int | None:
    lines = [lineno for frame, lineno in traceback.walk_tb(exc.__traceback__) if frame.f_code.co_filename == FILENAME]
    return lines[-1] if lines else None


class VerifierServer:
    def __init__(self, seccomp_program: bytes):
        self.seccomp_program = seccomp_program
        self.tz_folders = _preimport()

    def run_in_child(self, request: dict, result_fd: int) -> None:
        """The forked child: lock down, run the verifier, send the result, exit without cleanup."""
        sys.stdout = sys.stderr = io.StringIO()
        confine(keep_fds=[result_fd], writable=None, seccomp_program=self.seccomp_program,
                limits=Limits(memory_bytes=int(request["memory_bytes"]), cpu_seconds=int(request["cpu_seconds"]), file_bytes=0))
        database_paths = [request["initial_path"], request["final_path"]]
        _read_only_sqlite(database_paths)
        _install_audit_hook(database_paths, self.tz_folders)
        namespace: dict = {"__name__": "awm_verifier"}
        try:
            exec(compile(request["code"], FILENAME, "exec"), namespace)
            args = [*database_paths, *request["extra_args"]]
            send_result(result_fd, {"ok": True, "value": namespace[request["function"]](*args)})
        except BaseException as exc:  # everything, SystemExit and MemoryError included, is reported
            send_result(result_fd, {"ok": False, "error_type": type(exc).__name__, "message": f"{exc}"[:2000],
                                    "line": _error_line(exc)})

    def prepare(self, request: dict) -> dict:
        """Write the request's two images into a folder of this server's private /tmp."""
        folder = os.path.join("/tmp" if os.path.isdir("/tmp") else ".", f"awm-verify-{os.getpid()}-{request['id']}")
        os.makedirs(folder, exist_ok=True)
        paths = {}
        for name in ("initial", "final"):
            paths[f"{name}_path"] = os.path.join(folder, f"{name}.db")
            with open(paths[f"{name}_path"], "wb") as out:
                out.write(request.pop(f"{name}_image"))
        return {**request, **paths, "folder": folder}


def main() -> None:
    server = VerifierServer(bytes.fromhex(sys.argv[1]) if len(sys.argv) > 1 else b"")
    serve_forever(server.run_in_child, "verifier", prepare=server.prepare, cleanup=lambda r: shutil.rmtree(r["folder"], ignore_errors=True))


if __name__ == "__main__":
    main()
