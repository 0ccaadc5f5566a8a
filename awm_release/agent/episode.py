"""One episode: a model works on one task in a fresh awm-serve session, and the session is verified.

The session is created for the task, its seed database downloaded at once (the run folder's initial.db),
the conversation opened with the `list_tools` exchange, and then the model takes up to `max_turns` turns
through the meta-tools. The episode ends on a final answer, a format error (unless the protocol feeds it
back), the turn limit, a context overflow or a lost session; it is then verified (code or sql mode), the
final database downloaded, and the session closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awm_release.agent.model import ContextLengthExceeded, Endpoint, ModelClient
from awm_release.agent.outcomes import classify, episode_reward
from awm_release.agent.protocol import (
    FORMAT_ERROR_FEEDBACK, LIST_TOOLS, Conversation, MetaCall, ProtocolConfig, SamplingConfig, parse_turn,
    render_call_result, render_tool_list, tool_message)
from awm_release.client import AsyncAWMClient, AsyncSession, AWMServerError, SessionLost
from awm_release.runs import write_run_folder

TRAJECTORY_FORMAT = "awm-agent-trajectory-v1"


@dataclass
class Episode:
    """What one episode did and how it ended; `record()` is its line in an evaluation's results."""

    bundle_id: str
    task_idx: int
    sample: int
    task: str
    session_id: str
    stop_reason: str = "max_turns"  # final_answer | format_error | max_turns | context_length | session_lost
    outcome: str = ""
    final_answer: str | None = None
    verification: dict[str, Any] | None = None
    reward: float = 0.0
    format_error: str | None = None
    format_errors: int = 0
    stop_detail: str | None = None  # why a context overflow or lost session ended the episode
    prompt_tokens: int = 0
    completion_tokens: int = 0
    elapsed_s: float = 0.0
    turns: list[dict[str, Any]] = field(default_factory=list)  # per model turn: thinking, reply, parse, usage
    calls: list[dict[str, Any]] = field(default_factory=list)  # every environment tool call and its outcome
    messages: list[dict[str, Any]] = field(default_factory=list)  # the whole conversation, prompt-side
    initial_db: bytes = b""
    final_db: bytes = b""

    def record(self) -> dict[str, Any]:
        verification = self.verification or {}
        return {
            "bundle_id": self.bundle_id, "task_idx": self.task_idx, "sample": self.sample,
            "outcome": self.outcome, "stop_reason": self.stop_reason, "reward": self.reward,
            "verdict": verification.get("result"), "final_answer": self.final_answer,
            "format_error": self.format_error, "format_errors": self.format_errors, "stop_detail": self.stop_detail,
            "turns": len(self.turns), "tool_calls": len(self.calls),
            "tool_errors": sum(not c["ok"] for c in self.calls),
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "elapsed_s": round(self.elapsed_s, 3), "session_id": self.session_id,
        }

    def trajectory(self, run_info: dict[str, Any]) -> dict[str, Any]:
        return {"format": TRAJECTORY_FORMAT, **self.record(), "task": self.task, **run_info,
                "verification": self.verification, "turns": self.turns, "calls": self.calls, "messages": self.messages}

    def write_folder(self, destination: str | Path, run_info: dict[str, Any]) -> Path:
        """The episode as a run folder (trajectory.json, initial.db, final.db, verification.json), atomically."""
        return write_run_folder(destination, self.trajectory(run_info), self.initial_db, self.final_db,
                                [self.verification] if self.verification else None)


def check_model(endpoint: Endpoint, sampling: SamplingConfig) -> None:
    """Fail fast on an unusable model endpoint, before an awm-serve is started for nothing."""

    async def check() -> None:
        model = ModelClient(endpoint, sampling)
        try:
            await model.check()
        finally:
            await model.close()

    asyncio.run(check())


@contextlib.asynccontextmanager
async def connect(server_url: str, endpoint: Endpoint, sampling: SamplingConfig) -> AsyncIterator[tuple[AsyncAWMClient, ModelClient]]:
    """Clients for awm-serve (checked to answer) and the model, closed after the last episode."""
    env = AsyncAWMClient(server_url)
    model = ModelClient(endpoint, sampling)
    try:
        await env.health()
        yield env, model
    finally:
        await model.close()
        await env.close()


