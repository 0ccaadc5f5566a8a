"""Sessions that each own a private in-memory copy of a bundle's database, in one process.

`SessionManager` is the engine: it runs in every worker process (and in the server itself with
`--workers 0 --sandbox off`). Its async methods are the session API that REST and MCP speak; `WorkerPool`
offers the same methods and forwards them to workers. Verification and run folders need `judging`, which
only the front has (env_server.judging).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from awm_release.database import open_image
from env_server.config import ServeConfig
from env_server.errors import HostError, ToolCallError
from env_server.registry import BundleRegistry, HydratedBundle
from env_server.runtime import SessionDatabase

if TYPE_CHECKING:  # the front's; workers never import it (it carries the judge client)
    from env_server.judging import Judging

log = logging.getLogger("awm.serve")


def new_session_id() -> str:
    return secrets.token_hex(12)


def truncated(raw: bytes | str, limit: int) -> dict[str, Any]:
    """What a trajectory keeps of a value too large to keep: a marker, its size, and its beginning."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return {"_truncated": True, "bytes": len(raw), "preview": text[: min(limit, 2000)]}


def bounded(value: Any, limit: int) -> Any:
    """`value` if its JSON fits in `limit` bytes, else a truncation marker."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else truncated(text, limit)


@dataclass
class EnvSession:
    """One isolated environment instance: its own database (reset in microseconds) and its call record."""

    session_id: str
    hydrated: HydratedBundle
    task_idx: int | None
    owner: str  # "rest" or "mcp:<mcp-session-id>"
    record: bool = True
    db: SessionDatabase = field(init=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    created_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    calls: list[dict[str, Any]] = field(default_factory=list)
    call_count: int = 0
    value_limit: int = 64 << 10  # bytes of JSON kept per recorded argument set or result

    def __post_init__(self) -> None:
        self.db = SessionDatabase(open_image(self.hydrated.image))

    @property
    def bundle_id(self) -> str:
        return self.hydrated.bundle.bundle_id

    def describe(self) -> dict[str, Any]:
        task = self.hydrated.bundle.tasks[self.task_idx] if self.task_idx is not None else None
        return {
            "session_id": self.session_id,
            "bundle_id": self.bundle_id,
            "task_idx": self.task_idx,
            "task": task,
            "calls": self.call_count,
            "created_at": self.created_at,
        }

    def remember(self, tool: str, arguments: dict[str, Any] | None, result: bytes | None, error: ToolCallError | None,
                 started: float, latency_ms: float) -> None:
        self.call_count += 1
        if self.record:
            entry: dict[str, Any] = {"index": self.call_count - 1, "tool": tool,
                                     "arguments": bounded(arguments or {}, self.value_limit),
                                     "ok": error is None, "started_at": started, "latency_ms": round(latency_ms, 3)}
            if error is None:
                assert result is not None
                # kept as bytes; decoded only when a trajectory is read
                entry["result_json"] = result if len(result) <= self.value_limit else json.dumps(truncated(result, self.value_limit)).encode()
            else:
                entry["error"] = error.to_json()
            self.calls.append(entry)

    def recorded_calls(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Recorded calls from index `since` (reset starts the record over), results decoded."""
        calls = []
        for entry in self.calls[since:None if limit is None else since + limit]:
            shown = {k: v for k, v in entry.items() if k != "result_json"}
            if "result_json" in entry:
                shown["result"] = json.loads(entry["result_json"])
            calls.append(shown)
        return calls

    def trajectory(self) -> dict[str, Any]:
        return {**self.describe(), "closed_at": time.time(), "calls": self.recorded_calls()}

    def reset(self) -> None:
        self.db.conn.deserialize(self.hydrated.image)
        self.calls.clear()
        self.call_count = 0

    def close(self) -> None:
        self.db.close()


