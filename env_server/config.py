"""Everything `awm-serve` can be told, in one place that the front and its workers share."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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
    allow_seed_errors: bool = False
    runs_dir: Path | None = None
    judge: JudgeConfig | None = None
