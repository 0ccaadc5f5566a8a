"""A warm pool of verifier fork servers, so a verification costs a fork, not a Python start-up.

Each member is one `verifier_child.py` process serving one request at a time; the pool hands requests
to idle members and replaces any member that dies or stops answering, so one bad verifier never takes
the pool down.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from pathlib import Path
from typing import Any

CHILD_SCRIPT = str(Path(__file__).with_name("verifier_child.py"))
DEFAULT_MEMORY_BYTES = 1 << 30
_HEADER = struct.Struct(">I")
_GRACE_S = 5.0  # beyond the verifier's own timeout, before the fork server itself counts as hung


class _ForkServer:
    """One `python -I -B verifier_child.py` process and its framed stdin/stdout channel."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    @classmethod
    async def start(cls) -> _ForkServer:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-B", CHILD_SCRIPT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(proc)

    async def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        data = json.dumps(payload).encode()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(_HEADER.pack(len(data)) + data)
        await self.proc.stdin.drain()
        header = await asyncio.wait_for(self.proc.stdout.readexactly(_HEADER.size), timeout_s)
        body = await self.proc.stdout.readexactly(_HEADER.unpack(header)[0])
        return json.loads(body)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class VerifierPool:
    """Run verifier functions in sandboxed children of `size` warm fork servers."""

    def __init__(self, size: int = 2, *, memory_bytes: int = DEFAULT_MEMORY_BYTES):
        self.size = size
        self.memory_bytes = memory_bytes
        self._idle: asyncio.Queue[_ForkServer] | None = None
        self._members: list[_ForkServer] = []
        self._starting: asyncio.Lock | None = None

    async def _ensure_started(self) -> asyncio.Queue[_ForkServer]:
        if self._idle is None:
            self._starting = self._starting or asyncio.Lock()
            async with self._starting:
                if self._idle is None:
                    idle: asyncio.Queue[_ForkServer] = asyncio.Queue()
                    for _ in range(self.size):
                        member = await _ForkServer.start()
                        self._members.append(member)
                        idle.put_nowait(member)
                    self._idle = idle
        return self._idle

    async def run(self, code: str, function: str, args: list[Any], timeout_s: float) -> dict[str, Any]:
        """{"ok": true, "value"} or {"ok": false, "error_type", "message", "line"?}; never raises for verifier faults."""
        idle = await self._ensure_started()
        member = await idle.get()
        request = {
            "code": code,
            "function": function,
            "args": args,
            "timeout_s": timeout_s,
            "cpu_seconds": max(1, int(timeout_s) + 1),
            "memory_bytes": self.memory_bytes,
        }
        try:
            outcome = await member.request(request, timeout_s + _GRACE_S)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            await member.stop()
            self._members.remove(member)
            member = await _ForkServer.start()
            self._members.append(member)
            outcome = {"ok": False, "error_type": "verifier_crash", "message": f"the verifier fork server failed ({type(exc).__name__}) and was replaced"}
        finally:
            idle.put_nowait(member)
        return outcome

    async def close(self) -> None:
        for member in self._members:
            await member.stop()
        self._members.clear()
        self._idle = None

    async def __aenter__(self) -> VerifierPool:
        await self._ensure_started()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
