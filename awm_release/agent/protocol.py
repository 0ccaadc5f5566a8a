"""The AWM agent protocol, shared by evaluation and training: prompt, meta-tools, turn parsing, history window.

The agent sees two meta-tools instead of an environment's ~35 tools: `list_tools` (what the environment
offers, with JSON Schemas) and `call_tool(tool_name, arguments)`. Every episode starts with a `list_tools`
exchange, so the model knows the tools before its first turn. A model turn is parsed into thinking, tool
calls and visible text, from either shape Qwen3-style models produce:

- thinking as a separate `reasoning_content` (or `reasoning`) field, or as `<think>...</think>` in the content
  (also with the opening tag left in the prompt, as Qwen3's template does when thinking is on);
- tool calls as structured OpenAI `tool_calls`, or as `<tool_call>{"name": ..., "arguments": ...}</tool_call>`
  blocks in the content (what the model writes when the server does not parse them).

A turn without tool calls is the final answer. A turn that cannot be executed (unparseable call, unknown
meta-tool, bad JSON arguments, nothing to do) is a step-level format error, a distinct outcome.

The prompt the model sees is a window over the conversation: system prompt, task, the first `list_tools`
exchange, and the last `history_window` turns. Thinking is kept in the trajectory but not fed back (Qwen3's
recommendation: history holds only the final output of earlier turns).

Nothing here does I/O, so a trainer can build prompts and score turns with exactly these functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOL_VERSION = "awm-agent-v1"
LIST_TOOLS, CALL_TOOL = "list_tools", "call_tool"

SYSTEM_PROMPT = """You are an agent that completes a user's task in a software application by using the application's tools.

You reach the application through two functions:
- list_tools(): lists the application's tools, each with a description and the JSON Schema of its arguments.
- call_tool(tool_name, arguments): runs one tool of the application; `arguments` is a JSON object matching the tool's schema. The tool's JSON result, or an error explaining what went wrong, comes back.

The tools have already been listed for you at the start of the conversation. Work step by step: look up what you need, make exactly the changes the task asks for, and check the results. Do not guess identifiers; find them with the tools. If a call fails, read the error and fix the call.

When the task is done, or cannot be done, reply without calling a function. That reply is your final answer to the user: if the task asks a question, answer it there in full."""

META_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": LIST_TOOLS,
            "description": "List the application's tools: name, description and the JSON Schema of the arguments of each.",
            "parameters": {"type": "object", "properties": {}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": CALL_TOOL,
            "description": "Call one of the application's tools by name and get its JSON result (or an error).",
            "parameters": {
                "type": "object",
                "properties": {
                    "tool_name": {"type": "string", "description": "Name of the tool, as list_tools gives it."},
                    "arguments": {"type": "object", "description": "The tool's arguments as a JSON object (empty for none)."},
                },
                "required": ["tool_name", "arguments"],
            },
        },
    },
]

FORMAT_ERROR_FEEDBACK = ("Your last reply could not be executed: {error}. Call functions only through list_tools or "
                         "call_tool with JSON arguments, or reply without a function call to give your final answer.")

TRUNCATION_MARKER = "\n[... {omitted} more characters of this result were cut; ask for less, e.g. with filters]"

_THINK_BLOCK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


@dataclass(frozen=True)
class ProtocolConfig:
    """How an episode runs. Defaults are the paper's evaluation protocol."""

    history_window: int = 10  # turns kept after the pinned prefix; 0 keeps every turn
    max_turns: int = 20  # model calls per episode
    list_tools_first: bool = True  # start with the list_tools exchange already in the conversation
    end_on_format_error: bool = True  # as in training: a format error ends the episode (reward -1)

    def to_json(self) -> dict[str, Any]:
        return {"version": PROTOCOL_VERSION, **asdict(self)}


