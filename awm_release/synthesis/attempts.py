"""Self-correction: generate, check, and on failure summarize the error with the LLM and try again.

Each retry carries the summaries of every earlier failure of the item (not the failed outputs, which can be
long), at most `max_attempts` tries. The item's state file is rewritten after every attempt, so a killed
run loses at most the attempt in flight; a rejected item keeps its best attempt (highest check score) and
the cause of its failure.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from awm_release.synthesis import prompts
from awm_release.synthesis.llm import LLMCallFailed, LLMClient, Usage
from awm_release.synthesis.runfolder import Attempt, ItemState, RunFolder, now_iso
from awm_release.synthesis.validation import Check, reject

_ERROR_CHARS = 6000  # of the check's message, sent to the summarizer
_OUTPUT_CHARS = 4000  # of the failed reply, sent to the summarizer
_FALLBACK_CHARS = 2000  # of the raw error, used as the summary when summarizing itself failed
T = TypeVar("T")


@dataclass
class Job:
    """One item to produce: its prompt, and the check its reply must pass."""

    stage: str
    item: str
    bundle_id: str | None
    title: str  # what is being produced, in words, for the failure summarizer
    messages: list[dict[str, str]]
    check: Callable[[str], Awaitable[Check]]
    keep_value: bool = False  # store the accepted value in the state file (scenario items, verifiers)


@dataclass
class JobResult:
    state: ItemState
    check: Check | None  # the accepted check, None when rejected

    @property
    def ok(self) -> bool:
        return self.check is not None


async def run_job(job: Job, llm: LLMClient, run: RunFolder, max_attempts: int) -> JobResult:
    """Try `job` up to `max_attempts` times; the state file records every attempt (earlier runs' attempts kept)."""
    previous = run.load_item(job.stage, job.item)
    state = ItemState(stage=job.stage, item=job.item, bundle_id=job.bundle_id, status="rejected",
                      attempts=list(previous.attempts) if previous else [],
                      model=llm.settings.model, prompt_version=prompts.PROMPT_VERSION)
    summaries: list[str] = []
    best: tuple[tuple[float, bool], int, str] | None = None  # ((score, has output), attempt number, reply)
    for _ in range(max_attempts):
        number = len(state.attempts) + 1
        started = now_iso()
        messages = job.messages + ([prompts.correction_message(summaries)] if summaries else [])
        reply_text = ""
        try:
            reply = await llm.chat(messages)
        except LLMCallFailed as exc:
            usage, check = exc.usage, reject("llm_error", str(exc))
        else:
            usage, reply_text = reply.usage, reply.text
            check = await _checked(job, reply_text)
            if not check.ok and reply.truncated:
                check.message += "\n(The reply was cut off at the token limit: it is incomplete. Be more concise.)"
        if check.ok:
            state.attempts.append(Attempt(number=number, ok=True, score=1.0, usage=usage, started=started))
            state.status, state.notes = "accepted", check.notes
            if job.keep_value:
                state.value = check.value.model_dump() if isinstance(check.value, BaseModel) else check.value
            run.save_item(state)
            return JobResult(state, check)
        summary = ""
        if check.cause != "llm_error":
            summary, summary_usage = await _summarize(llm, job, check.message, reply_text)
            usage = usage.add(summary_usage)
            summaries.append(summary)
        state.attempts.append(Attempt(number=number, ok=False, cause=check.cause, message=check.message[:_ERROR_CHARS],
                                      summary=summary, score=check.score, usage=usage, started=started))
        rank = (check.score, bool(reply_text))
        if best is None or rank >= best[0]:  # ties go to the later attempt, which saw more summaries
            best = (rank, number, reply_text)
            state.best_attempt, state.best_output = number, reply_text or None
        run.save_item(state)
    return JobResult(state, None)


async def gather_all(coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Like asyncio.gather, but the first exception (e.g. LLMUnavailable) cancels the rest before it propagates."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _checked(job: Job, reply: str) -> Check:
    """Run the job's check; a crash of the checker itself is a failure of this attempt, with where it happened."""
    try:
        return await job.check(reply)
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return reject("checker_crash", f"{type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno})")


async def _summarize(llm: LLMClient, job: Job, error: str, output: str) -> tuple[str, Usage]:
    """200-500 tokens on what failed and how to fix it; the raw error (shortened) if the summarizer fails."""
    messages = prompts.SUMMARIZE_FAILURE.messages(
        stage=job.title, error=error[:_ERROR_CHARS], output=output[:_OUTPUT_CHARS] or "(no output)")
    try:
        reply = await llm.chat(messages, max_tokens=600)
    except LLMCallFailed as exc:
        return error[:_FALLBACK_CHARS], exc.usage
    return (reply.text.strip() or error[:_FALLBACK_CHARS]), reply.usage
