"""The env stage's check, run by a pool of probe fork servers (awm_release.synthesis.probe) beside the pipeline.

Checks run in other processes, so they use the other cores while the pipeline talks to the model, and
generated code never runs in the pipeline's process: each server runs in its own OS sandbox
(awm_release.sandbox.launch), and each check in a confined child of it. The servers start when the pool is created and import
their libraries in the background; a server that dies or stops answering is replaced.
"""

from __future__ import annotations

import sys

from awm_release.bundle import Bundle
from awm_release.synthesis.validation import Check, accept, reject
from awm_release.sandbox.fork_servers import ForkServerPool
from awm_release.sandbox.launch import Sandbox
from awm_release.sandbox.seccomp import untrusted_filter

_GRACE_S = 30.0  # beyond a check's own deadline, before its server counts as hung (covers the server's start-up)


class EnvironmentChecker:
    """`await checker.check(bundle, code, seed_image, ...)` -> Check; at most `size` checks at once."""

    def __init__(self, size: int, sandbox: Sandbox | None = None):
        sandbox = sandbox or Sandbox()
        command = [sys.executable, "-I", "-B", "-m", "awm_release.synthesis.probe", untrusted_filter().hex() if sandbox.enabled else ""]
        self._servers = ForkServerPool(command, size, grace_s=_GRACE_S, label="check", sandbox=sandbox)

    async def start(self) -> None:
        await self._servers.start()

    async def check(self, bundle: Bundle, code: str, seed_image: bytes, *, deadline_s: float, call_timeout_s: float) -> Check:
        request = {"bundle": bundle.model_dump(mode="json", include={"bundle_id", "display_name", "api_spec"}), "code": code,
                   "seed_image": seed_image, "timeout_s": deadline_s, "call_timeout_s": call_timeout_s}
        return _as_check(await self._servers.request(request, deadline_s), code, deadline_s)

    async def close(self) -> None:
        await self._servers.close()


def _as_check(outcome: dict, code: str, deadline_s: float) -> Check:
    if outcome.get("ok"):
        verdict = outcome["value"]
        if verdict["ok"]:
            return accept(code, verdict["notes"])
        return reject(verdict["cause"], verdict["message"], verdict["score"])
    kind = outcome.get("error_type", "")
    if kind == "check_timeout":
        return reject("probe_timeout", f"loading the code and probing its tools took longer than {deadline_s:g} s (a loop at "
                      "import time, a blocking call such as uvicorn.run outside the __main__ block, or a hanging handler)")
    return reject("probe_crash", f"the process checking the code died: {kind}: {outcome.get('message', '')}")
