"""The fork-server loop that runs inside a sandbox: one framed request in, one forked child per request, one framed
answer out, carrying the request's id.

The server itself runs only this package's code; bundle code runs in the child, which confines itself first
(confine.py) and writes its result (JSON) to a pipe. The child is its own process group: at the deadline the
group is killed, so nothing it started (it cannot start anything, but it could try) outlives the request.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from awm_release.sandbox.frames import ProtocolError, read_frame_sync, write_frame_sync

RESULT_LIMIT = 8 << 20  # bytes of JSON a child may send back


def send_result(result_fd: int, value: dict[str, Any]) -> None:
    payload = json.dumps(value, default=str).encode()
    if len(payload) > RESULT_LIMIT:
        payload = json.dumps({"ok": False, "error_type": "result_too_large",
                              "message": f"the result was {len(payload)} bytes of JSON; the limit is {RESULT_LIMIT}"}).encode()
    view = memoryview(payload)
    while view:
        view = view[os.write(result_fd, view):]


def collect(pid: int, result_fd: int, timeout_s: float, label: str) -> dict[str, Any]:
    """The child's result, read until EOF or the deadline; at the deadline its whole process group is killed."""
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
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
        size += len(chunk)
        if size > RESULT_LIMIT + 4096:
            break
        chunks.append(chunk)
    try:
        os.killpg(pid, signal.SIGKILL)  # the child's group: whatever it left behind goes with it
    except ProcessLookupError:
        pass
    os.close(result_fd)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"ok": False, "error_type": f"{label}_timeout", "message": f"{label} ran longer than {timeout_s:g} s and was killed"}
    try:
        value = json.loads(b"".join(chunks))
        if isinstance(value, dict):
            return value
    except ValueError:
        pass
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        reason = "CPU time limit" if name == "SIGXCPU" else name
        return {"ok": False, "error_type": f"{label}_crash", "message": f"{label} process was killed ({reason})"}
    return {"ok": False, "error_type": f"{label}_crash",
            "message": f"{label} process exited with status {os.waitstatus_to_exitcode(status)} and no result"}


def serve_forever(run_in_child: Callable[[dict[str, Any], int], None], label: str, *,
                  prepare: Callable[[dict[str, Any]], dict[str, Any]] = lambda request: request,
                  cleanup: Callable[[dict[str, Any]], None] = lambda request: None) -> None:
    """Per framed request {"id", "timeout_s", ...}: `prepare` it (still in the server), fork, let
    `run_in_child(request, fd)` answer, enforce the deadline, `cleanup`.

    The frames use a private copy of stdout, and fd 1 goes to stderr, so nothing printed here can corrupt them.
    """
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    while True:
        try:
            request = read_frame_sync(stdin)
        except ProtocolError:
            return  # the front sent garbage: it will notice the missing answer and replace this server
        if request is None:
            return
        if not isinstance(request, dict) or not isinstance(request.get("id"), int):
            return
        try:
            request = prepare(request)
        except (KeyError, TypeError, ValueError, OSError) as exc:
            write_frame_sync(frames_out, {"id": request["id"], "ok": False, "error_type": f"{label}_bad_request", "message": str(exc)[:500]})
            continue
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                run_in_child(request, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass  # the child got there first, or is already gone
        answer = collect(pid, read_fd, float(request.get("timeout_s", 30)), label)
        cleanup(request)
        write_frame_sync(frames_out, {**answer, "id": request["id"]})
