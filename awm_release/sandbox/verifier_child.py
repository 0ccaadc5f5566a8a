"""Verifier fork server: a warm process that runs each verifier in a forked, locked-down child.

Started by awm_release.sandbox.verifier_pool as `python -I -B verifier_child.py`, never imported by the server:
generated verifier code must not run in the server process. It imports the modules verifiers may use
once, then for each request (length-prefixed JSON on stdin) forks a child that

- sets CPU-time, address-space, file-size and process-count limits,
- makes `sqlite3.connect` open only the two databases of the request, read-only,
- installs an audit hook that refuses writes, reads of any other file, directory listings, processes,
  sockets, native code and imports outside ALLOWED_MODULES,
- runs the verifier and sends its result back through a pipe.

The fork server enforces the wall-clock timeout by killing the child, and answers each request with one
frame: {"ok": true, "value": ...} or {"ok": false, "error_type", "message", "line"}. This is defense in
depth for accidents and casual misbehaviour, not a security boundary against hostile code.
"""

import io
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback

FILENAME = "<verifier>"
ALLOWED_MODULES = (
    "sqlite3", "json", "re", "math", "datetime", "collections", "itertools", "functools", "statistics",
    "decimal", "fractions", "string", "typing", "dataclasses", "enum", "operator", "copy", "difflib",
    "unicodedata", "textwrap", "time", "calendar", "heapq", "bisect", "numbers", "_strptime",
)
# Audit events a verifier has no business raising: processes, sockets, file-system changes, native code.
BLOCKED_EVENT_PREFIXES = (
    "os.system", "os.exec", "os.fork", "os.forkpty", "os.spawn", "os.posix_spawn", "os.kill", "os.killpg",
    "subprocess.", "socket.", "os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.mkdir",
    "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.putenv", "os.unsetenv", "shutil.",
    "ctypes.", "pty.", "webbrowser.", "urllib.", "http.", "ftplib.", "smtplib.", "os.listdir", "os.scandir",
    "glob.", "os.chdir", "os.setuid", "os.setgid", "resource.setrlimit", "sys.addaudithook", "marshal.load",
)
_HEADER = struct.Struct(">I")
_RESULT_LIMIT = 8 << 20  # bytes of result JSON a verifier may send back


def read_frame(stream) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    return stream.read(_HEADER.unpack(header)[0])


def write_frame(stream, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _preimport() -> None:
    """Import (and warm) everything a verifier may use, before any child is forked."""
    for name in ALLOWED_MODULES:
        __import__(name)
    import datetime

    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d")  # loads the lazily imported parsing machinery


def _read_only_sqlite(database_paths: list[str]) -> None:
    """Route every sqlite3.connect to the request's databases, opened read-only whatever the verifier asks."""
    import sqlite3

    original = sqlite3.connect

    def connect(database, *args, **kwargs):
        target = str(database)
        path = next((p for p in database_paths if p in target), None)
        if path is None:
            raise PermissionError(f"verifier sandbox: only the initial and final databases may be opened, not {target!r}")
        kwargs.pop("uri", None)
        return original(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    sqlite3.connect = connect


def _install_audit_hook(database_paths: list[str]) -> None:
    allowed_roots = set(ALLOWED_MODULES)

    def hook(event: str, args: tuple) -> None:
        if event == "sqlite3.connect" and not any(p in str(args[0]) for p in database_paths):
            raise PermissionError(f"verifier sandbox: only the initial and final databases may be opened, not {args[0]!r}")
        if event == "open":
            raise PermissionError(f"verifier sandbox: opening files is not allowed ({args[0]!r})")
        if event == "import" and str(args[0]).split(".")[0] not in allowed_roots:
            raise ImportError(f"verifier sandbox: import of {args[0]!r} is not allowed; allowed: {', '.join(ALLOWED_MODULES)}")
        if event.startswith(BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"verifier sandbox: {event} is not allowed")

    sys.addaudithook(hook)


def _error_line(exc: BaseException) -> int | None:
    lines = [lineno for frame, lineno in traceback.walk_tb(exc.__traceback__) if frame.f_code.co_filename == FILENAME]
    return lines[-1] if lines else None


def _run_in_child(request: dict, result_fd: int) -> None:
    """The forked child: lock down, run the verifier, send the result, exit without cleanup."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # generated code must never write into the protocol stream
    sys.stdout = sys.stderr = io.StringIO()
    cpu = request["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (request["memory_bytes"], request["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    database_paths = [str(a) for a in request["args"][:2]]
    _read_only_sqlite(database_paths)
    _install_audit_hook(database_paths)
    namespace: dict = {"__name__": "awm_verifier"}
    try:
        exec(compile(request["code"], FILENAME, "exec"), namespace)
        value = namespace[request["function"]](*request["args"])
        payload = json.dumps({"ok": True, "value": value}, default=str).encode()
        if len(payload) > _RESULT_LIMIT:
            raise ValueError(f"verifier returned {len(payload)} bytes of JSON; the limit is {_RESULT_LIMIT}")
    except BaseException as exc:  # everything, SystemExit and MemoryError included, is reported
        message = f"{exc}"[:2000]
        payload = json.dumps({"ok": False, "error_type": type(exc).__name__, "message": message, "line": _error_line(exc)}).encode()
    view = memoryview(payload)
    while view:
        view = view[os.write(result_fd, view):]


def collect(pid: int, result_fd: int, timeout_s: float, label: str) -> dict:
    """Read the child's result until EOF or the deadline; kill it if it overstays."""
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([result_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(result_fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    os.close(result_fd)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"ok": False, "error_type": f"{label}_timeout", "message": f"{label} ran longer than {timeout_s:g} s and was killed"}
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            reason = "CPU time limit" if name == "SIGXCPU" else name
            return {"ok": False, "error_type": f"{label}_crash", "message": f"{label} process was killed ({reason})"}
        return {"ok": False, "error_type": f"{label}_crash",
                "message": f"{label} process exited with status {os.WEXITSTATUS(status)} and no result"}


def serve_forever(run_in_child, deadline_key: str, label: str) -> None:
    """The fork-server loop: per framed request, fork, let `run_in_child(request, fd)` answer, enforce the deadline.

    The protocol keeps a private copy of stdout and fd 1 goes to stderr, so nothing printed in this process
    (or at import time of what it loaded) can corrupt the frames.
    """
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    while (frame := read_frame(stdin)) is not None:
        request = json.loads(frame)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                run_in_child(request, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        write_frame(frames_out, json.dumps(collect(pid, read_fd, request[deadline_key], label)).encode())


if __name__ == "__main__":
    _preimport()
    serve_forever(_run_in_child, "timeout_s", "verifier")
