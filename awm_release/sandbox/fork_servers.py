"""Pools of warm, sandboxed fork servers (forking.py inside): each answers framed requests, each run in a forked child.

Used for everything generated code must not run beside: verifiers (verifier_child.py) and the synthesis
pipeline's environment checks (awm_release.synthesis.probe). A member serves one request at a time. Every
request carries an id and its answer must carry the same one; a member whose answer is malformed or carries
another id, that dies, stops answering, or is abandoned mid-request by a cancelled caller is killed and
replaced, and only that request fails, so one bad request never takes the pool down or hands a stale answer
to the next caller.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from awm_release.sandbox.frames import ProtocolError, encode, read_frame
from awm_release.sandbox.launch import Sandbox

ANSWER_LIMIT = 16 << 20
STOP_GRACE_S = 5.0
log = logging.getLogger("awm.sandbox")


class _ForkServer:
    """One fork-server process (in its own sandbox) and its framed stdin/stdout channel."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    @classmethod
    async def start(cls, sandbox: Sandbox, command: list[str]) -> _ForkServer:
        proc = await sandbox.spawn(command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                   stderr=asyncio.subprocess.DEVNULL)
        return cls(proc)

    async def request(self, request_id: int, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(encode({**payload, "id": request_id}))
        await self.proc.stdin.drain()
        answer = await asyncio.wait_for(read_frame(self.proc.stdout, ANSWER_LIMIT), timeout_s)
        if answer is None:
            raise ProtocolError("the server closed its channel")
        if not isinstance(answer, dict) or answer.get("id") != request_id or not isinstance(answer.get("ok"), bool):
            raise ProtocolError(f"an answer that is not for request {request_id}")
        return answer

    async def stop(self) -> None:
        """End of input first: the server exits, and its sandbox (pid namespace, children) with it. Killing only
        bubblewrap's monitor is the fallback: in the first moments after start its sandbox may not yet be bound to
        the monitor's life, and would then hold our pipes open."""
        if self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_GRACE_S)
        except asyncio.TimeoutError:
            self.proc.kill()
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE_S)
            except asyncio.TimeoutError:
                log.warning("a sandboxed server (pid %d) did not stop; giving up on it", self.proc.pid)


class ForkServerPool:
    """`size` fork servers started by `command` in `sandbox`; `await pool.request(payload, deadline_s)` -> the answer."""

    def __init__(self, command: list[str], size: int, *, grace_s: float, label: str, sandbox: Sandbox):
        self.command = command
        self.size = size
        self.grace_s = grace_s  # beyond the request's own deadline, before a server counts as hung
        self.label = label
        self.sandbox = sandbox
        self._ids = itertools.count(1)
        self._idle: asyncio.Queue[_ForkServer] | None = None
        self._members: list[_ForkServer] = []
        self._starting: asyncio.Lock | None = None

    async def start(self) -> None:
        if self._idle is not None:
            return
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._idle is None:
                idle: asyncio.Queue[_ForkServer] = asyncio.Queue()
                for member in await asyncio.gather(*(_ForkServer.start(self.sandbox, self.command) for _ in range(self.size))):
                    self._members.append(member)
                    idle.put_nowait(member)
                self._idle = idle

    async def request(self, payload: dict[str, Any], deadline_s: float) -> dict[str, Any]:
        """The member's answer, or {"ok": false, "error_type": "<label>_server_failed", ...} if it failed."""
        await self.start()
        assert self._idle is not None
        member = await self._idle.get()
        try:
            outcome = await member.request(next(self._ids), payload, deadline_s + self.grace_s)
            outcome.pop("id")
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            member = await self._replace(member)
            outcome = {"ok": False, "error_type": f"{self.label}_server_failed",
                       "message": f"the {self.label} server failed ({type(exc).__name__}: {exc}) and was replaced"}
        except BaseException:  # cancelled while its answer is on the way: it cannot take another request
            member = await asyncio.shield(self._replace(member))
            raise
        finally:
            self._idle.put_nowait(member)
        return outcome

    async def _replace(self, member: _ForkServer) -> _ForkServer:
        await member.stop()
        self._members.remove(member)
        fresh = await _ForkServer.start(self.sandbox, self.command)
        self._members.append(fresh)
        return fresh

    async def close(self) -> None:
        await asyncio.gather(*(member.stop() for member in self._members))
        self._members.clear()
        self._idle = None

    async def __aenter__(self) -> ForkServerPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