@dataclass(frozen=True)
class SamplingConfig:
    """Sampling of the agent's model. Defaults are the paper's: Qwen3's recommended settings for thinking mode.

    `top_k` and `enable_thinking` are not OpenAI parameters: they travel in `extra_body` (vLLM and SGLang read
    them); None leaves them out, for endpoints that reject unknown fields.
    """

    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int | None = 20
    enable_thinking: bool | None = True
    max_tokens: int | None = None
    seed: int | None = None  # episode j of a task is sampled with seed + j

    def request_kwargs(self, sample: int = 0) -> dict[str, Any]:
        """Keyword arguments for `client.chat.completions.create` (besides model, messages and tools)."""
        kwargs: dict[str, Any] = {"temperature": self.temperature, "top_p": self.top_p}
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        if self.seed is not None:
            kwargs["seed"] = self.seed + sample
        extra: dict[str, Any] = {}
        if self.top_k is not None:
            extra["top_k"] = self.top_k
        if self.enable_thinking is not None:
            extra["chat_template_kwargs"] = {"enable_thinking": self.enable_thinking}
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetaCall:
    """One call of a meta-tool: `list_tools` (no arguments) or `call_tool` (tool and its arguments)."""

    call_id: str
    name: str
    tool_name: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)

    def as_openai(self) -> dict[str, Any]:
        """The call as an OpenAI `tool_calls` entry, whatever shape the model wrote it in."""
        args = {} if self.name == LIST_TOOLS else {"tool_name": self.tool_name, "arguments": self.arguments}
        return {"id": self.call_id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(args, ensure_ascii=False)}}


@dataclass(frozen=True)
class ParsedTurn:
    """A model turn: thinking, visible text, and either calls, a final answer, or a format error."""

    thinking: str
    text: str
    calls: tuple[MetaCall, ...] = ()
    format_error: str | None = None

    @property
    def final_answer(self) -> str | None:
        return self.text if not self.calls and self.format_error is None else None

    def assistant_message(self) -> dict[str, Any]:
        """The turn as it goes back into the prompt: visible text and normalized calls, no thinking."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.calls:
            message["tool_calls"] = [call.as_openai() for call in self.calls]
        return message


class FormatError(ValueError):
    """A model turn that cannot be executed; the message says what is wrong, for the trajectory and the model."""


def parse_turn(message: dict[str, Any], finish_reason: str | None = None, *, turn_index: int = 0) -> ParsedTurn:
    """Parse an assistant message (OpenAI shape, as a dict) into a ParsedTurn; never raises."""
    thinking = str(message.get("reasoning_content") or message.get("reasoning") or "")
    content = message.get("content") or ""
    if not isinstance(content, str):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    visible = content
    try:
        inline_thinking, visible = split_thinking(content, finish_reason)
        thinking = "\n".join(t for t in (thinking, inline_thinking) if t)
        visible, text_calls = _extract_text_calls(visible)
        raw_calls = [_structured_call(c) for c in message.get("tool_calls") or []] + text_calls
        calls = tuple(_meta_call(name, args, call_id or f"call_{turn_index}_{i}")
                      for i, (call_id, name, args) in enumerate(raw_calls))
    except FormatError as exc:
        return ParsedTurn(thinking, visible.strip(), format_error=str(exc))
    if not calls and not visible:
        problem = ("the reply was cut off by the token limit before a function call or answer"
                   if finish_reason == "length" else "the reply has neither a function call nor an answer")
        return ParsedTurn(thinking, visible, format_error=problem)
    return ParsedTurn(thinking, visible, calls)


def check_training_turn(parsed: ParsedTurn) -> ParsedTurn:
    """Training's stricter rules on top of the protocol: think first (a non-empty <think> block), and make at most
    one call per turn. A turn breaking them is a format error, like an unparseable one."""
    if parsed.format_error is not None:
        return parsed
    if not parsed.thinking.strip():
        return ParsedTurn(parsed.thinking, parsed.text,
                          format_error="the reply has no thinking: start every turn with a non-empty <think> block")
    if len(parsed.calls) > 1:
        return ParsedTurn(parsed.thinking, parsed.text,
                          format_error=f"the reply makes {len(parsed.calls)} function calls: make exactly one per turn")
    return parsed


def split_thinking(content: str, finish_reason: str | None = None) -> tuple[str, str]:
    """(thinking, the rest) of a content string with `<think>` blocks, or with only the closing tag."""
    thoughts = [m.strip() for m in _THINK_BLOCK.findall(content)]
    rest = _THINK_BLOCK.sub("", content)
    if "</think>" in rest:  # the opening tag was part of the prompt
        head, _, rest = rest.partition("</think>")
        thoughts.insert(0, head.strip())
    if "<think>" in rest:
        raise FormatError("the reply was cut off inside its thinking by the token limit" if finish_reason == "length"
                          else "a <think> block is never closed")
    return "\n".join(t for t in thoughts if t), rest.strip()


def _extract_text_calls(text: str) -> tuple[str, list[tuple[str | None, str, Any]]]:
    calls = []
    for body in _TOOL_CALL_BLOCK.findall(text):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise FormatError(f"a <tool_call> block is not valid JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise FormatError('a <tool_call> block must be a JSON object {"name": ..., "arguments": {...}}')
        calls.append((None, data["name"], data.get("arguments", {})))
    rest = _TOOL_CALL_BLOCK.sub("", text)
    if "<tool_call>" in rest:
        raise FormatError("a <tool_call> block is never closed")
    return rest.strip(), calls


def _structured_call(call: dict[str, Any]) -> tuple[str | None, str, Any]:
    function = call.get("function") or {}
    return call.get("id"), str(function.get("name") or ""), function.get("arguments") or "{}"


def _meta_call(name: str, arguments: Any, call_id: str) -> MetaCall:
    args = _json_object(arguments, f"the arguments of {name or 'a function call'}")
    if name == LIST_TOOLS:
        return MetaCall(call_id, LIST_TOOLS)
    if name != CALL_TOOL:
        raise FormatError(f"unknown function {name!r}: the only functions are {LIST_TOOLS} and {CALL_TOOL} "
                          f"(call an application tool as {CALL_TOOL}(tool_name={name!r}, arguments={{...}}))")
    unknown = sorted(set(args) - {"tool_name", "arguments"})
    if unknown:
        raise FormatError(f"{CALL_TOOL} takes tool_name and arguments, not {', '.join(unknown)}")
    tool_name = args.get("tool_name")
    if not isinstance(tool_name, str) or not tool_name:
        raise FormatError(f"{CALL_TOOL} needs tool_name, the name of a tool from {LIST_TOOLS}")
    return MetaCall(call_id, CALL_TOOL, tool_name, _json_object(args.get("arguments", {}), f"the arguments for {tool_name}"))


def _json_object(value: Any, what: str) -> dict[str, Any]:
    """A dict, or a JSON string of one (models often double-encode); anything else is a format error."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise FormatError(f"{what} are not valid JSON ({exc.msg} at character {exc.pos})") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def render_tool_list(tools: list[dict[str, Any]]) -> str:
    """The `list_tools` observation: the environment's tools as compact JSON."""
    return json.dumps(tools, ensure_ascii=False, separators=(",", ":"))


