"""A warm pool of verifier fork servers, so a verification costs a fork, not a Python start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from awm_release.sandbox.fork_servers import ForkServerPool

CHILD_SCRIPT = str(Path(__file__).with_name("verifier_child.py"))
DEFAULT_MEMORY_BYTES = 1 << 30


class VerifierPool:
    """Run verifier functions in sandboxed children of `size` warm `verifier_child.py` fork servers."""

    def __init__(self, size: int = 2, *, memory_bytes: int = DEFAULT_MEMORY_BYTES):
        self.memory_bytes = memory_bytes
        self._servers = ForkServerPool([sys.executable, "-I", "-B", CHILD_SCRIPT], size, grace_s=5.0, label="verifier")

    async def run(self, code: str, function: str, args: list[Any], timeout_s: float) -> dict[str, Any]:
        """{"ok": true, "value"} or {"ok": false, "error_type", "message", "line"?}; never raises for verifier faults."""
        return await self._servers.request({
            "code": code,
            "function": function,
            "args": args,
            "timeout_s": timeout_s,
            "cpu_seconds": max(1, int(timeout_s) + 1),
            "memory_bytes": self.memory_bytes,
        }, timeout_s)

    async def close(self) -> None:
        await self._servers.close()

    async def __aenter__(self) -> VerifierPool:
        await self._servers.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
