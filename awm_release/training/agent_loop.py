"""The AWM agent loop for verl 0.9: rollouts that work on an awm-serve session through two meta-tools.

Per rollout: the task's session is created on the node's awm-serve (throttled, and overlapping the first
generation), the model sees the system prompt, the task and the opening `list_tools` exchange, and takes up to
`max_assistant_turns` turns. A turn must think (a non-empty `<think>` block) and then either make exactly one
`<tool_call>` of `list_tools` or `call_tool`, or answer without a call (the rollout's end). A turn that breaks
this (unparseable call, unknown function, bad JSON, no thinking, several calls) is a format error: the rollout
stops with reward -1. Otherwise the outcome reward is the session's verification (code mode, or sql mode with
the server's judge). The session is closed whatever happens.

History-aware training (`history_window` w > 0, the paper's w=3): each turn's prompt is the system prompt, the
task, the `list_tools` exchange and the last w turns, rendered afresh; the rollout returns one training sample
per turn (that turn's prompt, and its generated tokens as the response), all with the outcome reward. verl's
TransferQueue trainer (`trainer.use_v1=true`, the default) stores them under the rollout's GRPO uid. With
w = "all" (or 0) the rollout is one sample: the growing conversation as continuous tokens, tool results masked
out of the loss (`response_mask` 0), as in plain multi-turn training.

All turns of a rollout go to the LLM server under one request id, as verl's own tool agent loop does, so they
stay on one replica and reuse its prefix cache. A tool result longer than `max_tool_result_chars` is cut with a
marker saying so (a 3-turn window of huge results would otherwise overflow the prompt and end the rollout).

Prompts, parsing and outcomes are `awm_release.agent`'s, so training and `awm eval` score a turn alike. Settings
are `awm_release.training.settings.AWMSettings`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from omegaconf import OmegaConf
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
from verl.workers.rollout.replica import TokenOutput

from awm_release.agent.outcomes import classify, episode_reward
from awm_release.agent.protocol import (
    CALL_TOOL, META_TOOLS, Conversation, MetaCall, check_training_turn, parse_turn, render_call_result, tool_message,
    truncate_observation)
from awm_release.client import AsyncSession, SessionLost
from awm_release.training import AGENT_NAME
from awm_release.training.env_link import EnvLink, env_link
from awm_release.training.settings import AWMSettings


@dataclass
class TurnSample:
    """One generation: the prompt it saw and the tokens it produced (a training sample in windowed mode)."""

    prompt_ids: list[int]
    response_ids: list[int]
    logprobs: list[float] | None
    extra_fields: dict[str, Any]


@dataclass
class Rollout:
    """What one rollout did; its per-turn samples (windowed) or its continuous token stream (plain)."""

    bundle_id: str
    task_idx: int
    request_id: str = field(default_factory=lambda: uuid4().hex)  # one per rollout: its turns stay on one replica
    stop_reason: str = "max_turns"  # final_answer | format_error | max_turns | length | session_lost
    final_answer: str | None = None
    stop_detail: str | None = None  # the format error, or why the session was lost
    turns: int = 0
    tool_error_types: list[str] = field(default_factory=list)
    samples: list[TurnSample] = field(default_factory=list)
    initial_ids: list[int] = field(default_factory=list)  # plain mode: the first prompt
    runtime_ids: list[int] = field(default_factory=list)  # plain mode: prompt + everything since
    response_mask: list[int] = field(default_factory=list)
    response_logprobs: list[float] = field(default_factory=list)
    last_extra_fields: dict[str, Any] = field(default_factory=dict)  # plain mode: the latest generation's metadata
    generate_s: float = 0.0
    tools_s: float = 0.0


@register(AGENT_NAME)
class AWMAgentLoop(AgentLoopBase):
    """verl agent loop over awm-serve sessions; see the module docstring for the protocol and rewards."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.pop("tools", None)  # verl's function tools: this loop's only tools are the two meta-tools
        kwargs.pop("name", None)  # the registry entry's own name, passed along by hydra
        # The registry YAML's settings arrive as keyword arguments; the trainer config's `awm` section overrides them.
        defaults = {key: kwargs.pop(key) for key in AWMSettings.__dataclass_fields__ if key in kwargs}
        super().__init__(*args, **kwargs)
        overrides = self.config.get("awm") if hasattr(self.config, "get") else None
        self.settings = AWMSettings.resolve(defaults, dict(overrides) if overrides else None)
        if self.settings.history_window and not OmegaConf.select(self.config, "trainer.use_v1", default=True):
            raise ValueError(f"awm.history_window={self.settings.history_window} gives one training sample per turn, "
                             "which only verl's v1 trainer stores: set trainer.use_v1=true, or awm.history_window=all")
        self.max_turns = int(self.rollout_config.multi_turn.max_assistant_turns or 20)
        self.prompt_length = int(self.rollout_config.prompt_length)
        self.response_length = int(self.rollout_config.response_length)
        end_ids = {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>")}
        self._end_ids = {i for i in end_ids if isinstance(i, int) and i != self.tokenizer.unk_token_id}

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput | list[AgentLoopOutput]:
        extra_info = kwargs.get("extra_info") or {}
        try:
            bundle_id, task_idx = str(extra_info["bundle_id"]), int(extra_info["task_idx"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"row {kwargs.get('index')}: extra_info needs bundle_id and task_idx (got {extra_info!r}); "
                             "make the parquet with `awm train data`") from None
        system, user = _system_and_task(list(kwargs["raw_prompt"]))
        link = env_link(await self._server_url(), self.settings.session_concurrency)
        conversation = Conversation(task=user, system_prompt=system)
        conversation.add_list_tools_exchange(await link.tool_list(bundle_id))
        rollout = Rollout(bundle_id, task_idx)
        session = link.open_session(bundle_id, task_idx)
        try:
            await self._roll(rollout, conversation, link, session, sampling_params)
            reward, info = await self._score(rollout, session)
        finally:
            await link.release(session)
        return self._outputs(rollout, reward, info)

    async def _server_url(self) -> str:
        if self.settings.env_server_url:
            return self.settings.env_server_url.rstrip("/")
        from awm_release.training.env_fleet import node_server_url  # noqa: PLC0415 - Ray only when the fleet is used

        return await node_server_url(self.settings)

    @property
    def plain(self) -> bool:
        return self.settings.plain

    async def _roll(self, rollout: Rollout, conversation: Conversation, link: EnvLink, session: asyncio.Task[AsyncSession],
                    sampling_params: dict[str, Any]) -> None:
        """Take turns until an answer, a format error, the turn limit, the length limit or a lost session."""
        if self.plain:
            rollout.initial_ids = await self._render(conversation.all_messages())
            rollout.runtime_ids = list(rollout.initial_ids)
        for turn_index in range(self.max_turns):
            if self.plain:
                prompt_ids, budget = rollout.runtime_ids, self.response_length - len(rollout.response_mask)
                too_long = len(rollout.initial_ids) > self.prompt_length
            else:
                prompt_ids, budget = await self._render(conversation.messages(self.settings.history_window)), self.response_length
                too_long = len(prompt_ids) > self.prompt_length
            if budget <= 0 or too_long:
                rollout.stop_reason = "length"
                return
            output = await self._generate(rollout, prompt_ids, sampling_params, budget)
            rollout.turns += 1
            if len(output.token_ids) >= budget and not set(output.token_ids[-1:]) & self._end_ids:
                rollout.stop_reason = "length"  # cut off mid-turn: nothing to execute, the outcome still counts
                return
            parsed = check_training_turn(parse_turn({"content": self.tokenizer.decode(output.token_ids, skip_special_tokens=True)},
                                            turn_index=turn_index))
            if parsed.format_error is not None:
                rollout.stop_reason, rollout.stop_detail = "format_error", parsed.format_error
                return
            if parsed.final_answer is not None:
                rollout.stop_reason, rollout.final_answer = "final_answer", parsed.final_answer
                return
            started = time.perf_counter()
            try:
                observation = await self._execute(parsed.calls[0], rollout, link, session)
            except SessionLost as exc:
                rollout.stop_reason, rollout.stop_detail = "session_lost", str(exc)
                return
            finally:
                rollout.tools_s += time.perf_counter() - started
            assistant = parsed.assistant_message()
            before = conversation.all_messages() + [assistant] if self.plain else []
            conversation.add_turn([assistant, tool_message(parsed.calls[0].call_id, observation)])
            if self.plain and not await self._append_context(rollout, before, conversation.all_messages()):
                rollout.stop_reason = "length"
                return

    async def _render(self, messages: list[dict[str, Any]]) -> list[int]:
        """The prompt tokens for `messages` with the meta-tools, uncapped (verl's helper would cut the head off)."""
        return await self.loop.run_in_executor(
            None, lambda: self.continuous_token_builder.build_initial_tokens(messages, tools=META_TOOLS))

    async def _generate(self, rollout: Rollout, prompt_ids: list[int], sampling_params: dict[str, Any],
                        budget: int) -> TokenOutput:
        started = time.perf_counter()
        output: TokenOutput = await self.server_manager.generate(
            request_id=rollout.request_id, prompt_ids=prompt_ids, sampling_params={**sampling_params, "max_tokens": budget})
        rollout.generate_s += time.perf_counter() - started
        logprobs = list(output.log_probs) if output.log_probs else None
        if not self.plain:
            rollout.samples.append(TurnSample(list(prompt_ids), list(output.token_ids), logprobs, dict(output.extra_fields)))
            return output
        merged, mask, merged_logprobs = await self.ct_merge_assistant_token(
            rollout.runtime_ids, output.token_ids, rollout.response_mask,
            rollout.response_logprobs if (rollout.response_logprobs or logprobs) else None, assistant_logprobs=logprobs)
        rollout.runtime_ids, rollout.response_mask = merged.token_ids, mask
        rollout.response_logprobs = list(merged_logprobs or [])
        rollout.last_extra_fields = dict(output.extra_fields)
        return output

    async def _append_context(self, rollout: Rollout, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
        """Plain mode: append the tool result (and the next generation prompt) as masked tokens; False if too long."""
        merged, mask, logprobs = await self.ct_merge_context_msg(
            before, after, rollout.runtime_ids, rollout.response_mask,
            rollout.response_logprobs if rollout.response_logprobs else None, tools=META_TOOLS)
        if len(mask) >= self.response_length:
            return False
        rollout.runtime_ids, rollout.response_mask = merged.token_ids, mask
        if rollout.response_logprobs:
            rollout.response_logprobs = list(logprobs or [])
        return True

    async def _execute(self, call: MetaCall, rollout: Rollout, link: EnvLink, session: asyncio.Task[AsyncSession]) -> str:
        """The observation of one meta-call: the tool list, or the tool's result or error (cut to the set length)."""
        if call.name != CALL_TOOL:
            return await link.tool_list(rollout.bundle_id)
        outcome = await (await session).call(call.tool_name or "", call.arguments)
        if not outcome.get("ok"):
            rollout.tool_error_types.append(str((outcome.get("error") or {}).get("type")))
        return truncate_observation(render_call_result(outcome), self.settings.max_tool_result_chars)

    async def _score(self, rollout: Rollout, session: asyncio.Task[AsyncSession]) -> tuple[float, dict[str, Any]]:
        """The outcome reward: -1 for a format error, else the session's verification (0 for a lost session)."""
        verification = None
        if rollout.stop_reason not in ("format_error", "session_lost"):
            try:
                verification = await (await session).verify(mode=self.settings.verify_mode, final_answer=rollout.final_answer)
            except SessionLost as exc:
                rollout.stop_reason, rollout.stop_detail = "session_lost", str(exc)
        outcome = classify(rollout.stop_reason, (verification or {}).get("result"), rollout.tool_error_types)
        reward = episode_reward(outcome, verification)
        info = {"awm_reward": reward, "awm_complete": float(outcome == "complete"),
                "awm_format_error": float(outcome == "format_error"), "awm_turns": float(rollout.turns),
                "awm_length_stop": float(rollout.stop_reason == "length")}
        return reward, info

    def _outputs(self, rollout: Rollout, reward: float, info: dict[str, Any]) -> AgentLoopOutput | list[AgentLoopOutput]:
        metrics = AgentLoopMetrics(generate_sequences=rollout.generate_s, tool_calls=rollout.tools_s)
        num_turns = 2 * rollout.turns + 1  # verl counts messages: the task, then each assistant turn and its reply

        def output(prompt_ids: list[int], response_ids: list[int], mask: list[int], logprobs: list[float] | None,
                   extra: dict[str, Any]) -> AgentLoopOutput:
            cut = self.response_length
            return AgentLoopOutput(
                prompt_ids=prompt_ids, response_ids=response_ids[:cut], response_mask=mask[:cut],
                response_logprobs=logprobs[:cut] if logprobs else None, reward_score=reward, num_turns=num_turns,
                metrics=metrics, extra_fields={**extra, "turn_scores": [], "tool_rewards": [], "reward_extra_info": dict(info)})

        if not rollout.turns:
            raise ValueError(f"{rollout.bundle_id}:{rollout.task_idx}: the first prompt does not fit in "
                             f"rollout.prompt_length={self.prompt_length} tokens; raise data.max_prompt_length")
        if self.plain:
            prompt_len = len(rollout.initial_ids)
            return output(rollout.initial_ids, rollout.runtime_ids[prompt_len:], rollout.response_mask,
                          rollout.response_logprobs or None, rollout.last_extra_fields)
        return [output(s.prompt_ids, s.response_ids, [1] * len(s.response_ids), s.logprobs, s.extra_fields)
                for s in rollout.samples]


def _system_and_task(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """The system prompt and the task from a row's chat prompt ([system, user], as `awm train data` writes)."""
    roles = [m.get("role") for m in messages]
    if roles != ["system", "user"]:
        raise ValueError(f"the prompt must be [system, user] messages, got roles {roles}; make it with `awm train data`")
    return str(messages[0]["content"]), str(messages[1]["content"])