def render_call_result(outcome: dict[str, Any]) -> str:
    """The `call_tool` observation: the tool's JSON result, or {"error": {type, message}}."""
    shown = outcome.get("result") if outcome.get("ok") else {"error": outcome.get("error")}
    return json.dumps(shown, ensure_ascii=False)


def truncate_observation(text: str, max_chars: int | None) -> str:
    """`text` cut to `max_chars` characters with a marker saying how much was left out (None or 0: never cut).

    A tool result that outgrows the prompt would end a windowed rollout as a length stop; cut, the model still
    sees the start of it and learns that asking for less (filters, pagination) gets it everything.
    """
    if not max_chars or len(text) <= max_chars:
        return text
    return text[:max_chars] + TRUNCATION_MARKER.format(omitted=len(text) - max_chars)


def tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


@dataclass
class Conversation:
    """The prompt-side conversation: a pinned prefix, then turns (an assistant message and its replies)."""

    task: str
    system_prompt: str = SYSTEM_PROMPT
    pinned: list[dict[str, Any]] = field(default_factory=list)  # the first list_tools exchange
    turns: list[list[dict[str, Any]]] = field(default_factory=list)

    def add_list_tools_exchange(self, tool_list: str, call_id: str = "call_list_tools") -> None:
        """Put the opening `list_tools` exchange in place, as if the agent had made it."""
        call = MetaCall(call_id, LIST_TOOLS)
        self.add_turn([{"role": "assistant", "content": "", "tool_calls": [call.as_openai()]}, tool_message(call_id, tool_list)])

    def add_turn(self, messages: list[dict[str, Any]]) -> None:
        """Append a turn; the first turn that only lists tools is pinned and never leaves the window."""
        calls = messages[0].get("tool_calls") or []
        if not self.pinned and calls and all(c["function"]["name"] == LIST_TOOLS for c in calls):
            self.pinned = messages
        else:
            self.turns.append(messages)

    def head(self) -> list[dict[str, Any]]:
        return [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": self.task}, *self.pinned]

    def messages(self, history_window: int = 0) -> list[dict[str, Any]]:
        """The prompt: head plus the last `history_window` turns (all turns when 0)."""
        kept = self.turns[-history_window:] if history_window > 0 else self.turns
        return self.head() + [message for turn in kept for message in turn]

    def all_messages(self) -> list[dict[str, Any]]:
        return self.messages(0)
