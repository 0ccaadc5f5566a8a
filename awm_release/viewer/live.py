"""What the viewer reads from a running awm-serve: its bundles, their seed databases, open sessions and their calls.

The viewer runs in the server's front process and talks to the same session backend REST and MCP use
(in-process engine or worker pool), so it sees exactly what clients see. Environment code never runs in
the viewer: tools come from the backend, and a bundle's seed database is the snapshot of a short-lived
session, taken once per bundle and kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Protocol

from awm_release.bundle import Bundle

VIEWER_OWNER = "viewer"  # sessions the viewer opens for a snapshot; never listed as live sessions
SEED_IMAGES_KEPT = 8


class SessionBackend(Protocol):
    """The part of awm-serve's session API (SessionManager / WorkerPool) the viewer uses."""

    @property
    def registry(self) -> Any: ...  # .bundles: dict[str, Bundle]

    async def bundle_info(self, bundle_id: str) -> dict[str, Any]: ...
    async def create(self, bundle_id: str | None, task_idx: int | None = None, *, owner: str = "rest",
                     record: bool = True) -> dict[str, Any]: ...
    async def snapshot(self, session_id: str) -> bytes: ...
    async def close(self, session_id: str, *, save: bool = False) -> dict[str, Any]: ...
    async def list_sessions(self) -> list[dict[str, Any]]: ...
    async def calls(self, session_id: str, since: int = 0, limit: int = 100) -> dict[str, Any]: ...


class LiveSource:
    def __init__(self, backend: SessionBackend):
        self.backend = backend
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._image_locks: dict[str, asyncio.Lock] = {}

    @property
    def bundles(self) -> dict[str, Bundle]:
        return self.backend.registry.bundles

    async def bundle_info(self, bundle_id: str) -> dict[str, Any]:
        return await self.backend.bundle_info(bundle_id)

    async def seed_image(self, bundle_id: str) -> bytes:
        """The bundle's seed database, as every new session gets it."""
        key = f"{bundle_id}:{self.bundles[bundle_id].sha256}"
        async with self._image_locks.setdefault(key, asyncio.Lock()):
            if key not in self._images:
                session = await self.backend.create(bundle_id, None, owner=VIEWER_OWNER, record=False)
                try:
                    self._images[key] = await self.backend.snapshot(session["session_id"])
                finally:
                    await self.backend.close(session["session_id"])
                while len(self._images) > SEED_IMAGES_KEPT:
                    self._images.popitem(last=False)
            self._images.move_to_end(key)
            return self._images[key]

    async def sessions(self) -> list[dict[str, Any]]:
        listed = await self.backend.list_sessions()
        return sorted((s for s in listed if s.get("owner") != VIEWER_OWNER), key=lambda s: -s.get("created_at", 0))

    async def calls(self, session_id: str, since: int) -> dict[str, Any]:
        return await self.backend.calls(session_id, since)