class SessionManager:
    """Creates, finds, expires and closes sessions of this process; operations on one session are serialized."""

    def __init__(self, registry: BundleRegistry, config: ServeConfig, judging: Judging | None = None):
        self.registry = registry
        self.config = config
        self.sessions: dict[str, EnvSession] = {}
        self.judging = judging

    # ------------------------------------------------------------------ the session API

    async def create(self, bundle_id: str | None, task_idx: int | None = None, *, owner: str = "rest",
                     record: bool = True, session_id: str | None = None) -> dict[str, Any]:
        bundle_id = self.registry.resolve_id(bundle_id)
        if len(self.sessions) >= self.config.max_sessions:
            raise HostError(503, "too_many_sessions",
                            f"the server holds its limit of {self.config.max_sessions} sessions; close some first")
        hydrated = self.registry.hydrate(bundle_id)
        tasks = hydrated.bundle.tasks
        if task_idx is not None and not 0 <= task_idx < len(tasks):
            raise HostError(400, "unknown_task", f"{bundle_id} has tasks 0-{len(tasks) - 1}; got task_idx={task_idx}")
        session = EnvSession(session_id or new_session_id(), hydrated, task_idx, owner, record,
                             value_limit=self.config.max_trajectory_value_bytes)
        self.sessions[session.session_id] = session
        return session.describe()

    async def preload(self, bundle_id: str) -> None:
        """Hydrate a bundle now (fail fast at start-up, and no cold first session)."""
        self.registry.hydrate(bundle_id)

    async def describe(self, session_id: str) -> dict[str, Any]:
        return self._get(session_id).describe()

    async def tools(self, session_id: str) -> list[dict[str, Any]]:
        return self.bundle_tools(self._get(session_id).bundle_id)

    def bundle_tools(self, bundle_id: str) -> list[dict[str, Any]]:
        return [tool.public() for tool in self.registry.hydrate(bundle_id).environment.tools.values()]

    async def bundle_info(self, bundle_id: str) -> dict[str, Any]:
        hydrated = self.registry.hydrate(self.registry.resolve_id(bundle_id))
        return {
            "tasks": hydrated.bundle.tasks,
            "tools": self.bundle_tools(hydrated.bundle.bundle_id),
            "seed_failures": [str(f) for f in hydrated.report.failures],
            "database_notes": hydrated.report.notes(),
            "problems": [str(p) for p in hydrated.bundle.problems()],
        }

    async def call(self, session_id: str, tool: str, arguments: dict[str, Any] | None) -> bytes:
        """The tool's JSON response as bytes, or ToolCallError; every call is recorded."""
        session = self._get(session_id)
        async with session.lock:
            started_wall, started = time.time(), time.perf_counter()
            try:
                result = await session.hydrated.environment.call(session.db, tool, arguments)
            except ToolCallError as exc:
                session.remember(tool, arguments, None, exc, started_wall, (time.perf_counter() - started) * 1000)
                raise
            session.remember(tool, arguments, result, None, started_wall, (time.perf_counter() - started) * 1000)
            return result

    async def list_sessions(self) -> list[dict[str, Any]]:
        """Every open session of this process, with its owner (rest, mcp:..., viewer)."""
        return [{**s.describe(), "owner": s.owner} for s in self.sessions.values()]

    async def calls(self, session_id: str, since: int = 0, limit: int = 100) -> dict[str, Any]:
        """A page of the session's recorded calls, for watching it live; `calls_total` counts since the last reset."""
        session = self._find(session_id)  # not _get: watching a session must not keep it from expiring
        return {"session_id": session_id, "recording": session.record, "calls_total": session.call_count,
                "calls": session.recorded_calls(since, limit)}

    async def reset(self, session_id: str) -> dict[str, Any]:
        session = self._get(session_id)
        async with session.lock:
            session.reset()
        return session.describe()

    async def snapshot(self, session_id: str) -> bytes:
        session = self._get(session_id)
        async with session.lock:
            return session.db.conn.serialize()

    async def episode(self, session_id: str, with_calls: bool = True) -> dict[str, Any]:
        """What judging and run folders need: the trajectory (calls only `with_calls`) and the final database."""
        session = self._get(session_id)
        async with session.lock:
            trajectory = session.trajectory() if with_calls else {**session.describe(), "calls": []}
            return {"trajectory": trajectory, "final_image": session.db.conn.serialize()}

    async def verify(self, session_id: str, task_idx: int | None = None, *, mode: str = "code",
                     final_answer: str | None = None, rewards: Mapping[str, float] | None = None) -> dict[str, Any]:
        session = self._get(session_id)
        episode = await self.episode(session_id, with_calls=mode == "sql")
        return await self._judging().verify(session.hydrated.bundle, session_id, session.task_idx if task_idx is None else task_idx,
                                            session.hydrated.image, episode["final_image"], episode["trajectory"]["calls"],
                                            mode=mode, final_answer=final_answer, rewards=rewards)

    async def close(self, session_id: str, *, save: bool = False) -> dict[str, Any]:
        """Close the session; with `save`, first write its run folder under the server's runs directory."""
        session = self._get(session_id)
        saved_to = None
        if save:
            self._judging().check_can_save()
            episode = await self.episode(session_id)
            saved_to = self._judging().save(session_id, session.bundle_id, session.task_idx, episode["trajectory"],
                                            session.hydrated.image, episode["final_image"])
        self.sessions.pop(session_id).close()
        if self.judging:
            self.judging.forget(session_id)
        return {"session_id": session_id, "closed": True, "saved_to": saved_to}

    async def expire_idle(self) -> list[str]:
        """Close sessions unused for longer than the idle timeout; returns their ids."""
        cutoff = time.monotonic() - self.config.idle_timeout_s
        stale = [sid for sid, s in self.sessions.items() if s.last_used < cutoff]
        for sid in stale:
            self.sessions.pop(sid).close()
        return stale

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    def hydrated_bundle_ids(self) -> set[str]:
        return self.registry.hydrated_ids()

    async def shutdown(self) -> None:
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()
        if self.judging:
            await self.judging.close()

    # ------------------------------------------------------------------ internals

    def _judging(self) -> Judging:
        if self.judging is None:
            raise HostError(400, "bad_worker_op", "verification and run folders belong to the front, not to workers")
        return self.judging

    def _get(self, session_id: str) -> EnvSession:
        session = self._find(session_id)
        session.last_used = time.monotonic()
        return session

    def _find(self, session_id: str) -> EnvSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise HostError(404, "unknown_session", f"unknown session {session_id[:64]!r}: it was closed, expired, or never created")
        return session
