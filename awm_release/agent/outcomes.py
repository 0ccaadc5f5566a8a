"""The outcome taxonomy of an episode, from how it stopped and what the verifier said.

- complete: the verifier says the task is done (the only success for pass@k);
- partial: the sql-mode judge says partially completed;
- agent_error: not done, through the agent's own doing (code mode's "others", unless the environment failed);
- environment_error: not done because the environment failed (the judge says so; in code mode, a tool call
  answered environment_error or server_error; or the session was lost with its worker);
- format_error: the episode ended on a turn that could not be executed (unparseable call, unknown meta-tool,
  bad JSON arguments); it takes precedence, as in training, where such a step earns -1;
- verifier_error: the verifier or judge itself failed, so nothing can be said about the agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from awm_release.sandbox.rewards import DEFAULT_REWARDS

OUTCOMES = ("complete", "partial", "agent_error", "environment_error", "format_error", "verifier_error")
SUCCESS = "complete"
ENVIRONMENT_FAILURES = ("environment_error", "server_error")  # tool-call error types that are the environment's fault
_VERDICTS = {"complete": "complete", "partially_completed": "partial", "agent_error": "agent_error",
             "environment_error": "environment_error", "judge_error": "verifier_error"}


def classify(stop_reason: str, verdict: str | None, tool_error_types: Iterable[str]) -> str:
    """The outcome of an episode: how it stopped, the verifier's result (None if not verified), its tool errors."""
    if stop_reason == "format_error":
        return "format_error"
    if stop_reason == "session_lost":
        return "environment_error"
    if verdict == "others":
        return "environment_error" if any(t in ENVIRONMENT_FAILURES for t in tool_error_types) else "agent_error"
    if verdict not in _VERDICTS:
        raise ValueError(f"unexpected verification result {verdict!r}")
    return _VERDICTS[verdict]


def episode_reward(outcome: str, verification: dict[str, Any] | None) -> float:
    """The training reward: -1 for a format error, else the verifier's reward (0 when there was none)."""
    if outcome == "format_error":
        return DEFAULT_REWARDS["format_error"]
    reward = (verification or {}).get("reward")
    return float(reward) if reward is not None else 0.0
