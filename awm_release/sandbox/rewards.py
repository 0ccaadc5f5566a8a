"""Outcome -> reward, with the paper's values as defaults and per-request overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping

# AWM paper: complete 1.0, partially completed 0.1, everything else 0.0, and -1.0 for a step-level
# format error (an unparseable or invalid tool call ends the rollout).
DEFAULT_REWARDS: dict[str, float] = {
    "complete": 1.0,
    "partially_completed": 0.1,
    "others": 0.0,
    "agent_error": 0.0,
    "environment_error": 0.0,
    "judge_error": 0.0,
    "format_error": -1.0,
}


def reward_table(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default table with `overrides` applied; unknown outcomes and non-numbers are refused by name."""
    table = dict(DEFAULT_REWARDS)
    for outcome, value in (overrides or {}).items():
        if outcome not in DEFAULT_REWARDS:
            raise ValueError(f"unknown outcome {outcome[:80]!r} in rewards; known: {', '.join(DEFAULT_REWARDS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"reward for {outcome!r} must be a finite number, got {str(value)[:40]}")
        table[outcome] = float(value)
    return table
