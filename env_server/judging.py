"""Rewards and run folders, in the trusted front only: no bundle code runs here or can reach here.

Workers hand the front data (the session's final database image and its recorded calls); the verifier runs in
the sandboxed verifier pool and sends back data; this module turns that into an outcome and a reward, asks the
LLM judge in sql mode (the judge's key never leaves the front), keeps each session's verifications, and writes
run folders.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from awm_release.bundle import Bundle
from awm_release.runs import write_run_folder
from awm_release.sandbox.judge import Judge
from awm_release.sandbox.launch import Sandbox
from awm_release.sandbox.verification import VerifierUnavailable, verify
from awm_release.sandbox.verifier_pool import VerifierPool
from env_server.config import ServeConfig
from env_server.errors import HostError


class Judging:
    def __init__(self, config: ServeConfig, sandbox: Sandbox):
        self.config = config
        self.pool = VerifierPool(size=config.verifier_pool_size, sandbox=sandbox)
        self.judge = Judge(config.judge) if config.judge else None
        self.records: dict[str, list[dict[str, Any]]] = {}  # session_id -> its verifications

    async def verify(self, bundle: Bundle, session_id: str, task_idx: int | None, initial_image: bytes,
                     final_image: bytes, calls: list[dict[str, Any]] | None, *, mode: str, final_answer: str | None,
                     rewards: Mapping[str, float] | None) -> dict[str, Any]:
        if task_idx is None:
            raise HostError(400, "task_required", "this session was created without a task; pass task_idx to verify")
        problem = bundle.verifier_problem(task_idx, "code" if mode == "code" else "sql")
        if problem is not None:  # quarantined: the rest of the bundle serves, this verifier cannot run
            raise HostError(400, "no_verifier", f"{bundle.bundle_id} task {task_idx}: its {mode}-mode verifier cannot run ({problem})")
        try:
            result = await verify(bundle, task_idx, initial_image, final_image, mode=mode, final_answer=final_answer,
                                  timeout_s=self.config.verifier_timeout_s, pool=self.pool, judge=self.judge,
                                  calls=calls, rewards=rewards)
        except VerifierUnavailable as exc:
            raise HostError(400, "no_verifier", str(exc)) from None
        except ValueError as exc:
            raise HostError(400, "bad_verify_request", str(exc)) from None
        self.records.setdefault(session_id, []).append({**result.to_json(), "final_answer": final_answer})
        return result.to_json()

    def check_can_save(self) -> None:
        if self.config.runs_dir is None:
            raise HostError(400, "no_runs_dir", "this server keeps no runs: start awm-serve with --runs-dir DIR to save sessions")

    def save(self, session_id: str, bundle_id: str, task_idx: int | None, trajectory: dict[str, Any],
             initial_image: bytes, final_image: bytes) -> str:
        """Write the session's run folder under --runs-dir (the front writes it; workers never touch the disk).

        The folder's name comes from the front's own record of the session, never from what a worker sent."""
        self.check_can_save()
        assert self.config.runs_dir is not None
        destination = Path(self.config.runs_dir) / bundle_id / f"task_{task_idx}" / session_id
        return str(write_run_folder(destination, trajectory, initial_image, final_image, self.records.get(session_id, [])))

    def forget(self, session_id: str) -> None:
        self.records.pop(session_id, None)

    async def close(self) -> None:
        await self.pool.close()
