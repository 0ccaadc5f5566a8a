"""Environment-check fork server: generated environment code is loaded and probed in forked children, never in
the pipeline's own process.

Started by awm_release.synthesis.envcheck inside the sandbox as `python -I -B -m awm_release.synthesis.probe`. It imports FastAPI,
SQLAlchemy, Pydantic and the serving runtime once; then, per request (a length-prefixed JSON frame: bundle,
code, seed image, timeouts), it forks a child that loads the code with env_server.runtime.load_environment,
exactly as the server will, and calls every tool once with arguments built from the spec's examples, each on
a private copy of the seed database. An answer of 5xx (or a crash) fails the check; 4xx answers are fine (an
example id may not exist). A child that overruns its deadline is killed, so code that loops at import or a
handler that never returns costs one check, and every check starts from a clean process (no module, thread
or environment-variable state carries over between attempts). The child confines itself first
(awm_release.sandbox.confine): it writes only below its own scratch folder, cannot exec, fork or signal.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from awm_release.bundle import Bundle
from awm_release.database import open_image
from awm_release.sandbox.confine import Limits, confine
from awm_release.sandbox.forking import send_result, serve_forever
from env_server.errors import EnvironmentLoadError, ToolCallError
from env_server.runtime import Environment, load_environment
from env_server.tools import Tool

MEMORY_BYTES = 2 << 30
_MAX_LISTED = 15


def spec_endpoints(api_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operation_id -> endpoint, over all groups of an AWM-style spec."""
    return {e.get("operation_id"): e for g in api_spec.get("api_groups", []) for e in g.get("endpoints", [])
            if isinstance(e, dict) and e.get("operation_id")}


def probe_arguments(tool: Tool, endpoint: dict[str, Any] | None) -> dict[str, Any]:
    """Arguments for one probe call: the spec's example per parameter, a typed placeholder for required ones without."""
    spec_params = (endpoint or {}).get("request_params") or {}
    arguments: dict[str, Any] = {}
    for name, schema in tool.input_schema.get("properties", {}).items():
        example = _example(spec_params.get(name)) if isinstance(spec_params.get(name), dict) else None
        if example is None:
            example = _example(schema)
        if example is not None:
            arguments[name] = example
        elif name in tool.required:
            arguments[name] = _placeholder(schema)
    return arguments


def _example(schema: dict[str, Any] | None) -> Any:
    if not schema:
        return None
    if schema.get("example") is not None:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    return schema.get("default")


def _placeholder(schema: dict[str, Any]) -> Any:
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        schema = next((s for s in options if s.get("type") != "null"), options[0])
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "string")
    fmt = schema.get("format", "")
    return {
        "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {},
    }.get(kind, "2025-01-01T00:00:00" if fmt == "date-time" else "2025-01-01" if fmt == "date" else "example")


def _verdict(ok: bool, cause: str = "", message: str = "", score: float = 0.0, notes: list[str] | None = None) -> dict[str, Any]:
    return {"ok": ok, "cause": cause, "message": message, "score": 1.0 if ok else score, "notes": notes or []}


def load_and_probe(bundle: Bundle, code: str, seed_image: bytes, call_timeout_s: float) -> dict[str, Any]:
    """Load `code` as the bundle's environment and call every tool once; a verdict as JSON-able data."""
    try:
        env = load_environment(bundle.model_copy(update={"env_code": code}))
    except EnvironmentLoadError as exc:
        return _verdict(False, "import_error", str(exc))
    except Exception as exc:  # e.g. FastAPI failing to build the OpenAPI schema of the generated models
        return _verdict(False, "import_error", f"the app loaded but its routes could not be read: {type(exc).__name__}: {exc}")
    return asyncio.run(_probe_all(env, bundle, seed_image, call_timeout_s))


async def _probe_all(env: Environment, bundle: Bundle, seed_image: bytes, call_timeout_s: float) -> dict[str, Any]:
    endpoints = spec_endpoints(bundle.api_spec or {})
    missing = sorted(set(endpoints) - set(env.tools))
    failures: list[str] = []
    notes: list[str] = []
    for name, tool in env.tools.items():
        arguments = probe_arguments(tool, endpoints.get(name))
        conn = open_image(seed_image)
        try:
            await asyncio.wait_for(env.call(conn, name, arguments), call_timeout_s)
        except ToolCallError as exc:
            if exc.kind == "environment_error":
                failures.append(f"{name}({json.dumps(arguments)}) -> {exc.message}")
            else:
                notes.append(f"probe {name}: {exc.kind}: {exc.message[:200]}")
        except asyncio.TimeoutError:
            failures.append(f"{name}({json.dumps(arguments)}) did not answer within {call_timeout_s:g} s")
        finally:
            conn.close()
    checked = len(env.tools) + len(missing)
    score = (len(env.tools) - len(failures)) / checked if checked else 0.0
    crashed = "\n".join(f"- {f}" for f in failures[:_MAX_LISTED])
    if missing:
        return _verdict(False, "missing_routes", f"{len(missing)} spec operation(s) have no route with that operation_id: "
                        f"{', '.join(missing)}; the code's routes are: {', '.join(sorted(env.tools))}"
                        + (f"\nAlso, tools that crashed:\n{crashed}" if failures else ""), score)
    if failures:
        return _verdict(False, "tool_5xx", f"{len(failures)} of {len(env.tools)} tools answered their probe with a server error:\n{crashed}", score)
    return _verdict(True, notes=notes)


def _run_in_child(request: dict[str, Any], result_fd: int, seccomp_program: bytes) -> None:
    """The forked child: confined, bounded memory and CPU, generated output kept off the protocol stream, one verdict back."""
    scratch = f"/tmp/check-{os.getpid()}"
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    os.environ.update(TMPDIR=scratch, HOME=scratch)
    confine(keep_fds=[result_fd, 2], writable=scratch, seccomp_program=seccomp_program,
            limits=Limits(memory_bytes=MEMORY_BYTES, cpu_seconds=int(request["timeout_s"]) + 1))
    try:
        bundle = Bundle.model_validate(request["bundle"])
        verdict = load_and_probe(bundle, request["code"], request["seed_image"], request["call_timeout_s"])
        send_result(result_fd, {"ok": True, "value": verdict})
    except BaseException as exc:  # SystemExit and MemoryError from generated code included
        send_result(result_fd, {"ok": False, "error_type": type(exc).__name__, "message": str(exc)[:2000]})


if __name__ == "__main__":
    program = bytes.fromhex(sys.argv[1]) if len(sys.argv) > 1 else b""
    serve_forever(lambda request, fd: _run_in_child(request, fd, program), "check")
