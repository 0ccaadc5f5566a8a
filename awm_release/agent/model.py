"""The agent's model: any OpenAI-compatible chat endpoint, through the real `openai` client.

Retries on 429, 5xx, timeouts and dropped connections are the client's own. What is left after them is
sorted into three cases: a context that outgrew the model (the episode ends there and is still verified),
everything that no episode can get past (nothing listening, wrong model, rejected parameters, replies that
are not chat completions: ModelEndpointError, which stops an evaluation with one actionable line), and a
normal reply.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from awm_release.agent.protocol import META_TOOLS, SamplingConfig

API_KEY_VARIABLES = ("AWM_AGENT_API_KEY", "OPENAI_API_KEY")
_CONTEXT_LENGTH = re.compile(r"context.length|maximum context|context window|prompt is too long|too many tokens", re.I)


class ModelEndpointError(RuntimeError):
    """The endpoint cannot serve this run (unreachable, wrong model, rejected request, garbage replies)."""


class ContextLengthExceeded(RuntimeError):
    """The conversation no longer fits the model's context: the episode ends here."""


@dataclass(frozen=True)
class ModelReply:
    message: dict[str, Any]  # the assistant message, extra fields (reasoning_content) included
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float


def api_key_from_environment() -> str:
    """The first of AWM_AGENT_API_KEY, OPENAI_API_KEY; local servers (vLLM) accept any key."""
    return next((os.environ[name] for name in API_KEY_VARIABLES if os.environ.get(name)), "EMPTY")


@dataclass(frozen=True)
class Endpoint:
    """Where the agent's model is served. The API key comes from the environment and is never written to disk."""

    model: str
    base_url: str
    timeout_s: float = 600.0
    max_retries: int = 3


class ModelClient:
    """`await client.complete(messages, sample=j)` -> ModelReply, with the meta-tools and sampling of a run."""

    def __init__(self, endpoint: Endpoint, sampling: SamplingConfig):
        self.model = endpoint.model
        self.base_url = endpoint.base_url.rstrip("/")
        self.sampling = sampling
        self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=api_key_from_environment(),
                                          timeout=endpoint.timeout_s, max_retries=endpoint.max_retries)

    async def check(self) -> None:
        """Fail fast, before any episode: the endpoint answers, and serves `model` when it lists its models."""
        try:
            listed = await self._client.models.list()
            served = [m.id for m in listed.data]
        except openai.NotFoundError:
            return  # some OpenAI-compatible servers have no /models; the first completion will tell
        except openai.OpenAIError as exc:
            raise self._explain(exc) from None
        except Exception as exc:  # noqa: BLE001 - a non-API answer surfaces as whatever parsing it raised
            raise ModelEndpointError(f"{self.base_url}/models did not answer like an OpenAI-compatible API "
                                     f"({type(exc).__name__}); check --base-url (it usually ends in /v1)") from None
        if served and self.model not in served:
            raise ModelEndpointError(f"{self.base_url} serves {', '.join(served[:10])}, not {self.model!r}; pass one of "
                                     "them as --model")

    async def complete(self, messages: list[dict[str, Any]], *, sample: int = 0) -> ModelReply:
        started = time.perf_counter()
        try:
            response = await self._client.chat.completions.create(
                model=self.model, messages=messages, tools=META_TOOLS,  # type: ignore[arg-type]
                **self.sampling.request_kwargs(sample))
        except openai.BadRequestError as exc:
            if _CONTEXT_LENGTH.search(_status_text(exc)):
                raise ContextLengthExceeded(_status_text(exc)) from None
            raise self._explain(exc) from None
        except openai.OpenAIError as exc:
            raise self._explain(exc) from None
        choices = getattr(response, "choices", None) if isinstance(response, ChatCompletion) else None
        message = getattr(choices[0], "message", None) if choices else None
        if message is None:
            raise ModelEndpointError(f"{self.base_url}/chat/completions answered with something that is not a chat "
                                     f"completion ({str(response)[:120]!r}); check --base-url (it usually ends in /v1)")
        usage = response.usage
        return ModelReply(message=message.model_dump(exclude_none=True), finish_reason=choices[0].finish_reason,
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0,
                          latency_s=time.perf_counter() - started)

    def _explain(self, exc: openai.OpenAIError) -> ModelEndpointError:
        where = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return ModelEndpointError(f"{where} did not answer within the timeout, also after retries; raise "
                                      "--request-timeout or lower --concurrency")
        if isinstance(exc, openai.APIConnectionError):
            return ModelEndpointError(f"cannot reach the model endpoint {where} ({exc}); start it (e.g. `vllm serve MODEL`) "
                                      "or fix --base-url")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ModelEndpointError(f"{where} refused the API key ({_status_text(exc)}); set {API_KEY_VARIABLES[0]}")
        if isinstance(exc, openai.NotFoundError):
            return ModelEndpointError(f"{where} has no model {self.model!r} or no chat completions endpoint "
                                      f"({_status_text(exc)}); check --model and --base-url (it usually ends in /v1)")
        if isinstance(exc, openai.BadRequestError):
            return ModelEndpointError(f"{where} rejected the request ({_status_text(exc)}); endpoints that do not take "
                                      "top_k or chat_template_kwargs (OpenAI's) need --top-k 0 --thinking server-default; a vLLM "
                                      "refusing tools wants --enable-auto-tool-choice --tool-call-parser hermes")
        if isinstance(exc, openai.APIStatusError):
            return ModelEndpointError(f"{where} failed, also after retries ({_status_text(exc)})")
        return ModelEndpointError(f"{where} answered with something that is not a chat completion "
                                  f"({type(exc).__name__}: {exc}); check --base-url")

    async def close(self) -> None:
        await self._client.close()


def _status_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {exc.status_code}: {message or exc.message}"
