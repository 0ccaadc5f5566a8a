"""Run a task's verifier on initial vs final database, in a child process with a timeout and resource limits.

Verifier code is LLM-generated: it runs in `python -I -B verifier_child.py` with CPU, memory and file-size
limits and an audit hook that refuses writes, processes and sockets, on throwaway copies of the databases, and its failures come back as data, never as exceptions
in the caller.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from awm_release.bundle import CODE_VERIFIER_FUNCTION, SQL_VERIFIER_FUNCTION, Bundle

CHILD_SCRIPT = str(Path(__file__).with_name("verifier_child.py"))
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_BYTES = 1 << 30
CODE_VERDICTS = ("complete", "others")


@dataclass
class Verification:
    """Outcome of one verifier run. `result`: complete / others (code mode), facts (sql mode), or error."""

    mode: str
    task_idx: int
    result: str
    details: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class VerifierUnavailable(LookupError):
    """The bundle has no verifier of the requested mode for the task."""


def verifier_source(bundle: Bundle, task_idx: int, mode: str) -> tuple[str, str]:
    """(code, function name) of a task's verifier, or VerifierUnavailable saying what is missing."""
    if mode not in ("code", "sql"):
        raise ValueError(f"unknown verification mode {mode!r}; use 'code' or 'sql'")
    if not 0 <= task_idx < max(len(bundle.tasks), 1):
        raise VerifierUnavailable(f"{bundle.bundle_id} has no task {task_idx} ({len(bundle.tasks)} tasks)")
    verifiers = bundle.verifier_for(task_idx)
    part = getattr(verifiers, mode) if verifiers else None
    if part is None:
        raise VerifierUnavailable(f"{bundle.bundle_id} task {task_idx} has no {mode}-mode verifier")
    return part.code, CODE_VERIFIER_FUNCTION if mode == "code" else SQL_VERIFIER_FUNCTION


async def verify(
    bundle: Bundle,
    task_idx: int,
    initial_image: bytes,
    final_image: bytes,
    *,
    mode: str = "code",
    final_answer: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Verification:
    """Judge one task: code mode gives complete/others, sql mode gives the verifier's facts for a judge."""
    code, function = verifier_source(bundle, task_idx, mode)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="awm-verify-") as tmp:
        initial_path, final_path = Path(tmp, "initial.db"), Path(tmp, "final.db")
        initial_path.write_bytes(initial_image)
        final_path.write_bytes(final_image)
        for path in (initial_path, final_path):
            os.chmod(path, 0o444)
        args: list[Any] = [str(initial_path), str(final_path)]
        if mode == "code":
            args.append(final_answer)
        outcome = await _run_child(code, function, args, timeout_s)
    elapsed = (time.perf_counter() - started) * 1000
    return _interpret(mode, task_idx, outcome, elapsed)


async def _run_child(code: str, function: str, args: list[Any], timeout_s: float) -> dict[str, Any]:
    request = json.dumps({
        "code": code,
        "function": function,
        "args": args,
        "cpu_seconds": max(1, int(timeout_s) + 1),
        "memory_bytes": DEFAULT_MEMORY_BYTES,
    }).encode()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-B", CHILD_SCRIPT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=tempfile.gettempdir(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(request), timeout_s)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return {"ok": False, "error_type": "verifier_timeout", "message": f"verifier ran longer than {timeout_s:g} s and was killed"}
    try:
        return json.loads(stdout)
    except ValueError:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return {"ok": False, "error_type": "verifier_crash", "message": f"verifier process died: {tail[0]}"}


def _interpret(mode: str, task_idx: int, outcome: dict[str, Any], elapsed_ms: float) -> Verification:
    if not outcome.get("ok"):
        error = {k: outcome.get(k) for k in ("error_type", "message", "line") if outcome.get(k) is not None}
        return Verification(mode, task_idx, "error", error=error, elapsed_ms=elapsed_ms)
    value = outcome.get("value")
    if not isinstance(value, dict):
        error = {"error_type": "bad_return", "message": f"verifier returned {type(value).__name__}, expected a dict"}
        return Verification(mode, task_idx, "error", error=error, elapsed_ms=elapsed_ms)
    if mode == "sql":
        return Verification(mode, task_idx, "facts", details=value, elapsed_ms=elapsed_ms)
    verdict = value.get("result")
    if verdict not in CODE_VERDICTS:
        error = {"error_type": "bad_return", "message": f"verifier returned result={verdict!r}, expected 'complete' or 'others'"}
        return Verification(mode, task_idx, "error", details=value, error=error, elapsed_ms=elapsed_ms)
    details = {k: v for k, v in value.items() if k != "result"} or None
    return Verification(mode, task_idx, verdict, details=details, elapsed_ms=elapsed_ms)
