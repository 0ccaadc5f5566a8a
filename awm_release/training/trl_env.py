"""AWM environments for TRL: `GRPOTrainer(environment_factory=..., reward_funcs=...)` over awm-serve sessions.

    from trl import GRPOConfig, GRPOTrainer
    from awm_release.training.trl_env import awm_environment_factory, awm_reward_function

    trainer = GRPOTrainer(model=model, args=GRPOConfig(...), train_dataset=rows,      # `awm train data --format trl`
                          processing_class=tokenizer,
                          environment_factory=awm_environment_factory("http://127.0.0.1:8000"),
                          reward_funcs=awm_reward_function(tokenizer))

TRL makes one `AWMEnvironment` per rollout and exposes its public methods as the model's tools: the paper's two
meta-tools, `list_tools` and `call_tool(tool_name, arguments)`, with the same descriptions as `awm eval` and the
verl recipe use (awm_release.agent.protocol.META_TOOLS). TRL calls `reset(**row)` before each rollout: it opens a
session for the row's `bundle_id` / `task_idx` and returns the tool list, which TRL appends to the task, so
every rollout starts knowing the tools, as the paper's protocol does.

The reward (`awm_reward_function`) is the paper's: -1 when a turn breaks the format (an unparseable call, an
unknown function, bad JSON, no thinking, several calls in one turn), else the session's verification (code mode;
sql mode gives partial credit through the server's judge). A rollout cut off by TRL's completion limit is
verified like any other ending, not punished. The reward closes the session. It logs `awm_complete`,
`awm_format_error` and `awm_turns` with TRL's metrics.

For several groups of environments (e.g. servers of different releases), pass TRL a dict of factories and give
each row an `environment` column naming one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from awm_release.agent.outcomes import classify, episode_reward
from awm_release.agent.protocol import (
    ParsedTurn, check_training_turn, parse_turn, render_call_result, render_tool_list, truncate_observation)
from awm_release.client import DEFAULT_URL, AWMClient, AWMServerError, Session, SessionLost

TOOLS_HEADER = "\n\nThe application's tools (what list_tools returns):\n"


class AWMEnvironment:
    """One rollout's environment: an awm-serve session for the row's task, reached through the meta-tools."""

    def __init__(self, client: AWMClient, *, verify_mode: str = "code", max_tool_result_chars: int = 16_000,
                 tools_in_prompt: bool = True):
        self._client = client
        self._verify_mode = verify_mode
        self._max_chars = max_tool_result_chars
        self._tools_in_prompt = tools_in_prompt
        self._session: Session | None = None
        self._tool_list = ""
        self._tool_errors: list[str] = []
        self._lost: str | None = None
        self.sessions_opened = 0  # for callers that count what their environments did
        self.last_verification: dict[str, Any] | None = None

    def reset(self, bundle_id: str, task_idx: int, **_: Any) -> str | None:
        """Start the rollout: a fresh session for the task (the previous one, if still open, is closed)."""
        self._finish_session()
        self._session = self._client.session(bundle_id, int(task_idx))
        self.sessions_opened += 1
        self._tool_errors, self._lost, self.last_verification = [], None, None
        self._tool_list = render_tool_list(self._session.tools())
        return TOOLS_HEADER + self._tool_list if self._tools_in_prompt else None

    # The tools carry no return annotation: TRL renders each method's JSON schema into the prompt, and without one
    # it is exactly the protocol's META_TOOLS entry, as `awm eval` and the verl recipe show it. Both return str.
    def list_tools(self):  # noqa: ANN201
        """List the application's tools: name, description and the JSON Schema of the arguments of each."""
        return self._tool_list

    def call_tool(self, tool_name: str, arguments: dict):  # noqa: ANN201
        """Call one of the application's tools by name and get its JSON result (or an error).

        Args:
            tool_name: Name of the tool, as list_tools gives it.
            arguments: The tool's arguments as a JSON object (empty for none).
        """
        if self._session is None:
            raise RuntimeError("no session: TRL calls reset(bundle_id=..., task_idx=...) before a rollout")
        try:
            outcome = self._session.call(tool_name, arguments)
        except SessionLost as exc:
            self._lost = str(exc)
            raise
        if not outcome.get("ok"):
            self._tool_errors.append(str((outcome.get("error") or {}).get("type")))
        return truncate_observation(render_call_result(outcome), self._max_chars)

    def _score(self, messages: list[dict[str, Any]], truncated: bool) -> tuple[str, float, int]:
        """The rollout's outcome and reward from its messages; verifies (unless the format failed) and closes."""
        turns = [m for m in messages if m.get("role") == "assistant"]
        stop, final_answer = _stop_reason(turns, truncated)
        if self._lost is not None:
            stop = "session_lost"
        verification = None
        if stop not in ("format_error", "session_lost") and self._session is not None:
            try:
                verification = self._session.verify(mode=self._verify_mode, final_answer=final_answer)
            except SessionLost:
                stop = "session_lost"
        self.last_verification = verification
        self._finish_session()
        outcome = classify(stop, (verification or {}).get("result"), self._tool_errors)
        return outcome, episode_reward(outcome, verification), len(turns)

    def _finish_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except AWMServerError:
                pass  # gone with its worker, or closed by the server's idle timeout: nothing left to free


def _stop_reason(turns: list[dict[str, Any]], truncated: bool) -> tuple[str, str | None]:
    """How the rollout ended (format_error, length, final_answer or max_turns) and its final answer."""
    parsed: ParsedTurn | None = None
    for index, message in enumerate(turns):
        last = index == len(turns) - 1
        parsed = check_training_turn(parse_turn(message, "length" if truncated and last else None, turn_index=index))
        if parsed.format_error is not None:
            return ("length", None) if truncated and last else ("format_error", None)
    if parsed is None or truncated:
        return "length", None
    return ("final_answer", parsed.final_answer) if parsed.final_answer is not None else ("max_turns", None)


def awm_environment_factory(server_url: str = DEFAULT_URL, **options: Any) -> Callable[[], AWMEnvironment]:
    """TRL's `environment_factory`: AWMEnvironments on the awm-serve at `server_url`, sharing one HTTP client.

    `options` are AWMEnvironment's: verify_mode ("code" or "sql"), max_tool_result_chars, tools_in_prompt.
    """
    client = AWMClient(server_url)
    client.health()  # fail now, with the reason, rather than in the first rollout
    return functools.partial(AWMEnvironment, client, **options)


def awm_reward_function(tokenizer: Any) -> Callable[..., list[float]]:
    """TRL's reward function for AWMEnvironment rollouts (`tokenizer` tells a cut-off completion by its last token)."""
    end_ids = {tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    end_ids = {i for i in end_ids if isinstance(i, int) and i != tokenizer.unk_token_id}

    def awm_reward(completions: list[list[dict[str, Any]]], environments: list[AWMEnvironment],
                   completion_ids: list[list[int]], log_metric: Callable[[str, float], None] | None = None,
                   **_: Any) -> list[float]:
        scored = [env._score(messages, bool(ids) and ids[-1] not in end_ids)
                  for messages, env, ids in zip(completions, environments, completion_ids, strict=True)]
        if log_metric is not None and scored:
            log_metric("awm_complete", sum(outcome == "complete" for outcome, _, _ in scored) / len(scored))
            log_metric("awm_format_error", sum(outcome == "format_error" for outcome, _, _ in scored) / len(scored))
            log_metric("awm_turns", sum(turns for _, _, turns in scored) / len(scored))
        return [reward for _, reward, _ in scored]

    return awm_reward
