"""Child process that runs one verifier function. Run as a script (`python -I verifier_child.py`), never imported
by the server: generated verifier code must not execute in the server process.

Reads {"code", "function", "args"} as JSON on stdin; writes {"ok": true, "value": ...} or
{"ok": false, "error_type", "message", "line"} as JSON on stdout.
"""

import json
import resource
import sys
import traceback

FILENAME = "<verifier>"


def _limit_resources(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # verifiers read databases; they never write files


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_resources(request["cpu_seconds"], request["memory_bytes"])
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
