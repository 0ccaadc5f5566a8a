"""MCP (streamable HTTP) in front of the same sessions, with the official `mcp` SDK's low-level server.

Endpoints:
- `/mcp/{bundle_id}` (and `/mcp` when one bundle is served): every MCP session (Mcp-Session-Id) gets its
  own environment instance, created on first use and closed when the client ends the MCP session.
  Environment state needs a session, so these endpoints speak the stateful handshake era of MCP; a
  client in `auto` mode is steered there by refusing the stateless `server/discover` probe.
- `/sessions/{session_id}/mcp`: a REST-created session exposed over MCP (any protocol era), so a trainer
  can create, verify and reset over REST while the agent framework talks MCP.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import INVALID_PARAMS, METHOD_NOT_FOUND
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from env_server.errors import HostError, ToolCallError
from env_server.worker_pool import SessionBackend

MCP_SESSION_HEADER = "mcp-session-id"
MCP_VERSION_HEADER = "mcp-protocol-version"
STATELESS_REFUSAL = (
    "per-bundle endpoints keep environment state per MCP session: connect with the initialize handshake "
    "(mode='legacy'), or create a session over REST and use /sessions/{id}/mcp"
)


class McpEndpoint:
    """Owns the SDK session manager and the mapping from MCP sessions to environment sessions."""

    def __init__(self, backend: SessionBackend, idle_timeout_s: float):
        self.backend = backend
        self.server: Server[Any] = Server(
            "awm-serve",
            instructions="Tools of an Agent World Model environment; each MCP session has its own database.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )
        self.sdk = StreamableHTTPSessionManager(self.server, json_response=True, session_idle_timeout=idle_timeout_s)
        self._by_mcp_session: dict[str, str] = {}  # Mcp-Session-Id -> environment session id
        self._creating: dict[str, asyncio.Future] = {}  # Mcp-Session-Id -> environment session being created

    # ------------------------------------------------------------------ ASGI entry points

    async def handle_bundle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/mcp/{bundle_id}` and `/mcp`: one environment per MCP session."""
        request = Request(scope, receive)
        version = request.headers.get(MCP_VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await _jsonrpc_error(request, send, 400, METHOD_NOT_FOUND, STATELESS_REFUSAL)
            return
        try:
            self.backend.registry.resolve_id(scope.get("path_params", {}).get("bundle_id"))
        except HostError as exc:
            await _jsonrpc_error(request, send, exc.status, INVALID_PARAMS, exc.message)
            return
        if request.method == "DELETE":
            await self._release(request.headers.get(MCP_SESSION_HEADER))
        await self.sdk.handle_request(scope, receive, send)

    async def handle_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/sessions/{session_id}/mcp`: the environment is the REST session named in the URL."""
        try:
            await self.backend.describe(scope["path_params"]["session_id"])
        except HostError as exc:
            await _jsonrpc_error(Request(scope, receive), send, exc.status, INVALID_PARAMS, exc.message)
            return
        await self.sdk.handle_request(scope, receive, send)

    # ------------------------------------------------------------------ MCP handlers

    async def _list_tools(self, ctx: ServerRequestContext[Any], params: Any) -> types.ListToolsResult:
        session_id = await self._session_for(ctx)
        tools = await _as_mcp_error(self.backend.tools(session_id))
        return types.ListToolsResult(tools=[
            types.Tool(name=t["name"], description=t["description"], input_schema=t["inputSchema"]) for t in tools
        ])

    async def _call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        session_id = await self._session_for(ctx)
        try:
            result = await _as_mcp_error(self.backend.call(session_id, params.name, dict(params.arguments or {})))
        except ToolCallError as exc:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json.dumps({"error": exc.to_json()}))], is_error=True
            )
        value = json.loads(result)
        structured = value if isinstance(value, dict) else {"result": value}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=result.decode("utf-8"))], structured_content=structured
        )

    async def _session_for(self, ctx: ServerRequestContext[Any]) -> str:
        """The environment session id behind this MCP request, created on the MCP session's first use."""
        request = ctx.request
        path_params = request.path_params if isinstance(request, Request) else {}
        if "session_id" in path_params:
            return path_params["session_id"]
        mcp_session = request.headers.get(MCP_SESSION_HEADER) if isinstance(request, Request) else None
        if mcp_session is None:
            raise MCPError(INVALID_PARAMS, "this endpoint needs an MCP session (initialize handshake)")
        if mcp_session in self._by_mcp_session:
            return self._by_mcp_session[mcp_session]
        pending = self._creating.get(mcp_session)
        if pending is None:  # first request of this MCP session; concurrent ones wait for the same creation
            pending = asyncio.ensure_future(self.backend.create(path_params.get("bundle_id"), owner=f"mcp:{mcp_session}"))
            self._creating[mcp_session] = pending
        try:
            info = await _as_mcp_error(asyncio.shield(pending))
        finally:
            self._creating.pop(mcp_session, None)
        self._by_mcp_session[mcp_session] = info["session_id"]
        return info["session_id"]

    async def _release(self, mcp_session: str | None) -> None:
        env_session_id = self._by_mcp_session.pop(mcp_session, None) if mcp_session else None
        if env_session_id is not None:
            try:
                await self.backend.close(env_session_id)
            except HostError:
                pass  # already expired or lost: nothing to free

    def forget(self, session_ids: list[str]) -> None:
        """Drop mappings to environment sessions that expired."""
        gone = set(session_ids)
        for mcp_session, env_session_id in list(self._by_mcp_session.items()):
            if env_session_id in gone:
                del self._by_mcp_session[mcp_session]


async def _as_mcp_error(awaitable):
    """Host errors reach the MCP client as JSON-RPC errors carrying our message."""
    try:
        return await awaitable
    except HostError as exc:
        raise MCPError(INVALID_PARAMS, exc.message, {"type": exc.code}) from None


async def _jsonrpc_error(request: Request, send: Send, status: int, code: int, message: str) -> None:
    """Refuse an MCP request with a JSON-RPC error body, so MCP clients show our message, not just the status.

    A JSON-RPC error to the stateless-era probe is also how `auto` clients learn to use the handshake.
    """
    request_id = None
    if request.method == "POST":
        try:
            payload = json.loads(await request.body())
            request_id = payload.get("id") if isinstance(payload, dict) else None
        except ValueError:
            pass
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    await JSONResponse(body, status_code=status)(request.scope, request.receive, send)
