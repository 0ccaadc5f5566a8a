"""The REST API trainers use: sessions, tools, calls, reset, verification, database download."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from awm_release.sandbox.verification import MODES
from env_server.errors import ToolCallError
from env_server.worker_pool import SessionBackend


class CreateSession(BaseModel):
    bundle_id: str | None = Field(None, max_length=256, description="Bundle to instantiate; may be omitted when the server serves one bundle.")
    task_idx: int | None = Field(None, ge=0, description="Task this session works on (used by /verify).")
    record: bool = Field(True, description="Record every call (for the judge, trajectories and run folders).")


class CallTool(BaseModel):
    tool: str = Field(..., max_length=256, description="Tool name (the route's operation_id).")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Flat arguments: path, query and body fields merged.")


class CallResult(BaseModel):
    ok: bool
    result: Any = Field(None, description="The tool's JSON response (when ok).")
    error: dict[str, Any] | None = Field(None, description="{type, message, status?, detail?} (when not ok).")


class Verify(BaseModel):
    task_idx: int | None = Field(None, ge=0, description="Defaults to the session's task.")
    final_answer: str | None = Field(None, description="The agent's final message, for tasks that ask a question.")
    mode: str = Field("code", pattern=f"^({'|'.join(MODES)})$",
                      description="; ".join(f"{name}: {meaning}" for name, meaning in MODES.items()))
    rewards: dict[str, float] | None = Field(None, description="Override rewards per outcome, e.g. {\"partially_completed\": 0.2}.")


def build_router(backend: SessionBackend, sandbox_info: dict[str, Any]) -> APIRouter:
    router = APIRouter()
    registry = backend.registry

    def summary(bundle_id: str, hydrated: set[str]) -> dict[str, Any]:
        bundle = registry.bundles[bundle_id]
        return {
            "bundle_id": bundle_id,
            "display_name": bundle.display_name,
            "sha256": bundle.sha256,
            "tasks": len(bundle.tasks),
            "hydrated": bundle_id in hydrated,
            "missing": bundle.missing(),
        }

    @router.get("/health", summary="Liveness and load")
    async def health() -> dict[str, Any]:
        health = {"status": "ok", "sessions": backend.session_count, "bundles": list(registry.bundles), "sandbox": sandbox_info}
        if not sandbox_info.get("enabled"):
            health["warning"] = "the sandbox is OFF (--sandbox off): bundle code runs with this server's privileges"
        return health

    @router.get("/bundles", summary="Bundles this server serves")
    async def list_bundles() -> dict[str, Any]:
        hydrated = backend.hydrated_bundle_ids()
        return {"bundles": [summary(bundle_id, hydrated) for bundle_id in registry.bundles]}

    @router.get("/bundles/{bundle_id}", summary="One bundle: tasks, tools, hydration report")
    async def get_bundle(bundle_id: str) -> dict[str, Any]:
        info = await backend.bundle_info(bundle_id)
        return {**summary(registry.resolve_id(bundle_id), backend.hydrated_bundle_ids()), **info}

    @router.post("/sessions", status_code=201, summary="Create an isolated session (its own copy of the database)")
    async def create_session(body: CreateSession, request: Request) -> dict[str, Any]:
        info = await backend.create(body.bundle_id, body.task_idx, record=body.record)
        base = str(request.base_url).rstrip("/")
        return {**info, "mcp_url": f"{base}/sessions/{info['session_id']}/mcp"}

    @router.get("/sessions", summary="Open sessions (what the viewer's live page lists)")
    async def list_sessions() -> dict[str, Any]:
        return {"sessions": await backend.list_sessions()}

    @router.get("/sessions/{session_id}", summary="Describe a session")
    async def get_session(session_id: str) -> dict[str, Any]:
        return await backend.describe(session_id)

    @router.get("/sessions/{session_id}/tools", summary="The session's tools with JSON Schemas")
    async def list_tools(session_id: str) -> dict[str, Any]:
        return {"tools": await backend.tools(session_id)}

    @router.post("/sessions/{session_id}/call", summary="Call a tool; tool failures come back as ok=false, not HTTP errors",
                 response_model=CallResult)
    async def call_tool(session_id: str, body: CallTool) -> Response:
        try:
            result = await backend.call(session_id, body.tool, body.arguments)
        except ToolCallError as exc:
            return Response(json.dumps({"ok": False, "error": exc.to_json()}), media_type="application/json")
        # The environment's JSON goes out as it came: no decode and re-encode of large results.
        return Response(b'{"ok": true, "result": ' + result + b"}", media_type="application/json")

    @router.get("/sessions/{session_id}/calls", summary="The session's recorded calls from index `since` (to watch it live)")
    async def session_calls(session_id: str, since: int = Query(0, ge=0, description="First call index to return."),
                            limit: int = Query(100, ge=1, le=1000, description="At most this many calls.")) -> dict[str, Any]:
        return await backend.calls(session_id, since, limit)

    @router.post("/sessions/{session_id}/reset", summary="Restore the seed state (microseconds)")
    async def reset(session_id: str) -> dict[str, Any]:
        return await backend.reset(session_id)

    @router.post("/sessions/{session_id}/verify", summary="Judge the task on initial vs current database, with its reward")
    async def verify(session_id: str, body: Verify | None = None) -> dict[str, Any]:
        body = body or Verify()
        return await backend.verify(session_id, body.task_idx, mode=body.mode, final_answer=body.final_answer,
                                    rewards=body.rewards)

    @router.get("/sessions/{session_id}/database", summary="Download the session's current SQLite database")
    async def download_database(session_id: str) -> Response:
        image = await backend.snapshot(session_id)
        return Response(image, media_type="application/vnd.sqlite3",
                        headers={"content-disposition": f'attachment; filename="{session_id}.db"'})

    @router.delete("/sessions/{session_id}", summary="Close a session (optionally saving its run folder first)")
    async def close_session(session_id: str, save: bool = Query(False, description="Write trajectory and databases under --runs-dir.")) -> dict[str, Any]:
        return await backend.close(session_id, save=save)

    return router
