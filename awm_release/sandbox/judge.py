"""The code-augmented LLM judge of sql mode: verifier facts + trajectory -> outcome, via any OpenAI-compatible API."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

JUDGE_OUTCOMES = ("complete", "partially_completed", "agent_error", "environment_error")
JUDGE_PROMPT_VERSION = "judge-v1"
_MAX_RESULT_CHARS = 2000  # per tool result in the judge's view of the trajectory
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

SYSTEM_PROMPT = """You judge whether an AI agent completed a task in a simulated application.
You get the task, the agent's tool calls with their results, the agent's final answer, and facts that a
verification program extracted by comparing the application's database before and after the episode.
Trust the database facts over the agent's claims.

Answer with one JSON object and nothing else:
{"outcome": "<one of: complete, partially_completed, agent_error, environment_error>", "reason": "<one or two sentences>"}
- complete: everything the task asked for is done, and nothing harmful was done besides.
- partially_completed: some required parts are done, others are missing or wrong.
- agent_error: the task was not done because of the agent's mistakes (wrong calls, wrong items, gave up).
- environment_error: the task could not be done because the application itself failed (server errors, broken tools)."""


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    temperature: float = 0.0
    timeout_s: float = 120.0
    max_retries: int = 3


@dataclass
class JudgeVerdict:
    outcome: str  # one of JUDGE_OUTCOMES, or "judge_error"
    reason: str
    raw: str | None = None
    usage: dict[str, int] | None = None


class Judge:
    """One OpenAI-compatible client shared by all verifications of a process."""

    def __init__(self, config: JudgeConfig):
        import openai  # here, not at the top: only a server with a judge pays for importing it (0.8 s at every start)

        self.config = config
        self.client = openai.AsyncOpenAI(base_url=config.base_url, api_key=config.api_key,
                                         timeout=config.timeout_s, max_retries=config.max_retries)
        self._endpoint_failed = openai.OpenAIError

    async def judge(self, task: str, facts: dict[str, Any], calls: list[dict[str, Any]], final_answer: str | None) -> JudgeVerdict:
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": render_case(task, facts, calls, final_answer)},
        ]
        try:
            response = await self.client.chat.completions.create(
                model=self.config.model, messages=messages, temperature=self.config.temperature
            )
        except self._endpoint_failed as exc:
            return JudgeVerdict("judge_error", f"the judge endpoint failed: {type(exc).__name__}: {exc}")
        text = response.choices[0].message.content or ""
        usage = response.usage.model_dump(include={"prompt_tokens", "completion_tokens"}) if response.usage else None
        return parse_verdict(text, usage)


def render_case(task: str, facts: dict[str, Any], calls: list[dict[str, Any]], final_answer: str | None) -> str:
    lines = [f"## Task\n{task}", "## Tool calls"]
    for i, call in enumerate(calls, start=1):
        outcome = call.get("result") if call.get("ok") else {"error": call.get("error")}
        shown = json.dumps(outcome, ensure_ascii=False)
        if len(shown) > _MAX_RESULT_CHARS:
            shown = shown[:_MAX_RESULT_CHARS] + " ...(truncated)"
        lines.append(f"{i}. {call['tool']}({json.dumps(call.get('arguments', {}), ensure_ascii=False)}) -> {shown}")
    if not calls:
        lines.append("(none)")
    lines.append(f"## Final answer\n{final_answer if final_answer else '(none)'}")
    lines.append(f"## Database facts from the verifier\n{json.dumps(facts, ensure_ascii=False, indent=1, default=str)}")
    return "\n\n".join(lines)


def parse_verdict(text: str, usage: dict[str, int] | None = None) -> JudgeVerdict:
    """Take the last JSON object of the reply (after any <think> block); anything else is a judge_error."""
    visible = _THINK.sub("", text).strip()
    match = _JSON_OBJECT.search(visible)
    try:
        data = json.loads(match.group(0)) if match else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("outcome") not in JUDGE_OUTCOMES:
        return JudgeVerdict("judge_error", f"the judge did not answer with a JSON outcome among {', '.join(JUDGE_OUTCOMES)}",
                            raw=text[:2000], usage=usage)
    return JudgeVerdict(data["outcome"], str(data.get("reason", "")), raw=text[:2000], usage=usage)
