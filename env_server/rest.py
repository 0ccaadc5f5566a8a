"""The REST API trainers use: sessions, tools, calls, reset, verification, database download."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from env_server.errors import ToolCallError
from env_server.sessions import SessionManager


class CreateSession(BaseModel):
    bundle_id: str | None = Field(None, description="Bundle to instantiate; may be omitted when the server serves one bundle.")
    task_idx: int | None = Field(None, ge=0, description="Task this session works on (used by /verify).")


class CallTool(BaseModel):
    tool: str = Field(..., description="Tool name (the route's operation_id).")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Flat arguments: path, query and body fields merged.")


class CallResult(BaseModel):
    ok: bool
    result: Any = Field(None, description="The tool's JSON response (when ok).")
    error: dict[str, Any] | None = Field(None, description="{type, message, status?, detail?} (when not ok).")


class Verify(BaseModel):
    task_idx: int | None = Field(None, ge=0, description="Defaults to the session's task.")
    final_answer: str | None = Field(None, description="The agent's final message, for tasks that ask a question.")
    mode: str = Field("code", pattern="^(code|sql)$", description="code: complete/others verdict; sql: facts for a judge.")


def build_router(manager: SessionManager) -> APIRouter:
    router = APIRouter()
    registry = manager.registry

    @router.get("/health", summary="Liveness and load")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "sessions": len(manager.sessions), "bundles": list(registry.bundles)}

    @router.get("/bundles", summary="Bundles this server serves")
    async def list_bundles() -> dict[str, Any]:
        return {"bundles": [_bundle_summary(manager, bundle_id) for bundle_id in registry.bundles]}

    @router.get("/bundles/{bundle_id}", summary="One bundle: tasks, tools, hydration report")
    async def get_bundle(bundle_id: str) -> dict[str, Any]:
        bundle_id = registry.resolve_id(bundle_id)
        hydrated = registry.hydrate(bundle_id)
        return {
            **_bundle_summary(manager, bundle_id),
            "tasks": hydrated.bundle.tasks,
            "tools": [tool.public() for tool in hydrated.environment.tools.values()],
            "seed_failures": [str(f) for f in hydrated.report.failures],
        }

    @router.post("/sessions", status_code=201, summary="Create an isolated session (its own copy of the database)")
    async def create_session(body: CreateSession, request: Request) -> dict[str, Any]:
        session = manager.create(body.bundle_id, body.task_idx)
        base = str(request.base_url).rstrip("/")
        return {**session.describe(), "mcp_url": f"{base}/sessions/{session.session_id}/mcp"}

    @router.get("/sessions/{session_id}", summary="Describe a session")
    async def get_session(session_id: str) -> dict[str, Any]:
        return manager.get(session_id).describe()

    @router.get("/sessions/{session_id}/tools", summary="The session's tools with JSON Schemas")
    async def list_tools(session_id: str) -> dict[str, Any]:
        session = manager.get(session_id)
        return {"tools": [tool.public() for tool in session.hydrated.environment.tools.values()]}

    @router.post("/sessions/{session_id}/call", summary="Call a tool; tool failures come back as ok=false, not HTTP errors",
                 response_model=CallResult)
    async def call_tool(session_id: str, body: CallTool) -> Response:
        session = manager.get(session_id)
        try:
            result = await manager.call(session, body.tool, body.arguments)
        except ToolCallError as exc:
            return Response(json.dumps({"ok": False, "error": exc.to_json()}), media_type="application/json")
        # The environment's JSON goes out as it came: no decode and re-encode of large results.
        return Response(b'{"ok": true, "result": ' + result + b"}", media_type="application/json")

    @router.post("/sessions/{session_id}/reset", summary="Restore the seed state (microseconds)")
    async def reset(session_id: str) -> dict[str, Any]:
        session = manager.get(session_id)
        await manager.reset(session)
        return session.describe()

    @router.post("/sessions/{session_id}/verify", summary="Run the task's verifier on initial vs current database")
    async def verify(session_id: str, body: Verify | None = None) -> dict[str, Any]:
        body = body or Verify()
        session = manager.get(session_id)
        result = await manager.verify(session, body.task_idx, mode=body.mode, final_answer=body.final_answer)
        return result.to_json()

    @router.get("/sessions/{session_id}/database", summary="Download the session's current SQLite database")
    async def download_database(session_id: str) -> Response:
        session = manager.get(session_id)
        async with session.lock:
            image = session.snapshot()
        filename = f"{session.bundle.bundle_id}-{session_id}.db"
        return Response(image, media_type="application/vnd.sqlite3",
                        headers={"content-disposition": f'attachment; filename="{filename}"'})

    @router.delete("/sessions/{session_id}", summary="Close a session and free its database")
    async def close_session(session_id: str) -> dict[str, Any]:
        manager.close(session_id)
        return {"session_id": session_id, "closed": True}

    return router


def _bundle_summary(manager: SessionManager, bundle_id: str) -> dict[str, Any]:
    bundle = manager.registry.bundles[bundle_id]
    return {
        "bundle_id": bundle_id,
        "display_name": bundle.display_name,
        "sha256": bundle.sha256,
        "tasks": len(bundle.tasks),
        "hydrated": manager.registry.is_hydrated(bundle_id),
        "missing": bundle.missing(),
    }
