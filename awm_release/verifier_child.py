"""Child process that runs one verifier function. Run as a script (`python -I -B verifier_child.py`), never imported
by the server: generated verifier code must not execute in the server process.

Reads {"code", "function", "args"} as JSON on stdin; writes {"ok": true, "value": ...} or
{"ok": false, "error_type", "message", "line"} as JSON on stdout.
"""

import json
import os
import resource
import sys
import traceback

FILENAME = "<verifier>"
# Audit events a verifier has no business raising: processes, sockets, file-system changes, native code.
BLOCKED_EVENT_PREFIXES = (
    "os.system", "os.exec", "os.fork", "os.forkpty", "os.spawn", "os.posix_spawn", "os.kill", "os.killpg",
    "subprocess.", "socket.", "os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.mkdir",
    "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.putenv", "os.unsetenv", "shutil.",
    "ctypes.", "pty.", "webbrowser.", "urllib.", "http.", "ftplib.", "smtplib.",
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _limit_resources(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # verifiers read databases; they never write files


def _install_audit_hook(database_paths: list[str]) -> None:
    """Refuse writes, processes, sockets and databases other than the two being compared.

    Defense in depth on top of the resource limits, not a security boundary: see the README.
    """

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
            if writing:
                raise PermissionError(f"verifier sandbox: opening {path!r} for writing is not allowed")
        elif event == "sqlite3.connect":
            target = str(args[0])
            if target != ":memory:" and not any(p in target for p in database_paths):
                raise PermissionError(f"verifier sandbox: only the initial and final databases may be opened, not {target!r}")
        elif event.startswith(BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"verifier sandbox: {event} is not allowed")

    sys.addaudithook(hook)


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_resources(request["cpu_seconds"], request["memory_bytes"])
    _install_audit_hook([a for a in request["args"][:2]])
    namespace: dict = {"__name__": "awm_verifier"}
    try:
        exec(compile(request["code"], FILENAME, "exec"), namespace)
        value = namespace[request["function"]](*request["args"])
        out = {"ok": True, "value": value}
        text = json.dumps(out, default=str)
    except BaseException as exc:  # report everything, including SystemExit from generated code
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == FILENAME), None)
        text = json.dumps({"ok": False, "error_type": type(exc).__name__, "message": str(exc)[:2000], "line": line})
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
