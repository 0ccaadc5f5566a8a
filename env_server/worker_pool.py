"""The front's side of serving: one sandboxed zygote forks each bundle its own worker processes.

`WorkerPool` offers the same session API as SessionManager. A bundle gets up to `config.workers` workers
(a new one for each new session until it has that many, then the least loaded): never a process shared with
another bundle. A worker with no sessions for `worker_idle_timeout_s` is closed. A tool call that runs past its
timeout, a worker that dies, grows past its memory limit, or sends a malformed answer costs exactly that
worker's sessions: their in-flight requests get a `server_error`, later requests get `session_lost`.

Verification and run folders happen here, in the front (env_server.judging): a worker only hands over data.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from awm_release.sandbox.fork_servers import STOP_GRACE_S
from awm_release.sandbox.frames import ProtocolError, decode, encode, read_frame
from awm_release.sandbox.launch import Sandbox
from awm_release.sandbox.seccomp import untrusted_filter
from env_server.config import ServeConfig
from env_server.errors import HostError, ToolCallError
from env_server.judging import Judging
from env_server.protocol import parse_answer
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager, new_session_id
from env_server.worker import config_to_dict

log = logging.getLogger("awm.serve")
WATCH_INTERVAL_S = 1.0
ADMISSION_FRACTION = 0.9  # of --worker-memory-mb, above which a worker takes no new sessions
ANSWER_LIMIT = 1 << 30


class WorkerLost(Exception):
    """The worker handling a request died or was removed before answering."""


class ZygoteLost(Exception):
    """The zygote died: every worker went with it."""


class Zygote:
    """The sandboxed process that forks workers (env_server.zygote), and its SOCK_SEQPACKET channel."""

    def __init__(self, proc: asyncio.subprocess.Process, channel: socket.socket):
        self.proc = proc
        self.channel = channel
        self.ids = itertools.count(1)
        self.lock = asyncio.Lock()

    @classmethod
    async def start(cls, sandbox: Sandbox) -> Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        program = untrusted_filter().hex() if sandbox.enabled else ""
        try:
            proc = await sandbox.spawn([sys.executable, "-I", "-m", "env_server.zygote", str(theirs.fileno()), program],
                                       pass_fds=[theirs.fileno()], stdin=asyncio.subprocess.DEVNULL)
        finally:
            theirs.close()
        ours.setblocking(False)
        return cls(proc, ours)

    async def request(self, request: dict[str, Any], fds: list[int] = ()) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        async with self.lock:
            request_id = next(self.ids)
            packet = encode({**request, "id": request_id})[4:]
            try:
                while True:
                    try:
                        socket.send_fds(self.channel, [packet], list(fds))
                        break
                    except BlockingIOError:
                        await asyncio.sleep(0.001)
                answer = decode(await loop.sock_recv(self.channel, 1 << 20))
            except (OSError, ProtocolError) as exc:
                raise ZygoteLost(f"the zygote's channel failed ({exc})") from None
        if not isinstance(answer, dict) or answer.get("id") != request_id or "error" in answer:
            raise ZygoteLost(f"the zygote answered out of turn or refused: {str(answer)[:200]}")
        return answer

    async def stop(self) -> None:
        """Closing the channel ends the zygote (it kills its workers first); killing bubblewrap is the fallback."""
        self.channel.close()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_GRACE_S)
        except asyncio.TimeoutError:
            self.proc.kill()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE_S)


@dataclass(eq=False)
class WorkerHandle:
    """One bundle's worker process (known to the zygote by `pid`), and the requests in flight to it."""

    bundle_id: str
    pid: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    alive: bool = True
    rss: int = 0  # bytes, as the memory watchdog last read it
    idle_since: float = field(default_factory=time.monotonic)
    reader_task: asyncio.Task | None = None
    image: bytes = b""  # the template database this worker's sessions start from (seed rows may hold load-time values)

    async def request(self, op: str, timeout_s: float | None, **kwargs: Any) -> Any:
        if not self.alive:
            raise WorkerLost(f"the {self.bundle_id} worker is gone")
        request_id = next(self.ids)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            self.writer.write(encode([request_id, op, kwargs]))
            await self.writer.drain()
            return await asyncio.wait_for(future, timeout_s)
        except (ConnectionError, BrokenPipeError):
            raise WorkerLost(f"the {self.bundle_id} worker closed its channel") from None
        finally:
            self.pending.pop(request_id, None)

    def fail_pending(self, reason: str) -> None:
        self.alive = False
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerLost(reason))
        self.pending.clear()


