"""Pull the JSON object or the Python file out of a model's reply, whatever prose or fences surround it."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)  # reasoning models served by vLLM may inline it
_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)


class ReplyFormatError(ValueError):
    """The reply does not contain what the prompt asked for; the message says what was expected."""


def strip_thinking(text: str) -> str:
    return _THINKING.sub("", text).strip()


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in the reply: a ```json block, the whole reply, or the first `{...}` that parses."""
    text = strip_thinking(text)
    candidates = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("json", "")] + [text]
    decoder = json.JSONDecoder()
    last_error = "no '{' found"
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                last_error = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
                start = candidate.find("{", start + 1)
                continue
            if isinstance(value, dict):
                return value
            start = candidate.find("{", start + 1)
    raise ReplyFormatError(f"expected one JSON object, found none that parses ({last_error})")


def extract_python(text: str) -> str:
    """The Python source of the reply: the longest ```python block, or the whole reply if it parses as Python."""
    text = strip_thinking(text)
    blocks = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("python", "py", "")]
    if blocks:
        return max(blocks, key=len).strip("\n") + "\n"
    try:
        ast.parse(text)
    except SyntaxError:
        raise ReplyFormatError("expected one ```python code block, found none") from None
    if not text.strip():
        raise ReplyFormatError("expected one ```python code block, got an empty reply")
    return text.strip("\n") + "\n"
