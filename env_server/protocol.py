"""The front <-> worker protocol: msgpack frames (awm_release.sandbox.frames), each request and answer with an id.

Request:  [id, op, kwargs]                     front -> worker
Answer:   [id, "ok", value]                    worker -> front
          [id, "tool_error", [kind, message, status, detail]]
          [id, "host_error", [status, code, message]]

A worker runs bundle code, so its answers are untrusted data: `parse_answer` checks their shape, and the front
kills a worker whose answer is malformed or carries an id it is not waiting for (failing only that request).
"""

from __future__ import annotations

from typing import Any

from awm_release.sandbox.frames import ProtocolError
from env_server.errors import HostError, ToolCallError

# What the front may ask a worker; a worker refuses anything else.
WORKER_OPS = frozenset({"hydrate", "create", "describe", "tools", "bundle_info", "call", "reset", "snapshot", "episode", "close",
                        "list_sessions", "calls"})
TOOL_ERROR_KINDS = frozenset({"unknown_tool", "invalid_arguments", "tool_error", "environment_error", "server_error"})
_TEXT_LIMIT = 4000


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{what} is not a string")
    return value[:_TEXT_LIMIT]


def parse_answer(message: Any) -> tuple[int, Any | Exception]:
    """(request id, the value or the exception it stands for); ProtocolError for anything else."""
    if not isinstance(message, list) or len(message) != 3 or not isinstance(message[0], int):
        raise ProtocolError("an answer that is not [id, status, value]")
    request_id, status, value = message
    if status == "ok":
        return request_id, value
    if status == "tool_error":
        if not isinstance(value, list) or len(value) != 4 or value[0] not in TOOL_ERROR_KINDS:
            raise ProtocolError("a malformed tool_error")
        kind, text, http_status, detail = value
        if http_status is not None and not isinstance(http_status, int):
            raise ProtocolError("a tool_error with a non-integer status")
        return request_id, ToolCallError(kind, _text(text, "a tool_error message"), status=http_status, detail=detail)
    if status == "host_error":
        if not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], int) or not 400 <= value[0] <= 599:
            raise ProtocolError("a malformed host_error")
        return request_id, HostError(value[0], _text(value[1], "a host_error code")[:64], _text(value[2], "a host_error message"))
    raise ProtocolError(f"an answer with unknown status {str(status)[:40]!r}")
