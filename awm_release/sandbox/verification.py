"""Judge a task from its initial and final database: code mode, sql mode (facts + LLM judge), or facts only.

Verifier code is LLM-generated: it runs in confined children of sandboxed fork servers
(awm_release.sandbox.verifier_pool), on throwaway copies of the databases, and sends back data only. This
module, in the trusted front, checks that data's shape, asks the LLM judge in sql mode, and maps the outcome
to the reward: no bundle code can reach the reward. Failures come back as `judge_error`, never as exceptions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from awm_release.bundle import CODE_VERIFIER_FUNCTION, SQL_VERIFIER_FUNCTION, Bundle
from awm_release.sandbox.judge import Judge
from awm_release.sandbox.rewards import reward_table
from awm_release.sandbox.verifier_pool import VerifierPool

DEFAULT_TIMEOUT_S = 30.0
CODE_VERDICTS = ("complete", "others")
MODES = {
    "code": "the code verifier's verdict: complete or others",
    "sql": "the sql verifier's facts judged by an LLM: complete, partially_completed, agent_error or environment_error",
    "facts": "the sql verifier's facts only, no verdict",
}


@dataclass
class Verification:
    """One verification. `result` is the outcome (or "facts"); `reward` comes from the reward table."""

    mode: str
    task_idx: int
    result: str
    reward: float | None = None
    details: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    judge: dict[str, Any] | None = None
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class VerifierUnavailable(LookupError):
    """The bundle has no verifier of the requested mode for the task."""


def verifier_source(bundle: Bundle, task_idx: int, mode: str) -> tuple[str, str]:
    """(code, function name) of a task's verifier, or VerifierUnavailable saying what is missing."""
    if mode not in MODES:
        raise ValueError(f"unknown verification mode {mode!r}; use one of: {', '.join(MODES)}")
    kind = "code" if mode == "code" else "sql"
    if not 0 <= task_idx < max(len(bundle.tasks), 1):
        raise VerifierUnavailable(f"{bundle.bundle_id} has no task {task_idx} ({len(bundle.tasks)} tasks)")
    verifiers = bundle.verifier_for(task_idx)
    part = getattr(verifiers, kind) if verifiers else None
    if part is None:
        raise VerifierUnavailable(f"{bundle.bundle_id} task {task_idx} has no {kind}-mode verifier")
    return part.code, CODE_VERIFIER_FUNCTION if kind == "code" else SQL_VERIFIER_FUNCTION


async def verify(
    bundle: Bundle,
    task_idx: int,
    initial_image: bytes,
    final_image: bytes,
    *,
    mode: str = "code",
    final_answer: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    pool: VerifierPool | None = None,
    judge: Judge | None = None,
    calls: list[dict[str, Any]] | None = None,
    rewards: Mapping[str, float] | None = None,
) -> Verification:
    """Run the task's verifier (in `pool`, or a one-off pool) and, in sql mode, ask `judge` for the outcome."""
    code, function = verifier_source(bundle, task_idx, mode)
    if mode == "sql" and judge is None:
        raise ValueError("sql mode needs an LLM judge (awm-serve --judge-base-url URL --judge-model NAME); "
                         "use mode 'facts' for the verifier's facts alone")
    table = reward_table(rewards)
    started = time.perf_counter()
    extra_args: list[Any] = [final_answer] if mode == "code" else []
    if pool is None:
        async with VerifierPool(size=1) as one_off:
            outcome = await one_off.run(code, function, initial_image, final_image, extra_args, timeout_s)
    else:
        outcome = await pool.run(code, function, initial_image, final_image, extra_args, timeout_s)
    verification = _interpret(mode, task_idx, outcome)
    if mode == "sql" and verification.result == "facts":
        verdict = await judge.judge(bundle.tasks[task_idx], verification.details or {}, calls or [], final_answer)
        verification.result = verdict.outcome
        verification.judge = {"model": judge.config.model, "reason": verdict.reason, "raw": verdict.raw, "usage": verdict.usage}
        if verdict.outcome == "judge_error":
            verification.error = {"error_type": "judge_failed", "message": verdict.reason}
    verification.reward = table.get(verification.result)
    verification.elapsed_ms = (time.perf_counter() - started) * 1000
    return verification


def _interpret(mode: str, task_idx: int, outcome: dict[str, Any]) -> Verification:
    if not outcome.get("ok"):
        error = {k: _short(outcome.get(k)) for k in ("error_type", "message", "line") if outcome.get(k) is not None}
        return Verification(mode, task_idx, "judge_error", error=error)
    value = outcome.get("value")
    if not isinstance(value, dict):
        error = {"error_type": "bad_return", "message": f"verifier returned {type(value).__name__}, expected a dict"}
        return Verification(mode, task_idx, "judge_error", error=error)
    if mode != "code":
        return Verification(mode, task_idx, "facts", details=value)
    verdict = value.get("result")
    if verdict not in CODE_VERDICTS:
        error = {"error_type": "bad_return", "message": f"verifier returned result={verdict!r}, expected 'complete' or 'others'"}
        return Verification(mode, task_idx, "judge_error", details=value, error=error)
    details = {k: v for k, v in value.items() if k != "result"} or None
    return Verification(mode, task_idx, verdict, details=details)


def _short(value: Any) -> Any:
    """Error fields come from sandboxed code: keep them plain and short."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)[:2000]
