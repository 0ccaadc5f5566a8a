"""One agent-loop worker's link to awm-serve, shared by all the rollouts it runs at once.

verl builds a new agent loop per rollout, and a worker runs hundreds of them concurrently, so what must be
shared lives here, one per (server, event loop): the HTTP client, the throttle on session creation, and each
bundle's tool list (identical for every session of a bundle, so it is fetched once and the first prompt can be
built before the rollout's session exists). `open_session` starts creating the session at once and returns a
task: creation overlaps the first generation, and the rollout waits for it only at its first tool call.
"""

from __future__ import annotations

import asyncio
import contextlib

from awm_release.agent.protocol import render_tool_list
from awm_release.client import AsyncAWMClient, AsyncSession

_LINKS: dict[tuple[str, int], "EnvLink"] = {}


class EnvLink:
    """Sessions on one awm-serve, their creation throttled, and each bundle's tool list cached."""

    def __init__(self, url: str, session_concurrency: int):
        self.url = url
        self.client = AsyncAWMClient(url)
        self._creating = asyncio.Semaphore(session_concurrency)
        self._tool_lists: dict[str, asyncio.Task[str]] = {}

    async def tool_list(self, bundle_id: str) -> str:
        """The bundle's `list_tools` observation, fetched once per bundle (a failed fetch is retried next time)."""
        task = self._tool_lists.get(bundle_id)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._tool_lists[bundle_id] = asyncio.ensure_future(self._fetch_tool_list(bundle_id))
        return await asyncio.shield(task)

    async def _fetch_tool_list(self, bundle_id: str) -> str:
        return render_tool_list((await self.client.bundle(bundle_id))["tools"])

    def open_session(self, bundle_id: str, task_idx: int) -> asyncio.Task[AsyncSession]:
        """Start creating a session now (at most `session_concurrency` creations in flight); the task gives it."""
        return asyncio.ensure_future(self._create(bundle_id, task_idx))

    async def _create(self, bundle_id: str, task_idx: int) -> AsyncSession:
        async with self._creating:
            return await self.client.session(bundle_id, task_idx)

    async def release(self, session: asyncio.Task[AsyncSession]) -> None:
        """Close the session whatever happened to the rollout, even if the rollout itself is being cancelled."""
        await asyncio.shield(asyncio.ensure_future(self._close(session)))

    async def _close(self, session: asyncio.Task[AsyncSession]) -> None:
        try:
            opened = await session  # a creation still in flight is waited for, then closed
        except Exception:  # noqa: BLE001 - the creation failed: there is nothing to close, and the rollout saw why
            return
        with contextlib.suppress(Exception):  # the session may already be gone with its worker: nothing to free
            await opened.close()


def env_link(url: str, session_concurrency: int) -> EnvLink:
    """The link to `url` for the running event loop (httpx clients cannot cross event loops)."""
    key = (url, id(asyncio.get_running_loop()))
    link = _LINKS.get(key)
    if link is None:
        link = _LINKS[key] = EnvLink(url, session_concurrency)
    return link
