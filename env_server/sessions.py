"""Bundles hydrated once per process, and sessions that each own a private in-memory copy of the database."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from awm_release.bundle import Bundle
from awm_release.database import HydrationError, HydrationReport, build_template_image, open_image
from awm_release.verification import Verification, VerifierUnavailable, verify
from env_server.errors import EnvironmentLoadError, HostError
from env_server.runtime import Environment, load_environment

log = logging.getLogger("awm.serve")


@dataclass
class HydratedBundle:
    """Everything a session needs, built once: the template image and the loaded environment code."""

    bundle: Bundle
    environment: Environment
    image: bytes
    report: HydrationReport
    load_seconds: float


class BundleRegistry:
    """The bundles this server serves, hydrated on first use."""

    def __init__(self, bundles: dict[str, Bundle], *, allow_seed_errors: bool = False):
        self.bundles = bundles
        self.allow_seed_errors = allow_seed_errors
        self._hydrated: dict[str, HydratedBundle] = {}

    @property
    def default_bundle_id(self) -> str | None:
        """The bundle a request may omit when the server serves exactly one."""
        return next(iter(self.bundles)) if len(self.bundles) == 1 else None

    def resolve_id(self, bundle_id: str | None) -> str:
        if bundle_id is None:
            if self.default_bundle_id is None:
                raise HostError(400, "bundle_required", f"this server serves several bundles; name one of: {', '.join(self.bundles)}")
            return self.default_bundle_id
        if bundle_id not in self.bundles:
            served = ", ".join(self.bundles) or "(none)"
            raise HostError(404, "unknown_bundle", f"unknown bundle {bundle_id!r}; this server serves: {served}")
        return bundle_id

    def hydrate(self, bundle_id: str) -> HydratedBundle:
        """Build (once) the template database and load the code; errors name the bundle and the statement or line."""
        hydrated = self._hydrated.get(bundle_id)
        if hydrated is None:
            bundle = self.bundles[bundle_id]
            started = time.perf_counter()
            try:
                image, report = build_template_image(bundle, allow_seed_errors=self.allow_seed_errors)
                environment = load_environment(bundle)
            except (HydrationError, EnvironmentLoadError) as exc:  # the bundle, not the request, is broken
                raise HostError(500, "bundle_load_failed", str(exc)) from None
            for failure in report.failures:
                log.warning("bundle %s: seed statement skipped: %s", bundle_id, failure)
            hydrated = HydratedBundle(bundle, environment, image, report, time.perf_counter() - started)
            self._hydrated[bundle_id] = hydrated
            log.info("hydrated %s in %.0f ms (%d tools, %d rows)", bundle_id, hydrated.load_seconds * 1000,
                     len(environment.tools), report.rows_inserted)
        return hydrated

    def is_hydrated(self, bundle_id: str) -> bool:
        return bundle_id in self._hydrated


@dataclass
class EnvSession:
    """One isolated environment instance: its own database, reset in microseconds from the template."""

    session_id: str
    hydrated: HydratedBundle
    task_idx: int | None
    owner: str  # "rest" or "mcp:<mcp-session-id>"
    conn: Any = field(init=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    created_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    calls: int = 0

    def __post_init__(self) -> None:
        self.conn = open_image(self.hydrated.image)

    @property
    def bundle(self) -> Bundle:
        return self.hydrated.bundle

    def describe(self) -> dict[str, Any]:
        task = self.bundle.tasks[self.task_idx] if self.task_idx is not None else None
        return {
            "session_id": self.session_id,
            "bundle_id": self.bundle.bundle_id,
            "task_idx": self.task_idx,
            "task": task,
            "calls": self.calls,
            "created_at": self.created_at,
        }

    def reset(self) -> None:
        self.conn.deserialize(self.hydrated.image)
        self.calls = 0

    def snapshot(self) -> bytes:
        return self.conn.serialize()

    def close(self) -> None:
        self.conn.close()


class SessionManager:
    """Creates, finds, expires and closes sessions; every operation on one session is serialized."""

    def __init__(self, registry: BundleRegistry, *, max_sessions: int = 10_000, idle_timeout_s: float = 1800.0,
                 verifier_timeout_s: float = 30.0):
        self.registry = registry
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.verifier_timeout_s = verifier_timeout_s
        self.sessions: dict[str, EnvSession] = {}

    def create(self, bundle_id: str | None, task_idx: int | None = None, *, owner: str = "rest") -> EnvSession:
        bundle_id = self.registry.resolve_id(bundle_id)
        if len(self.sessions) >= self.max_sessions:
            raise HostError(503, "too_many_sessions", f"the server holds its limit of {self.max_sessions} sessions; close some first")
        hydrated = self.registry.hydrate(bundle_id)
        tasks = hydrated.bundle.tasks
        if task_idx is not None and not 0 <= task_idx < len(tasks):
            raise HostError(400, "unknown_task", f"{bundle_id} has tasks 0-{len(tasks) - 1}; got task_idx={task_idx}")
        session = EnvSession(secrets.token_hex(12), hydrated, task_idx, owner)
        self.sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> EnvSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise HostError(404, "unknown_session", f"unknown session {session_id!r}: it was closed, expired, or never created")
        session.last_used = time.monotonic()
        return session

    def close(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is None:
            raise HostError(404, "unknown_session", f"unknown session {session_id!r}: it was closed, expired, or never created")
        session.close()

    async def call(self, session: EnvSession, tool: str, arguments: dict[str, Any] | None) -> Any:
        async with session.lock:
            session.calls += 1
            return await session.hydrated.environment.call(session.conn, tool, arguments)

    async def reset(self, session: EnvSession) -> None:
        async with session.lock:
            session.reset()

    async def verify(self, session: EnvSession, task_idx: int | None, *, mode: str = "code",
                     final_answer: str | None = None) -> Verification:
        task_idx = session.task_idx if task_idx is None else task_idx
        if task_idx is None:
            raise HostError(400, "task_required", "this session was created without a task; pass task_idx to verify")
        async with session.lock:
            final_image = session.snapshot()
        try:
            return await verify(session.bundle, task_idx, session.hydrated.image, final_image, mode=mode,
                                final_answer=final_answer, timeout_s=self.verifier_timeout_s)
        except (VerifierUnavailable, ValueError) as exc:
            raise HostError(400, "no_verifier", str(exc)) from None

    def expire_idle(self) -> list[str]:
        """Close sessions unused for longer than the idle timeout; returns their ids."""
        cutoff = time.monotonic() - self.idle_timeout_s
        stale = [sid for sid, s in self.sessions.items() if s.last_used < cutoff]
        for sid in stale:
            self.sessions.pop(sid).close()
        return stale
