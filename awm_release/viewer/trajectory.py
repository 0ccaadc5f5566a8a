"""A trajectory as the viewer shows it: turns (thinking, text, tool calls with results) or a plain call list.

Two shapes reach the viewer: an agent episode (`awm agent`, `awm eval`; format awm-agent-trajectory-v1)
has model turns whose meta-tool calls are matched here with the environment calls they made; a session
saved by awm-serve (`--runs-dir`) has only its calls. JSON is pretty-printed once here, and very long
values are cut so one huge tool result cannot make a page slow.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

AGENT_FORMAT = "awm-agent-trajectory-v1"
TEXT_LIMIT = 20_000  # characters of one JSON value or message shown before it is cut


@dataclass(frozen=True)
class Text:
    """A value to show, maybe cut: `shown` and how many characters were left out."""

    shown: str
    omitted: int = 0


@dataclass(frozen=True)
class CallView:
    tool: str
    arguments: Text
    ok: bool
    result: Text | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_detail: Text | None = None
    latency_ms: float | None = None
    index: int | None = None
    meta: str | None = None  # "list_tools" for the meta-tool call that lists tools (its result is the tool list)


@dataclass
class TurnView:
    index: int
    thinking: str
    text: str
    steps: list[CallView] = field(default_factory=list)
    format_error: str | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    latency_s: float | None = None


@dataclass
class EpisodeView:
    """Everything the trajectory page shows besides the database diff."""

    header: dict[str, Any]  # bundle_id, task_idx, task, outcome, ... whatever the trajectory carries
    prelude: list[tuple[str, Text]]  # (role, content): system prompt, task, the opening list_tools exchange
    turns: list[TurnView]
    calls: list[CallView]  # sessions saved by awm-serve: the calls alone
    verifications: list[dict[str, Any]]
    is_agent: bool


def cut(text: str, limit: int = TEXT_LIMIT) -> Text:
    return Text(text) if len(text) <= limit else Text(text[:limit], len(text) - limit)


def pretty(value: Any) -> Text:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return cut(value)
    return cut(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def call_view(entry: dict[str, Any]) -> CallView:
    """One recorded environment call (awm-serve's record, or an agent episode's)."""
    ok = bool(entry.get("ok"))
    error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
    return CallView(
        tool=str(entry.get("tool") or "?"), arguments=pretty(entry.get("arguments") or {}), ok=ok,
        result=pretty(entry.get("result")) if ok else None,
        error_type=None if ok else str(error.get("type", "error")),
        error_message=None if ok else str(error.get("message", "")),
        error_detail=pretty(error["detail"]) if not ok and error.get("detail") is not None else None,
        latency_ms=entry.get("latency_ms"), index=entry.get("index"))


def episode_view(trajectory: dict[str, Any], verifications: list[dict[str, Any]]) -> EpisodeView:
    header = {k: v for k, v in trajectory.items() if k not in ("turns", "calls", "messages", "verification")}
    calls = [c for c in trajectory.get("calls") or [] if isinstance(c, dict)]
    if not verifications and isinstance(trajectory.get("verification"), dict):
        verifications = [trajectory["verification"]]
    if trajectory.get("format") != AGENT_FORMAT:
        return EpisodeView(header, [], [], [call_view(c) for c in calls], verifications, is_agent=False)
    by_turn: dict[int, deque[dict[str, Any]]] = {}
    for call in calls:
        by_turn.setdefault(int(call.get("turn", -1)), deque()).append(call)
    turns = [_turn_view(turn, by_turn.get(int(turn.get("index", -1)), deque()))
             for turn in trajectory.get("turns") or [] if isinstance(turn, dict)]
    return EpisodeView(header, _prelude(trajectory), turns, [], verifications, is_agent=True)


def _turn_view(turn: dict[str, Any], env_calls: deque[dict[str, Any]]) -> TurnView:
    view = TurnView(index=int(turn.get("index", 0)), thinking=str(turn.get("thinking") or ""), text=str(turn.get("text") or ""),
                    format_error=turn.get("format_error"), finish_reason=turn.get("finish_reason"),
                    usage=turn.get("usage"), latency_s=turn.get("latency_s"))
    for meta in turn.get("calls") or []:
        function = (meta.get("function") or {}) if isinstance(meta, dict) else {}
        if function.get("name") == "call_tool" and env_calls:
            view.steps.append(call_view(env_calls.popleft()))
        else:
            view.steps.append(CallView(tool=str(function.get("name") or "?"), arguments=pretty(function.get("arguments") or {}),
                                       ok=True, meta=str(function.get("name") or "?")))
    view.steps.extend(call_view(c) for c in env_calls)  # calls no meta call accounts for: show them all the same
    return view


def _prelude(trajectory: dict[str, Any]) -> list[tuple[str, Text]]:
    """The conversation before the model's first turn: system prompt, task, the opening list_tools exchange."""
    protocol = trajectory.get("protocol") if isinstance(trajectory.get("protocol"), dict) else {}
    count = 4 if protocol.get("list_tools_first", True) else 2
    opening = []
    for message in [m for m in trajectory.get("messages") or [] if isinstance(m, dict)][:count]:
        content = message.get("content")
        if message.get("tool_calls"):
            content = "\n".join(f"{c['function'].get('name')}({c['function'].get('arguments', '')})"
                                for c in message["tool_calls"] if isinstance(c, dict) and isinstance(c.get("function"), dict))
        opening.append((str(message.get("role")), cut(str(content or ""))))
    return opening
