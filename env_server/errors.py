"""Error kinds the server reports. Tool-level errors are observations for the agent; host-level errors are HTTP errors."""

from __future__ import annotations

import json
from typing import Any

MESSAGE_LIMIT = 2000  # characters: an error never echoes a large input back


def _capped(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + " ...(truncated)"


class ToolCallError(Exception):
    """A tool call that did not succeed (inside a 200 response to /call, and as MCP `isError` results).

    `kind` is one of: unknown_tool (not one of the environment's tools), invalid_arguments (which field and
    why), tool_error (the environment answered 4xx: the agent's call was wrong), environment_error (the
    environment's own code crashed or answered 5xx: a bug in the bundle), server_error (the worker running
    the call was lost).
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None, detail: Any = None):
        message = _capped(message)
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.detail = detail

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.status is not None:
            out["status"] = self.status
        if self.detail is not None:
            out["detail"] = self.detail
        return out


class HostError(Exception):
    """A request the server itself refuses (unknown session or bundle, bad request); becomes an HTTP error."""

    def __init__(self, status: int, code: str, message: str):
        message = _capped(message)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"error": {"type": self.code, "message": self.message}}


class EnvironmentLoadError(Exception):
    """A bundle's environment code could not be loaded: which bundle, which line, what went wrong."""

    def __init__(self, bundle_id: str, message: str, line: int | None = None, source_line: str | None = None):
        where = f" (env_code line {line}: {source_line.strip()!r})" if line and source_line else (f" (env_code line {line})" if line else "")
        super().__init__(f"bundle {bundle_id!r}: environment code failed to load{where}: {message}")
        self.bundle_id = bundle_id
        self.line = line


def invalid_request(errors: list[dict[str, Any]]) -> HostError:
    """FastAPI's validation errors as one of our host errors, naming each field, the problem and the value sent.

    A body that is not JSON at all is `invalid_json` (400); JSON of the wrong shape is `invalid_request` (422).
    """
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "not JSON")
            return HostError(400, "invalid_json", f"the request body is not valid JSON ({reason}); send a JSON object")
    problems = []
    for error in errors:
        where, *path = error.get("loc") or ("body",)
        field = ".".join(str(p) for p in path) or "the body"
        place = {"body": "", "query": "query parameter ", "path": "path parameter "}.get(str(where), f"{where} ")
        got = f" (got {json.dumps(error['input'], default=str)[:80]})" if "input" in error and path else ""
        problems.append(f"{place}{field}: {error.get('msg', 'invalid')}{got}")
    return HostError(422, "invalid_request", "; ".join(problems))
