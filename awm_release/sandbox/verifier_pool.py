"""A warm pool of sandboxed verifier fork servers, so a verification costs a fork, not a Python start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from awm_release.sandbox.fork_servers import ForkServerPool
from awm_release.sandbox.launch import Sandbox
from awm_release.sandbox.seccomp import untrusted_filter

CHILD_SCRIPT = str(Path(__file__).with_name("verifier_child.py"))
DEFAULT_MEMORY_BYTES = 1 << 30


class VerifierPool:
    """Run verifier functions in confined children of `size` warm fork servers, each in its own sandbox."""

    def __init__(self, size: int = 2, *, memory_bytes: int = DEFAULT_MEMORY_BYTES, sandbox: Sandbox | None = None):
        self.memory_bytes = memory_bytes
        sandbox = sandbox or Sandbox()
        command = [sys.executable, "-I", "-B", CHILD_SCRIPT, untrusted_filter().hex() if sandbox.enabled else ""]
        self._servers = ForkServerPool(command, size, grace_s=5.0, label="verifier", sandbox=sandbox)

    async def run(self, code: str, function: str, initial_image: bytes, final_image: bytes, extra_args: list[Any],
                  timeout_s: float) -> dict[str, Any]:
        """{"ok": true, "value"} or {"ok": false, "error_type", "message", "line"?}; never raises for verifier faults.

        The verifier is called as `function(initial_db_path, final_db_path, *extra_args)` on copies of the images."""
        return await self._servers.request({
            "code": code,
            "function": function,
            "initial_image": initial_image,
            "final_image": final_image,
            "extra_args": extra_args,
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
