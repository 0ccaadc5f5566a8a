"""OpenEnv's environment-server protocol in front of the same sessions, so `openenv-core`'s clients work unchanged.

One OpenEnv client session (a WebSocket connection, or a production-mode MCP session) drives one awm-serve
session: `reset` creates it (or restores its seed state), steps list and call the bundle's tools, the
`verify` step judges the task and carries the reward, and the session is closed when the client leaves.

Routes, under `/openenv` (the bundle is chosen at reset) and `/openenv/{bundle_id}` (fixed by the URL);
`/ws` at the root is the WebSocket of `/openenv`, for clients given the server's bare address:
- `WS /ws`: messages `reset` (data: bundle_id, task_idx, ...), `step` (data: an action), `state`, `close`
  (GenericEnvClient, MCPToolClient and their `.sync()` wrappers);
- `POST /reset`, `POST /step`, `GET /state`: OpenEnv's stateless HTTP API (a fresh environment per request);
- `GET /schema`, `/metadata`, `/health`;
- `POST /mcp`: JSON-RPC of MCPToolClient's production mode (openenv/session/create and close, tools/list,
  tools/call with the session id in params).

Actions: `{"type": "list_tools"}`, `{"type": "call_tool", "tool_name", "arguments"}` and
`{"type": "verify", "final_answer"?, "mode"?, "rewards"?}`; tool-calling clients may also call the tool
`verify` (hidden from list_tools; a bundle's own tool of that name takes precedence).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

import awm_release
from awm_release.sandbox.verification import MODES
from env_server.errors import HostError, ToolCallError
from env_server.worker_pool import SessionBackend

VERIFY_TOOL = "verify"
# OpenEnv's ToolErrorType for each of our tool-call failures (the full error rides along in metadata).
TOOL_ERROR_TYPES = {"unknown_tool": "tool_not_found", "invalid_arguments": "invalid_args", "tool_error": "execution_error",
                    "environment_error": "execution_error", "server_error": "transport_error"}
CAPACITY_ERRORS = {"too_many_sessions", "workers_full"}


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResetParams(_Message):
    """What `reset(...)` accepts."""

    bundle_id: str | None = Field(None, validation_alias=AliasChoices("bundle_id", "scenario"),
                                  description="Bundle to work in (alias: scenario); optional when the URL or the server names one.")
    task_idx: int | None = Field(None, ge=0, description="Task of the episode: its text comes back, `verify` judges it.")
    seed: int | None = Field(None, description="Accepted for OpenEnv compatibility; AWM environments are deterministic.")
    episode_id: str | None = Field(None, max_length=255, description="Your id for the episode (default: a random one).")
    record: bool = Field(True, description="Record the calls (the sql-mode judge reads them).")
    rewards: dict[str, float] | None = Field(None, description="Reward per outcome for this episode's verifications.")


class ListToolsAction(_Message):
    type: Literal["list_tools"]
    metadata: dict[str, Any] = Field(default_factory=dict)


class CallToolAction(_Message):
    type: Literal["call_tool"]
    tool_name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class VerifyAction(_Message):
    type: Literal["verify"]
    final_answer: str | None = Field(None, description="The agent's final message, for tasks that ask a question.")
    mode: Literal[tuple(MODES)] = Field("code", description="; ".join(f"{k}: {v}" for k, v in MODES.items()))  # type: ignore[valid-type]
    rewards: dict[str, float] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


ACTION = TypeAdapter(Annotated[ListToolsAction | CallToolAction | VerifyAction, Field(discriminator="type")])
VERIFY_ARGUMENTS = TypeAdapter(VerifyAction)


class ProtocolError(Exception):
    """A request the episode refuses: becomes an OpenEnv error message (WebSocket) or a JSON-RPC/HTTP error."""

    def __init__(self, code: str, kind: str, message: str):
        super().__init__(message)
        self.code = code  # OpenEnv's WSErrorCode
        self.kind = kind  # our error type (bad_action, unknown_task, ...)
        self.message = message

    @classmethod
    def from_host(cls, exc: HostError) -> ProtocolError:
        return cls("CAPACITY_REACHED" if exc.code in CAPACITY_ERRORS else "EXECUTION_ERROR", exc.code, exc.message)

    @classmethod
    def from_validation(cls, exc: ValidationError, what: str) -> ProtocolError:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}" for e in exc.errors(include_url=False))
        return cls("VALIDATION_ERROR", "bad_action" if what == "action" else "bad_reset", f"invalid {what}: {problems}")

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "type": self.kind}


def _payload(observation: dict[str, Any], reward: float | None = None, done: bool = False) -> dict[str, Any]:
    return {"observation": observation, "reward": reward, "done": done}


def _call_result(value: Any, text: str) -> dict[str, Any]:
    """A tool's value in the shape OpenEnv's MCP environments send (FastMCP's CallToolResult): clients read `data`."""
    return {"content": [{"type": "text", "text": text}], "structured_content": value if isinstance(value, dict) else {"result": value},
            "meta": None, "data": value, "is_error": False}


class Episode:
    """One OpenEnv client session: at most one awm-serve session at a time, its task and step count."""

    def __init__(self, backend: SessionBackend, bundle_id: str | None):
        self.backend = backend
        self.url_bundle_id = bundle_id
        self.session_id: str | None = None
        self.info: dict[str, Any] = {}
        self.episode_id: str | None = None
        self.step_count = 0
        self.rewards: dict[str, float] | None = None
        self.tool_names: set[str] | None = None

    async def reset(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            params = ResetParams.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError.from_validation(exc, "reset") from None
        if params.bundle_id and self.url_bundle_id and params.bundle_id != self.url_bundle_id:
            raise ProtocolError("VALIDATION_ERROR", "bad_reset", f"this endpoint serves {self.url_bundle_id}; reset asked "
                                f"for {params.bundle_id} (use /openenv to choose the bundle at reset)")
        try:
            bundle_id = self.backend.registry.resolve_id(params.bundle_id or self.url_bundle_id)
            wanted = {"bundle_id": bundle_id, "task_idx": params.task_idx, "record": params.record}
            if not await self._reuse(wanted):
                await self.close()
                created = await self.backend.create(bundle_id, params.task_idx, owner="openenv", record=params.record)
                self.session_id, self.tool_names = created["session_id"], None
                self.info = {**wanted, "task": created["task"], "session_id": self.session_id}
        except HostError as exc:
            if exc.code == "bundle_required":
                exc.message += " (pass bundle_id to reset, or connect to /openenv/{bundle_id})"
            raise ProtocolError.from_host(exc) from None
        self.episode_id = params.episode_id or secrets.token_hex(8)
        self.step_count = 0
        self.rewards = params.rewards
        shown = {k: v for k, v in self.info.items() if k != "record"} | {"episode_id": self.episode_id}
        return _payload({**shown, "metadata": shown})  # MCPToolClient keeps only `metadata` of such observations

    async def _reuse(self, wanted: dict[str, Any]) -> bool:
        """Reset the current session when it is the one asked for (microseconds: a fresh copy of the seed image)."""
        if self.session_id is None or any(self.info[k] != v for k, v in wanted.items()):
            return False
        try:
            await self.backend.reset(self.session_id)
        except HostError:
            self.session_id = None  # expired or lost meanwhile: the caller creates a new one
            return False
        return True

    async def step(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            action = ACTION.validate_python(data)
        except ValidationError as exc:
            raise ProtocolError.from_validation(exc, "action") from None
        if self.session_id is None:
            await self.reset({})  # like OpenEnv's MCP environments, tools are there before any reset
        self.step_count += 1
        try:
            if isinstance(action, ListToolsAction):
                tools = await self.backend.tools(self.session_id)
                return _payload({"tools": [{"name": t["name"], "description": t["description"], "input_schema": t["inputSchema"]}
                                           for t in tools]})
            if isinstance(action, VerifyAction):
                return await self._verify(action, as_tool=False)
            if action.tool_name == VERIFY_TOOL and VERIFY_TOOL not in await self._tool_names():
                try:
                    verify = VERIFY_ARGUMENTS.validate_python({**action.arguments, "type": "verify"})
                except ValidationError as exc:
                    raise ProtocolError.from_validation(exc, "action") from None
                return await self._verify(verify, as_tool=True)
            return _payload(await self._call_tool(action.tool_name, action.arguments))
        except HostError as exc:
            raise ProtocolError.from_host(exc) from None

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A CallToolObservation: the tool's value under result.data, or an OpenEnv ToolError (ours in metadata)."""
        try:
            raw = await self.backend.call(self.session_id, name, arguments)
        except ToolCallError as exc:
            error = {"error_type": TOOL_ERROR_TYPES.get(exc.kind, "execution_error"), "message": exc.message}
            return {"tool_name": name, "result": None, "error": error, "metadata": {"error": exc.to_json()}}
        text = raw.decode("utf-8")
        return {"tool_name": name, "result": _call_result(json.loads(text), text), "error": None}

    async def _verify(self, action: VerifyAction, *, as_tool: bool) -> dict[str, Any]:
        verification = await self.backend.verify(self.session_id, mode=action.mode, final_answer=action.final_answer,
                                                 rewards=action.rewards or self.rewards)
        observation = ({"tool_name": VERIFY_TOOL, "result": _call_result(verification, json.dumps(verification)), "error": None}
                       if as_tool else {"verification": verification})
        return _payload(observation, verification["reward"], done=True)

    async def _tool_names(self) -> set[str]:
        if self.tool_names is None:
            self.tool_names = {t["name"] for t in await self.backend.tools(self.session_id)}
        return self.tool_names

    def state(self) -> dict[str, Any]:
        return {"episode_id": self.episode_id, "step_count": self.step_count,
                **{k: self.info.get(k) for k in ("bundle_id", "task_idx", "session_id")}}

    async def close(self) -> None:
        session_id, self.session_id = self.session_id, None
        if session_id is not None:
            try:
                await self.backend.close(session_id)
            except HostError:
                pass  # expired or lost already: nothing to free


class OpenEnvEndpoint:
    """The OpenEnv routes, and the production-mode MCP sessions, which live here until closed or expired."""

    def __init__(self, backend: SessionBackend):
        self.backend = backend
        self.production: dict[str, Episode] = {}
        self.router = self._build_router()

    def forget(self, session_ids: list[str]) -> None:
        """Drop production-mode sessions whose awm-serve session expired."""
        gone = set(session_ids)
        for key, episode in list(self.production.items()):
            if episode.info.get("session_id") in gone:
                del self.production[key]

    def _build_router(self) -> APIRouter:
        backend = self.backend
        router = APIRouter(tags=["OpenEnv"])

        def routes(method: Callable[..., Any], path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            """Register a handler under /openenv and /openenv/{bundle_id} (documented once, in /docs)."""
            def register(handler: Callable[..., Any]) -> Callable[..., Any]:
                method("/openenv" + path, **kwargs)(handler)
                method("/openenv/{bundle_id}" + path, **kwargs, **({} if method == router.websocket else {"include_in_schema": False}))(handler)
                return handler
            return register

        async def one_shot(bundle_id: str | None, run: Callable[[Episode], Awaitable[dict[str, Any]]]) -> JSONResponse:
            episode = Episode(backend, bundle_id)
            try:
                return JSONResponse(await run(episode))
            except ProtocolError as exc:
                return JSONResponse({"error": {"type": exc.kind, "message": exc.message}}, status_code=400)
            finally:
                await episode.close()

        @router.websocket("/ws")
        @routes(router.websocket, "/ws")
        async def websocket_session(websocket: WebSocket, bundle_id: str | None = None) -> None:
            """One environment per connection; closed when the client sends `close` or disconnects."""
            await websocket.accept()
            episode = Episode(backend, bundle_id)
            try:
                while (reply := await _answer(episode, await websocket.receive_text())) is not None:
                    await websocket.send_text(json.dumps(reply))
            except WebSocketDisconnect:
                pass
            finally:
                await episode.close()

        @routes(router.post, "/reset", summary="OpenEnv: reset a fresh environment (stateless; use /ws for episodes)")
        async def http_reset(bundle_id: str | None = None, body: dict[str, Any] = Body(default_factory=dict)) -> JSONResponse:
            return await one_shot(bundle_id, lambda episode: episode.reset(body))

        @routes(router.post, "/step", summary="OpenEnv: one action on a fresh environment (stateless; use /ws for episodes)")
        async def http_step(bundle_id: str | None = None, body: dict[str, Any] = Body(...)) -> JSONResponse:
            if not isinstance(body.get("action"), dict):
                return JSONResponse({"error": {"type": "bad_action", "message": "the body needs an 'action' object"}},
                                    status_code=422)
            return await one_shot(bundle_id, lambda episode: episode.step(body["action"]))

        @routes(router.get, "/state", summary="OpenEnv: the state of a fresh environment (episodes keep theirs on /ws)")
        async def http_state(bundle_id: str | None = None) -> dict[str, Any]:
            return Episode(backend, bundle_id).state()

        @routes(router.get, "/schema", summary="OpenEnv: JSON Schemas of actions, observations and state")
        async def schema(bundle_id: str | None = None) -> dict[str, Any]:
            return {"action": ACTION.json_schema(), "observation": OBSERVATION_SCHEMA, "state": STATE_SCHEMA}

        @routes(router.get, "/metadata", summary="OpenEnv: what this environment is")
        async def metadata(bundle_id: str | None = None) -> dict[str, Any]:
            registry = backend.registry
            if bundle_id is None:
                return {"name": "awm-serve", "description": f"Agent World Model environments: {', '.join(registry.bundles)}; "
                        "choose one with reset(bundle_id=...)", "version": awm_release.__version__}
            bundle = registry.bundles[registry.resolve_id(bundle_id)]  # HostError: the app's handler answers 404
            return {"name": bundle.bundle_id, "description": bundle.description or bundle.display_name,
                    "version": awm_release.__version__}

        @routes(router.get, "/health", summary="OpenEnv: health")
        async def health(bundle_id: str | None = None) -> dict[str, str]:
            return {"status": "healthy"}

        @routes(router.post, "/mcp", summary="OpenEnv: JSON-RPC for MCPToolClient's production mode")
        async def production_mcp(bundle_id: str | None = None, body: Any = Body(...)) -> JSONResponse:
            return JSONResponse(await _json_rpc(backend, self.production, bundle_id, body))

        return router


async def _answer(episode: Episode, raw: str) -> dict[str, Any] | None:
    """The reply to one WebSocket message (None after `close`)."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {"type": "error", "data": {"message": f"invalid JSON: {exc}", "code": "INVALID_JSON", "type": "bad_message"}}
    kind = message.get("type") if isinstance(message, dict) else None
    try:
        if kind == "reset":
            return {"type": "observation", "data": await episode.reset(message.get("data") or {})}
        if kind == "step":
            return {"type": "observation", "data": await episode.step(message.get("data") or {})}
        if kind == "state":
            return {"type": "state", "data": episode.state()}
        if kind == "close":
            return None
    except ProtocolError as exc:
        return {"type": "error", "data": exc.to_json()}
    return {"type": "error", "data": {"message": f"unknown message type {kind!r}; expected reset, step, state or close",
                                      "code": "UNKNOWN_TYPE", "type": "bad_message"}}


async def _json_rpc(backend: SessionBackend, production: dict[str, Episode], bundle_id: str | None, body: Any) -> dict[str, Any]:
    """One JSON-RPC request of MCPToolClient's production mode; sessions are named by params.session_id."""
    request_id = body.get("id") if isinstance(body, dict) else None

    def error(code: int, message: str, data: Any = None) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message, "data": data}}

    if not isinstance(body, dict) or not isinstance(body.get("method"), str) or not isinstance(body.get("params", {}), dict):
        return error(-32600, "invalid request: expected a JSON-RPC 2.0 object with a method and object params")
    method, params = body["method"], body.get("params") or {}
    session_id = params.get("session_id")
    episode = production.get(session_id) if session_id else None
    if session_id and episode is None:
        return error(-32602, f"unknown session_id {session_id!r}: it was closed, expired, or never created")
    try:
        if method == "openenv/session/create":
            episode = Episode(backend, bundle_id)
            await episode.reset({k: v for k, v in params.items() if k != "session_id"})
            session_id = secrets.token_hex(12)
            production[session_id] = episode
            described = {k: episode.info[k] for k in ("bundle_id", "task_idx", "task")}
            return {"jsonrpc": "2.0", "id": request_id, "result": {"session_id": session_id, **described}}
        if method == "openenv/session/close":
            if episode is None:
                return error(-32602, "openenv/session/close needs params.session_id")
            await production.pop(session_id).close()
            return {"jsonrpc": "2.0", "id": request_id, "result": {"session_id": session_id, "closed": True}}
        if method not in ("tools/list", "tools/call"):
            return error(-32601, f"method not found: {method} (this endpoint serves tools/list, tools/call and "
                                 "openenv/session/create|close; MCP clients use the streamable-HTTP endpoint /mcp)")
        temporary = episode is None
        episode = episode or Episode(backend, bundle_id)
        try:
            if method == "tools/list":
                listed = (await episode.step({"type": "list_tools"}))["observation"]["tools"]
                return {"jsonrpc": "2.0", "id": request_id, "result": {"tools": [
                    {"name": t["name"], "description": t["description"], "inputSchema": t["input_schema"]} for t in listed]}}
            if not isinstance(params.get("name"), str):
                return error(-32602, "tools/call needs params.name (and params.arguments)")
            step = await episode.step({"type": "call_tool", "tool_name": params["name"], "arguments": params.get("arguments") or {}})
            observation = step["observation"]
            if observation.get("error"):
                return error(-32000, observation["error"]["message"], observation.get("metadata", {}).get("error"))
            return {"jsonrpc": "2.0", "id": request_id, "result": observation["result"]}
        finally:
            if temporary:
                await episode.close()
    except ProtocolError as exc:
        return error(-32602 if exc.code == "VALIDATION_ERROR" else -32000, exc.message, {"type": exc.kind})


OBSERVATION_SCHEMA: dict[str, Any] = {
    "description": "After reset: bundle_id, task_idx, task, session_id, episode_id (also under metadata). After "
                   "list_tools: tools [{name, description, input_schema}]. After call_tool: tool_name, result "
                   "({data: the tool's JSON, content, structured_content}) or error ({error_type, message}; ours under "
                   "metadata.error). After verify: verification (or tool_name + result.data), with reward and done.",
    "type": "object",
}
STATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"episode_id": {"type": ["string", "null"]}, "step_count": {"type": "integer", "minimum": 0},
                   "bundle_id": {"type": ["string", "null"]}, "task_idx": {"type": ["integer", "null"]},
                   "session_id": {"type": ["string", "null"]}},
}
