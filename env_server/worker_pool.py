"""The front's side of multi-core serving: N worker processes, sessions pinned to one each.

`WorkerPool` offers the same session API as SessionManager and forwards each operation to the worker
that owns the session. A tool call that runs past its timeout, a worker that dies, or one that grows
past its memory limit costs exactly the sessions on that worker: their in-flight requests get a
`server_error`, later requests get `session_lost`, and a fresh worker takes the empty slot.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

import psutil

from env_server.config import ServeConfig
from env_server.errors import HostError, ToolCallError
from env_server.protocol import encode, read_message
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager, new_session_id
from env_server.worker import config_to_json

log = logging.getLogger("awm.serve")
WATCH_INTERVAL_S = 1.0
ADMISSION_FRACTION = 0.9  # of --worker-memory-mb, above which a worker takes no new sessions


class WorkerLost(Exception):
    """The worker handling a request died or was replaced before answering."""


class WorkerHandle:
    """One worker process and the requests in flight to it."""

    def __init__(self, index: int, proc: asyncio.subprocess.Process):
        self.index = index
        self.proc = proc
        self.pending: dict[int, asyncio.Future] = {}
        self.bundles: dict[str, asyncio.Future] = {}  # bundle_id -> done once the worker has it
        self.sessions: set[str] = set()
        self.ids = itertools.count()
        self.alive = True
        self.rss = 0  # bytes, as the memory watchdog last read it
        self.reader_task: asyncio.Task | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def request(self, op: str, timeout_s: float | None, **kwargs: Any) -> Any:
        if not self.alive:
            raise WorkerLost(f"worker {self.index} is gone")
        request_id = next(self.ids)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode((request_id, op, kwargs)))
        try:
            await self.proc.stdin.drain()
            return await asyncio.wait_for(future, timeout_s)
        except (ConnectionError, BrokenPipeError):
            raise WorkerLost(f"worker {self.index} closed its pipe") from None
        finally:
            self.pending.pop(request_id, None)

    def fail_pending(self, reason: str) -> None:
        self.alive = False
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerLost(reason))
        self.pending.clear()


class WorkerPool:
    """The session API of SessionManager, served by `config.workers` processes."""

    def __init__(self, registry: BundleRegistry, config: ServeConfig):
        self.registry = registry
        self.config = config
        self.workers: list[WorkerHandle] = []
        self.owner: dict[str, WorkerHandle] = {}
        self.last_used: dict[str, float] = {}
        self.lost: dict[str, str] = {}  # session_id -> why it was lost
        self.hydrated: set[str] = set()
        self._watchdog: asyncio.Task | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.workers = list(await asyncio.gather(*(self._spawn(i) for i in range(self.config.workers))))
        self._watchdog = asyncio.create_task(self._watch_memory())

    async def _spawn(self, index: int) -> WorkerHandle:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "env_server.worker", config_to_json(self.config),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 30,
        )
        handle = WorkerHandle(index, proc)
        handle.reader_task = asyncio.create_task(self._read_replies(handle))
        return handle

    async def _read_replies(self, handle: WorkerHandle) -> None:
        assert handle.proc.stdout is not None
        while (message := await read_message(handle.proc.stdout)) is not None:
            request_id, status, value = message
            future = handle.pending.get(request_id)
            if future is None or future.done():
                continue
            if status == "ok":
                future.set_result(value)
            elif status == "tool_error":
                kind, text, http_status, detail = value
                future.set_exception(ToolCallError(kind, text, status=http_status, detail=detail))
            else:
                http_status, code, text = value
                future.set_exception(HostError(http_status, code, text))
        if handle.alive and not self._stopping:
            code = await handle.proc.wait()
            await self._replace(handle, f"its worker process exited unexpectedly (status {code})")

    async def _replace(self, handle: WorkerHandle, reason: str) -> None:
        """Kill `handle`, mark its sessions lost, and start a fresh worker in its slot."""
        if not handle.alive or self._stopping:
            return
        log.warning("worker %d (pid %d) replaced: %s; %d session(s) lost", handle.index, handle.pid, reason, len(handle.sessions))
        handle.fail_pending(reason)
        if handle.proc.returncode is None:
            handle.proc.kill()
            await handle.proc.wait()
        for session_id in handle.sessions:
            self.owner.pop(session_id, None)
            self.last_used.pop(session_id, None)
            self.lost[session_id] = reason
        handle.sessions.clear()
        self.workers[handle.index] = await self._spawn(handle.index)

    async def _watch_memory(self) -> None:
        limit = self.config.worker_memory_mb << 20
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            for handle in list(self.workers):
                handle.rss = _rss(handle.pid)
                if handle.rss > limit:
                    await self._replace(handle, f"its worker grew to {handle.rss >> 20} MB, past the {self.config.worker_memory_mb} MB limit")

    async def shutdown(self) -> None:
        self._stopping = True
        if self._watchdog:
            self._watchdog.cancel()
        for handle in self.workers:
            handle.fail_pending("the server is shutting down")
            if handle.proc.stdin:
                handle.proc.stdin.close()
        for handle in self.workers:
            try:
                await asyncio.wait_for(handle.proc.wait(), 5)
            except asyncio.TimeoutError:
                handle.proc.kill()
                await handle.proc.wait()

    # ------------------------------------------------------------------ the session API

    async def create(self, bundle_id: str | None, task_idx: int | None = None, *, owner: str = "rest",
                     record: bool = True) -> dict[str, Any]:
        bundle_id = self.registry.resolve_id(bundle_id)
        if len(self.owner) >= self.config.max_sessions:
            raise HostError(503, "too_many_sessions",
                            f"the server holds its limit of {self.config.max_sessions} sessions; close some first")
        handle = self._choose_worker()
        await self._ensure_bundle(handle, bundle_id)
        session_id = new_session_id()
        info = await self._forward(handle, "create", self.config.call_timeout_s, bundle_id=bundle_id, task_idx=task_idx,
                                   owner=owner, record=record, session_id=session_id)
        handle.sessions.add(session_id)
        self.owner[session_id] = handle
        self.last_used[session_id] = time.monotonic()
        self.hydrated.add(bundle_id)
        return info

    async def preload(self, bundle_id: str) -> None:
        """Load a bundle in every worker now (fail fast at start-up, and no cold first session)."""
        await asyncio.gather(*(self._ensure_bundle(handle, bundle_id) for handle in self.workers))
        await asyncio.gather(*(self._forward(h, "hydrate", None, bundle_id=bundle_id) for h in self.workers))
        self.hydrated.add(bundle_id)

    async def describe(self, session_id: str) -> dict[str, Any]:
        return await self._session_op(session_id, "describe")

    async def tools(self, session_id: str) -> list[dict[str, Any]]:
        return await self._session_op(session_id, "tools")

    async def bundle_info(self, bundle_id: str) -> dict[str, Any]:
        bundle_id = self.registry.resolve_id(bundle_id)
        handle = self._choose_worker()
        await self._ensure_bundle(handle, bundle_id)
        info = await self._forward(handle, "bundle_info", self.config.call_timeout_s, bundle_id=bundle_id)
        self.hydrated.add(bundle_id)
        return info

    async def call(self, session_id: str, tool: str, arguments: dict[str, Any] | None) -> bytes:
        handle = self._owner_of(session_id)
        try:
            return await handle.request("call", self.config.call_timeout_s, session_id=session_id, tool=tool, arguments=arguments)
        except asyncio.TimeoutError:
            reason = f"tool call {tool!r} ran past the {self.config.call_timeout_s:g} s timeout"
            await self._replace(handle, reason)
            raise ToolCallError("server_error", f"{reason}; the worker running it was replaced and this session is lost") from None
        except WorkerLost as exc:
            raise ToolCallError("server_error", f"the session was lost: {exc}") from None

    async def list_sessions(self) -> list[dict[str, Any]]:
        listed = await asyncio.gather(*(self._forward(h, "list_sessions", self.config.call_timeout_s) for h in self.workers),
                                      return_exceptions=True)
        return [s for sessions in listed if isinstance(sessions, list) for s in sessions]  # a lost worker has none

    async def calls(self, session_id: str, since: int = 0, limit: int = 100) -> dict[str, Any]:
        handle = self._owner_of(session_id, touch=False)  # watching a session must not keep it from expiring
        return await self._forward(handle, "calls", self.config.call_timeout_s, session_id=session_id, since=since, limit=limit)

    async def reset(self, session_id: str) -> dict[str, Any]:
        return await self._session_op(session_id, "reset")

    async def snapshot(self, session_id: str) -> bytes:
        return await self._session_op(session_id, "snapshot")

    async def verify(self, session_id: str, task_idx: int | None = None, *, mode: str = "code",
                     final_answer: str | None = None, rewards: Mapping[str, float] | None = None) -> dict[str, Any]:
        budget = self.config.verifier_timeout_s + (self.config.judge.timeout_s * 4 if self.config.judge else 0) + 30
        return await self._session_op(session_id, "verify", budget, task_idx=task_idx, mode=mode,
                                      final_answer=final_answer, rewards=dict(rewards) if rewards else None)

    async def close(self, session_id: str, *, save: bool = False) -> dict[str, Any]:
        result = await self._session_op(session_id, "close", self.config.call_timeout_s + 30, save=save)
        handle = self.owner.pop(session_id)
        handle.sessions.discard(session_id)
        self.last_used.pop(session_id, None)
        return result

    async def expire_idle(self) -> list[str]:
        cutoff = time.monotonic() - self.config.idle_timeout_s
        stale = [sid for sid, used in self.last_used.items() if used < cutoff]
        for session_id in stale:
            try:
                await self.close(session_id)
            except HostError:
                pass  # lost or closed meanwhile: nothing left to expire
        return stale

    @property
    def session_count(self) -> int:
        return len(self.owner)

    def hydrated_bundle_ids(self) -> set[str]:
        return set(self.hydrated)

    # ------------------------------------------------------------------ internals

    def _choose_worker(self) -> WorkerHandle:
        limit = (self.config.worker_memory_mb << 20) * ADMISSION_FRACTION
        candidates = [h for h in self.workers if h.alive and h.rss < limit]
        if not candidates:
            raise HostError(503, "workers_full", f"every worker is near its {self.config.worker_memory_mb} MB memory limit; "
                            "close sessions or raise --worker-memory-mb")
        return min(candidates, key=lambda h: len(h.sessions))

    async def _ensure_bundle(self, handle: WorkerHandle, bundle_id: str) -> None:
        sent = handle.bundles.get(bundle_id)
        if sent is None:
            sent = asyncio.ensure_future(
                self._forward(handle, "add_bundle", None, bundle=self.registry.bundles[bundle_id].model_dump(mode="json"))
            )
            handle.bundles[bundle_id] = sent
        try:
            await asyncio.shield(sent)
        except Exception:
            handle.bundles.pop(bundle_id, None)
            raise

    def _owner_of(self, session_id: str, *, touch: bool = True) -> WorkerHandle:
        handle = self.owner.get(session_id)
        if handle is None:
            if session_id in self.lost:
                raise HostError(410, "session_lost", f"session {session_id!r} was lost because {self.lost[session_id]}; create a new session")
            raise HostError(404, "unknown_session", f"unknown session {session_id!r}: it was closed, expired, or never created")
        if touch:
            self.last_used[session_id] = time.monotonic()
        return handle

    async def _session_op(self, session_id: str, op: str, timeout_s: float | None = None, **kwargs: Any) -> Any:
        handle = self._owner_of(session_id)
        return await self._forward(handle, op, timeout_s or self.config.call_timeout_s, session_id=session_id, **kwargs)

    async def _forward(self, handle: WorkerHandle, op: str, timeout_s: float | None, **kwargs: Any) -> Any:
        try:
            return await handle.request(op, timeout_s, **kwargs)
        except asyncio.TimeoutError:
            reason = f"a {op} request ran past its {timeout_s:g} s timeout"
            await self._replace(handle, reason)
            raise HostError(504, "server_error", f"{reason}; the worker was replaced") from None
        except WorkerLost as exc:
            raise HostError(502, "server_error", f"the worker handling this request was lost: {exc}") from None


def _rss(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


# What REST and MCP talk to: the in-process engine (--workers 0) or the pool of worker processes.
SessionBackend = SessionManager | WorkerPool