def run_info(endpoint: Endpoint, protocol: ProtocolConfig, sampling: SamplingConfig, verify_mode: str) -> dict[str, Any]:
    """How the episodes of a run were produced, for their trajectories."""
    return {"model": endpoint.model, "protocol": protocol.to_json(), "sampling": sampling.to_json(), "verify_mode": verify_mode}


async def run_episode(env: AsyncAWMClient, model: ModelClient, bundle_id: str, task_idx: int, protocol: ProtocolConfig, *,
                      verify_mode: str = "code", sample: int = 0, expected_task: str | None = None) -> Episode:
    """Run and verify one episode. Raises ModelEndpointError / AWMServerError for what no episode can get past."""
    started = time.perf_counter()
    session = await env.session(bundle_id, task_idx)
    episode = Episode(bundle_id, task_idx, sample, session.task or "", session.session_id)
    try:
        if expected_task is not None and session.task != expected_task:
            raise AWMServerError("task_mismatch", f"awm-serve's {bundle_id} task {task_idx} is not the dataset's (the "
                                 "server serves another version of the bundle); serve the same dataset: "
                                 "awm-serve --dataset SOURCE")
        try:
            episode.initial_db = await session.database()
            await _converse(session, model, episode, protocol)
            episode.verification = await session.verify(mode=verify_mode, final_answer=episode.final_answer)
            episode.final_db = await session.database()
        except SessionLost as exc:
            episode.stop_reason, episode.stop_detail = "session_lost", str(exc)
    finally:
        if episode.stop_reason != "session_lost":
            with contextlib.suppress(AWMServerError):  # an unclosed session expires on the server's idle timeout
                await session.close()
    verdict = episode.verification["result"] if episode.verification else None
    episode.outcome = classify(episode.stop_reason, verdict, [c["error"]["type"] for c in episode.calls if not c["ok"]])
    episode.reward = episode_reward(episode.outcome, episode.verification)
    episode.elapsed_s = time.perf_counter() - started
    return episode


async def _converse(session: AsyncSession, model: ModelClient, episode: Episode, protocol: ProtocolConfig) -> None:
    """The turn loop; leaves stop_reason, final_answer and the conversation on `episode`."""
    conversation = Conversation(episode.task)
    tool_list = render_tool_list(await session.tools())
    if protocol.list_tools_first:
        conversation.add_list_tools_exchange(tool_list)
    try:
        for index in range(protocol.max_turns):
            try:
                reply = await model.complete(conversation.messages(protocol.history_window), sample=episode.sample)
            except ContextLengthExceeded as exc:
                episode.stop_reason, episode.stop_detail = "context_length", str(exc)
                return
            episode.prompt_tokens += reply.prompt_tokens
            episode.completion_tokens += reply.completion_tokens
            parsed = parse_turn(reply.message, reply.finish_reason, turn_index=index)
            episode.turns.append({"index": index, "thinking": parsed.thinking, "text": parsed.text,
                                  "calls": [c.as_openai() for c in parsed.calls], "format_error": parsed.format_error,
                                  "finish_reason": reply.finish_reason, "raw": reply.message,
                                  "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens},
                                  "latency_s": round(reply.latency_s, 3)})
            if parsed.format_error is not None:
                episode.format_errors += 1
                episode.format_error = parsed.format_error
                if protocol.end_on_format_error:
                    episode.stop_reason = "format_error"
                    return
                conversation.add_turn([parsed.assistant_message(),
                                       {"role": "user", "content": FORMAT_ERROR_FEEDBACK.format(error=parsed.format_error)}])
                continue
            if parsed.final_answer is not None:
                episode.stop_reason, episode.final_answer = "final_answer", parsed.final_answer
                conversation.add_turn([parsed.assistant_message()])
                return
            replies = [tool_message(call.call_id, await _execute(session, episode, call, tool_list, index)) for call in parsed.calls]
            conversation.add_turn([parsed.assistant_message(), *replies])
        episode.stop_reason = "max_turns"
    finally:
        episode.messages = conversation.all_messages()


async def _execute(session: AsyncSession, episode: Episode, call: MetaCall, tool_list: str, turn: int) -> str:
    if call.name == LIST_TOOLS:
        return tool_list
    outcome = await session.call(call.tool_name or "", call.arguments)
    entry = {"turn": turn, "tool": call.tool_name, "arguments": call.arguments, "ok": bool(outcome.get("ok"))}
    entry["result" if entry["ok"] else "error"] = outcome.get("result") if entry["ok"] else outcome.get("error")
    episode.calls.append(entry)
    return render_call_result(outcome)
