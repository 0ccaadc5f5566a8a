"""One OpenAI-compatible client for every synthesis call: a concurrency limit, timeouts, retries and token accounting.

Retries with exponential backoff on 429, 5xx, timeouts and dropped connections are the `openai` client's own
(it honours `Retry-After` / `retry-after-ms`); an httpx response hook counts every retried answer, so the run
report can say how often the endpoint pushed back. Errors that no retry can fix (bad key, unknown model,
nothing listening) raise LLMUnavailable, which stops the run with one actionable line instead of burning
five attempts per item.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from dataclasses import dataclass

import httpx
import openai
from pydantic import BaseModel

API_KEY_VARIABLES = ("AWM_GEN_API_KEY", "OPENAI_API_KEY")
_RETRYABLE_STATUS = 429
_EMBEDDING_BATCH = 256


class Usage(BaseModel):
    """Tokens, calls and endpoint push-back of some LLM work; adds up across attempts, items and stages."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    http_retries: int = 0
    seconds: float = 0.0

    def add(self, other: Usage) -> Usage:
        return Usage(**{name: getattr(self, name) + getattr(other, name) for name in Usage.model_fields})

    def cost(self, price_in: float, price_out: float) -> float:
        """USD, from prices per million prompt and completion tokens."""
        return (self.prompt_tokens * price_in + self.completion_tokens * price_out) / 1_000_000


@dataclass(frozen=True)
class LLMSettings:
    """Where and how to call the model. The API key comes from the environment and is never written to disk."""

    model: str
    base_url: str | None = None
    concurrency: int = 8
    timeout_s: float = 600.0
    max_retries: int = 5
    temperature: float | None = None
    max_tokens: int | None = None
    embedding_model: str | None = None

    def api_key(self) -> str:
        for name in API_KEY_VARIABLES:
            if os.environ.get(name):
                return os.environ[name]
        if self.base_url is None:
            raise LLMUnavailable(f"no API key: set {' or '.join(API_KEY_VARIABLES)}, or point --base-url at a local server")
        return "EMPTY"  # local OpenAI-compatible servers (vLLM, llama.cpp) accept any key


class LLMUnavailable(RuntimeError):
    """The endpoint cannot serve this run at all (key, model, address): stop and tell the user."""


class LLMCallFailed(RuntimeError):
    """One call failed after the client's retries; the item's attempt fails, the run goes on."""

    def __init__(self, message: str, usage: Usage):
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class ChatReply:
    text: str
    usage: Usage
    truncated: bool


# The Usage of the call in flight in this task, so the response hook can count retried answers per call.
_current_usage: contextvars.ContextVar[Usage] = contextvars.ContextVar("awm_gen_call_usage")


async def _count_retryable(response: httpx.Response) -> None:
    if response.status_code == _RETRYABLE_STATUS or response.status_code >= 500:
        usage = _current_usage.get(None)
        if usage is not None:
            usage.http_retries += 1


class LLMClient:
    """`await client.chat(messages)` -> ChatReply; at most `settings.concurrency` requests in flight."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self._client = openai.AsyncOpenAI(
            api_key=settings.api_key(),
            base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            http_client=openai.DefaultAsyncHttpxClient(event_hooks={"response": [_count_retryable]}),
        )
        self._limit = asyncio.Semaphore(settings.concurrency)

    async def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> ChatReply:
        usage = Usage(calls=1)
        token = _current_usage.set(usage)
        started = time.perf_counter()
        try:
            async with self._limit:
                response = await self._client.chat.completions.create(
                    model=self.settings.model,
                    messages=messages,  # type: ignore[arg-type]
                    **_optional(temperature=self.settings.temperature, max_tokens=max_tokens or self.settings.max_tokens),
                )
        except openai.OpenAIError as exc:
            usage.seconds = time.perf_counter() - started
            raise self._classify(exc, usage) from None
        finally:
            _current_usage.reset(token)
        usage.seconds = time.perf_counter() - started
        if response.usage is not None:
            usage.prompt_tokens = response.usage.prompt_tokens
            usage.completion_tokens = response.usage.completion_tokens
        if not response.choices:
            raise LLMCallFailed("the endpoint answered with no choices", usage)
        choice = response.choices[0]
        return ChatReply(choice.message.content or "", usage, truncated=choice.finish_reason == "length")

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], Usage]:
        """Embeddings from the endpoint's /embeddings with `settings.embedding_model`, in request-sized batches."""
        if not self.settings.embedding_model:
            raise LLMUnavailable("API embeddings need --embedding-model NAME (or use --embeddings local)")
        usage = Usage()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), _EMBEDDING_BATCH):
            batch = texts[start:start + _EMBEDDING_BATCH]
            call = Usage(calls=1)
            token = _current_usage.set(call)
            try:
                async with self._limit:
                    response = await self._client.embeddings.create(model=self.settings.embedding_model, input=batch)
            except openai.OpenAIError as exc:
                error = self._classify(exc, usage.add(call))
                raise (error if isinstance(error, LLMUnavailable) else LLMUnavailable(f"embeddings failed: {error}")) from None
            finally:
                _current_usage.reset(token)
            call.prompt_tokens = response.usage.prompt_tokens if response.usage else 0
            usage = usage.add(call)
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        return vectors, usage

    def _classify(self, exc: openai.OpenAIError, usage: Usage) -> Exception:
        where = self.settings.base_url or "the OpenAI API"
        if isinstance(exc, openai.APITimeoutError):
            return LLMCallFailed(f"timed out after {self.settings.timeout_s:g} s and {self.settings.max_retries} retries", usage)
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnavailable(f"cannot reach {where}: {exc}; check --base-url and that the server is running")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMUnavailable(f"{where} refused the API key ({_status_text(exc)}); set {API_KEY_VARIABLES[0]}")
        if isinstance(exc, openai.NotFoundError):
            return LLMUnavailable(f"{where} has no model {self.settings.model!r} or no such endpoint ({_status_text(exc)}); check --model and --base-url")
        if isinstance(exc, openai.APIStatusError):
            retried = exc.status_code == _RETRYABLE_STATUS or exc.status_code >= 500
            return LLMCallFailed(_status_text(exc) + (f" (after {self.settings.max_retries} retries)" if retried else ""), usage)
        return LLMCallFailed(f"{type(exc).__name__}: {exc}", usage)

    async def close(self) -> None:
        await self._client.close()


def _optional(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


def _status_text(exc: openai.APIStatusError) -> str:
    body = exc.body  # the client unwraps OpenAI-style {"error": {...}} bodies
    message = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {exc.status_code}: {message or exc.message}"