@dataclass
class SessionRecord:
    worker: WorkerHandle
    bundle_id: str
    task_idx: int | None
    last_used: float = field(default_factory=time.monotonic)


class WorkerPool:
    """The session API of SessionManager, served by per-bundle worker processes forked by a sandboxed zygote."""

    def __init__(self, registry: BundleRegistry, config: ServeConfig, sandbox: Sandbox):
        self.registry = registry
        self.config = config
        self.sandbox = sandbox
        self.judging = Judging(config, sandbox)
        self.zygote: Zygote | None = None
        self.workers: dict[str, list[WorkerHandle]] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.lost: dict[str, str] = {}  # session_id -> why it was lost
        self.hydrated: set[str] = set()  # bundles that have loaded in a worker at least once
        self.seed_failures: dict[str, list[str]] = {}
        self._forking: dict[str, asyncio.Lock] = {}
        self._watchdog: asyncio.Task | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.zygote = await Zygote.start(self.sandbox)
        self._watchdog = asyncio.create_task(self._watch())

    async def _fork(self, bundle_id: str) -> WorkerHandle:
        """A new worker for `bundle_id`, hydrated (fails with bundle_load_failed if the bundle cannot load)."""
        if self.zygote is None:
            raise HostError(503, "server_error", "the server is not started")
        ours, theirs = socket.socketpair()
        try:
            answer = await self.zygote.request({"op": "fork", "config": config_to_dict(self.config)}, [theirs.fileno()])
        except ZygoteLost as exc:
            ours.close()
            await self._zygote_died(str(exc))
            raise HostError(503, "server_error", f"could not start a worker: {exc}") from None
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours, limit=ANSWER_LIMIT)
        handle = WorkerHandle(bundle_id, int(answer["pid"]), reader, writer)
        handle.reader_task = asyncio.create_task(self._read_answers(handle))
        try:
            info = await self._forward(handle, "hydrate", self.config.call_timeout_s + 60,
                                       bundle=self.registry.bundles[bundle_id].model_dump(mode="json"))
            if not isinstance(info, dict) or not isinstance(info.get("image"), bytes):
                raise ProtocolError("a hydrate answer without a database image")
        except ProtocolError as exc:
            await self._remove(handle, f"it answered hydrate with {exc}")
            raise HostError(502, "server_error", f"the {bundle_id} worker misbehaved while loading: {exc}") from None
        except HostError:
            await self._remove(handle, "its bundle failed to load", quiet=True)
            raise
        handle.image = info["image"]
        self.hydrated.add(bundle_id)
        self.seed_failures.setdefault(bundle_id, [str(f)[:500] for f in info.get("seed_failures", [])][:100])
        self.workers.setdefault(bundle_id, []).append(handle)
        log.info("started a worker for %s (%s tools, loaded in %.0f ms)", bundle_id, info.get("tools"), 1000 * float(info.get("seconds", 0)))
        return handle

    async def _read_answers(self, handle: WorkerHandle) -> None:
        reason = "its worker process exited unexpectedly"
        try:
            while (message := await read_frame(handle.reader, ANSWER_LIMIT)) is not None:
                request_id, value = parse_answer(message)
                future = handle.pending.get(request_id)
                if future is None:
                    raise ProtocolError(f"an answer to request {request_id}, which it was not asked")
                if future.done():
                    continue  # its caller gave up (timeout) just before the answer came
                if isinstance(value, Exception):
                    future.set_exception(value)
                else:
                    future.set_result(value)
        except ProtocolError as exc:
            reason = f"its worker sent {exc} and was stopped"
        except ConnectionError:
            pass
        if handle.alive and not self._stopping:
            await self._remove(handle, reason)

    async def _remove(self, handle: WorkerHandle, reason: str, *, quiet: bool = False) -> None:
        """Kill `handle` and mark its sessions lost (a bundle's next session starts a fresh worker)."""
        if not handle.alive:
            return
        if handle.sessions and not quiet:
            log.warning("%s worker (pid %d) stopped: %s; %d session(s) lost", handle.bundle_id, handle.pid, reason, len(handle.sessions))
        handle.fail_pending(reason)
        handle.writer.close()
        for session_id in handle.sessions:  # before any await: no request may reach this worker from now on
            self.sessions.pop(session_id, None)
            self.lost[session_id] = reason
            self.judging.forget(session_id)
        handle.sessions.clear()
        if handle in self.workers.get(handle.bundle_id, []):
            self.workers[handle.bundle_id].remove(handle)
        if self.zygote is not None and not self._stopping:
            try:
                await self.zygote.request({"op": "kill", "pid": handle.pid})
            except ZygoteLost as exc:
                await self._zygote_died(str(exc))

    async def _zygote_died(self, reason: str) -> None:
        if self.zygote is None or self._stopping:
            return
        log.error("the zygote failed (%s); every worker is lost; starting a new one", reason)
        zygote, self.zygote = self.zygote, None
        for handles in list(self.workers.values()):
            for handle in list(handles):
                await self._remove(handle, f"the worker's zygote failed ({reason})")
        await zygote.stop()
        self.zygote = await Zygote.start(self.sandbox)

    async def _watch(self) -> None:
        """Once a second: memory (remove workers past the limit) and idleness (close workers without sessions)."""
        limit = self.config.worker_memory_mb << 20
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if self.zygote is None:
                continue
            try:
                rss = dict((await self.zygote.request({"op": "stats"}))["rss"])
            except ZygoteLost as exc:
                await self._zygote_died(str(exc))
                continue
            now = time.monotonic()
            for handles in list(self.workers.values()):
                for handle in list(handles):
                    handle.rss = int(rss.get(handle.pid, 0))
                    if handle.rss > limit:
                        await self._remove(handle, f"its worker grew to {handle.rss >> 20} MB, past the {self.config.worker_memory_mb} MB limit")
                    elif not handle.sessions and not handle.pending and now - handle.idle_since > self.config.worker_idle_timeout_s:
                        await self._remove(handle, "idle", quiet=True)

    async def shutdown(self) -> None:
        self._stopping = True
        if self._watchdog:
            self._watchdog.cancel()
        for handles in self.workers.values():
            for handle in handles:
                handle.fail_pending("the server is shutting down")
                handle.writer.close()
        if self.zygote is not None:
            await self.zygote.stop()  # its channel closes: it kills its workers and exits
        await self.judging.close()

    # ------------------------------------------------------------------ the session API

    async def create(self, bundle_id: str | None, task_idx: int | None = None, *, owner: str = "rest",
                     record: bool = True) -> dict[str, Any]:
        bundle_id = self.registry.resolve_id(bundle_id)
        if len(self.sessions) >= self.config.max_sessions:
            raise HostError(503, "too_many_sessions",
                            f"the server holds its limit of {self.config.max_sessions} sessions; close some first")
        handle = await self._worker_for(bundle_id)
        session_id = new_session_id()
        handle.sessions.add(session_id)  # counted now, so concurrent creates spread over workers
        try:
            info = await self._forward(handle, "create", self.config.call_timeout_s, bundle_id=bundle_id, task_idx=task_idx,
                                       owner=owner, record=record, session_id=session_id)
        except BaseException:
            handle.sessions.discard(session_id)
            raise
        self.sessions[session_id] = SessionRecord(handle, bundle_id, task_idx)
        return info

    async def preload(self, bundle_id: str) -> None:
        """Start the bundle's first worker now (fail fast at start-up, and no cold first session)."""
        await self._worker_for(bundle_id)

    async def describe(self, session_id: str) -> dict[str, Any]:
        return await self._session_op(session_id, "describe")

    async def tools(self, session_id: str) -> list[dict[str, Any]]:
        return await self._session_op(session_id, "tools")

    async def bundle_info(self, bundle_id: str) -> dict[str, Any]:
        bundle_id = self.registry.resolve_id(bundle_id)
        handle = await self._worker_for(bundle_id, new_session=False)
        return await self._forward(handle, "bundle_info", self.config.call_timeout_s, bundle_id=bundle_id)

    async def call(self, session_id: str, tool: str, arguments: dict[str, Any] | None) -> bytes:
        handle = self._owner_of(session_id)
        try:
            result = await handle.request("call", self.config.call_timeout_s, session_id=session_id, tool=tool, arguments=arguments)
        except asyncio.TimeoutError:
            reason = f"tool call {tool[:100]!r} ran past the {self.config.call_timeout_s:g} s timeout"
            await self._remove(handle, reason)
            raise ToolCallError("server_error", f"{reason}; the worker running it was stopped and this session is lost") from None
        except WorkerLost as exc:
            raise ToolCallError("server_error", f"the session was lost: {exc}") from None
        if not isinstance(result, bytes):
            await self._remove(handle, "it answered a tool call with something other than JSON bytes")
            raise ToolCallError("server_error", "the session was lost: its worker answered out of protocol")
        return result

    async def list_sessions(self) -> list[dict[str, Any]]:
        handles = [h for bundle_handles in self.workers.values() for h in bundle_handles]
        listed = await asyncio.gather(*(self._forward(h, "list_sessions", self.config.call_timeout_s) for h in handles),
                                      return_exceptions=True)
        return [s for sessions in listed if isinstance(sessions, list) for s in sessions if isinstance(s, dict)]  # a lost worker has none

    async def calls(self, session_id: str, since: int = 0, limit: int = 100) -> dict[str, Any]:
        handle = self._owner_of(session_id, touch=False)  # watching a session must not keep it from expiring
        return await self._forward(handle, "calls", self.config.call_timeout_s, session_id=session_id, since=since, limit=limit)

    async def reset(self, session_id: str) -> dict[str, Any]:
        return await self._session_op(session_id, "reset")

    async def snapshot(self, session_id: str) -> bytes:
        return await self._bytes_op(session_id, "snapshot")

    async def verify(self, session_id: str, task_idx: int | None = None, *, mode: str = "code",
                     final_answer: str | None = None, rewards: Mapping[str, float] | None = None) -> dict[str, Any]:
        record = self._record(session_id)
        episode = await self._episode(session_id, with_calls=mode == "sql")
        return await self.judging.verify(self.registry.bundles[record.bundle_id], session_id,
                                         record.task_idx if task_idx is None else task_idx, record.worker.image,
                                         episode["final_image"], episode["trajectory"].get("calls"), mode=mode,
                                         final_answer=final_answer, rewards=rewards)

    async def close(self, session_id: str, *, save: bool = False) -> dict[str, Any]:
        record = self._record(session_id)
        saved_to = None
        if save:
            self.judging.check_can_save()
            episode = await self._episode(session_id)
            saved_to = self.judging.save(session_id, record.bundle_id, record.task_idx, episode["trajectory"],
                                         record.worker.image, episode["final_image"])
        await self._session_op(session_id, "close", self.config.call_timeout_s + 30)
        self._forget(session_id)
        return {"session_id": session_id, "closed": True, "saved_to": saved_to}

    async def expire_idle(self) -> list[str]:
        cutoff = time.monotonic() - self.config.idle_timeout_s
        stale = [sid for sid, record in self.sessions.items() if record.last_used < cutoff]
        for session_id in stale:
            try:
                await self.close(session_id)
            except HostError:
                pass  # lost or closed meanwhile: nothing left to expire
        return stale

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    def hydrated_bundle_ids(self) -> set[str]:
        return set(self.hydrated)

    # ------------------------------------------------------------------ internals

    async def _worker_for(self, bundle_id: str, *, new_session: bool = True) -> WorkerHandle:
        """The bundle's worker for a new session: a new one while it has fewer than --workers, else the least loaded."""
        async with self._forking.setdefault(bundle_id, asyncio.Lock()):
            limit = (self.config.worker_memory_mb << 20) * ADMISSION_FRACTION
            handles = [h for h in self.workers.get(bundle_id, []) if h.alive]
            roomy = [h for h in handles if h.rss < limit]
            if handles and not new_session:
                return min(handles, key=lambda h: len(h.sessions))
            if len(handles) < self.config.workers and (not handles or all(h.sessions for h in handles)):
                return await self._fork(bundle_id)
            if not roomy:
                raise HostError(503, "workers_full", f"every {bundle_id} worker is near its {self.config.worker_memory_mb} MB "
                                "memory limit; close sessions or raise --worker-memory-mb")
            return min(roomy, key=lambda h: len(h.sessions))

    def _record(self, session_id: str, *, touch: bool = True) -> SessionRecord:
        record = self.sessions.get(session_id)
        if record is None:
            if session_id in self.lost:
                raise HostError(410, "session_lost", f"session {session_id[:64]!r} was lost because {self.lost[session_id]}; create a new session")
            raise HostError(404, "unknown_session", f"unknown session {session_id[:64]!r}: it was closed, expired, or never created")
        if touch:
            record.last_used = time.monotonic()
        return record

    def _owner_of(self, session_id: str, *, touch: bool = True) -> WorkerHandle:
        return self._record(session_id, touch=touch).worker

    def _forget(self, session_id: str) -> None:
        record = self.sessions.pop(session_id, None)
        if record is not None:
            record.worker.sessions.discard(session_id)
            if not record.worker.sessions:
                record.worker.idle_since = time.monotonic()
        self.judging.forget(session_id)

    async def _episode(self, session_id: str, with_calls: bool = True) -> dict[str, Any]:
        episode = await self._session_op(session_id, "episode", self.config.call_timeout_s + 30, with_calls=with_calls)
        valid = (isinstance(episode, dict) and isinstance(episode.get("final_image"), bytes)
                 and isinstance(episode.get("trajectory"), dict) and isinstance(episode["trajectory"].get("calls", []), list))
        if not valid:
            await self._remove(self._owner_of(session_id), "it answered with a malformed episode")
            raise HostError(502, "server_error", "the session's worker answered out of protocol and was stopped")
        return episode

    async def _bytes_op(self, session_id: str, op: str) -> bytes:
        value = await self._session_op(session_id, op)
        if not isinstance(value, bytes):
            await self._remove(self._owner_of(session_id), f"it answered {op} with something other than bytes")
            raise HostError(502, "server_error", "the session's worker answered out of protocol and was stopped")
        return value

    async def _session_op(self, session_id: str, op: str, timeout_s: float | None = None, **kwargs: Any) -> Any:
        handle = self._owner_of(session_id)
        return await self._forward(handle, op, timeout_s or self.config.call_timeout_s, session_id=session_id, **kwargs)

    async def _forward(self, handle: WorkerHandle, op: str, timeout_s: float | None, **kwargs: Any) -> Any:
        try:
            return await handle.request(op, timeout_s, **kwargs)
        except asyncio.TimeoutError:
            reason = f"a {op} request ran past its {timeout_s:g} s timeout"
            await self._remove(handle, reason)
            raise HostError(504, "server_error", f"{reason}; the worker was stopped") from None
        except WorkerLost as exc:
            raise HostError(502, "server_error", f"the worker handling this request was lost: {exc}") from None


# What REST and MCP talk to: the in-process engine (--workers 0 --sandbox off) or the pool of worker processes.
SessionBackend = SessionManager | WorkerPool
