"""Everything `awm-serve` can be told, in one place that the front and its workers share."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the judge's client (and key) stay in the front; workers import this module
    from awm_release.sandbox.judge import JudgeConfig


@dataclass(frozen=True)
class ServeConfig:
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_sessions: int = 10_000
    idle_timeout_s: float = 1800.0
    call_timeout_s: float = 30.0
    verifier_timeout_s: float = 30.0
    verifier_pool_size: int = 2
    worker_memory_mb: int = 4096
    strict: bool = False  # refuse a bundle with any problem (failed SQL statements included) instead of quarantining
    max_trajectory_value_bytes: int = 64 << 10  # a recorded argument set or result past this is kept truncated
    max_body_bytes: int = 1 << 20  # REST request bodies past this answer 413
    worker_idle_timeout_s: float = 300.0  # a bundle's worker with no session for this long exits
    sandbox: bool = True
    runs_dir: Path | None = None
    judge: JudgeConfig | None = None
