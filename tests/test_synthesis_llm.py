"""The synthesis LLM client through the real `openai` client: retries and their count, token accounting,
concurrency limit, timeouts, and errors that stop a run with one actionable line."""

from __future__ import annotations

import asyncio
import time

import pytest

from awm_release.scripted_llm import ScriptedLLM
from awm_release.synthesis.llm import LLMCallFailed, LLMClient, LLMSettings, LLMUnavailable, Usage
from env_server.process import free_port

FAST_RETRY = {"retry-after-ms": "5"}


def chat(llm: ScriptedLLM, **settings) -> object:
    async def go():
        client = LLMClient(LLMSettings(model="scripted-model", base_url=llm.base_url, **settings))
        try:
            return await client.chat([{"role": "user", "content": "hello"}])
        except (LLMCallFailed, LLMUnavailable) as exc:
            return exc
        finally:
            await client.close()
    return asyncio.run(go())


def test_429_and_5xx_are_retried_and_counted_with_the_tokens_of_the_answer():
    script = [{"status": 429, "headers": FAST_RETRY}, {"status": 503, "headers": FAST_RETRY},
              {"content": "fine", "usage": {"prompt_tokens": 7, "completion_tokens": 3}}]
    with ScriptedLLM(script) as llm:
        reply = chat(llm)
    assert reply.text == "fine" and not reply.truncated
    assert (reply.usage.calls, reply.usage.http_retries, reply.usage.prompt_tokens, reply.usage.completion_tokens) == (1, 2, 7, 3)


def test_persistent_server_errors_fail_the_call_not_the_run():
    with ScriptedLLM([{"status": 500, "message": "boom", "headers": FAST_RETRY}] * 3) as llm:
        failure = chat(llm, max_retries=2)
    assert isinstance(failure, LLMCallFailed)
    assert "HTTP 500: boom" in str(failure) and "after 2 retries" in str(failure)
    assert failure.usage.http_retries == 3


@pytest.mark.parametrize(("reply", "fragment"), [
    ({"status": 401, "message": "bad key"}, "refused the API key"),
    ({"status": 404, "message": "no such model"}, "has no model 'scripted-model'"),
])
def test_errors_no_retry_can_fix_stop_the_run(reply, fragment):
    with ScriptedLLM([reply]) as llm:
        failure = chat(llm)
    assert isinstance(failure, LLMUnavailable) and fragment in str(failure)


def test_nothing_listening_is_reported_with_the_address():
    url = f"http://127.0.0.1:{free_port()}/v1"

    async def go():
        client = LLMClient(LLMSettings(model="m", base_url=url, max_retries=0))
        try:
            await client.chat([{"role": "user", "content": "hi"}])
        finally:
            await client.close()

    with pytest.raises(LLMUnavailable, match=f"cannot reach {url}.*--base-url"):
        asyncio.run(go())


def test_a_slow_answer_times_out_and_a_cut_off_one_is_flagged():
    with ScriptedLLM([{"content": "late", "delay_s": 2}] * 2) as llm:
        failure = chat(llm, timeout_s=0.3, max_retries=1)
    assert isinstance(failure, LLMCallFailed) and "timed out" in str(failure)
    with ScriptedLLM([{"content": '{"tasks": [', "finish_reason": "length"}]) as llm:
        assert chat(llm).truncated


def test_concurrency_limit_bounds_requests_in_flight():
    with ScriptedLLM(lambda request: {"content": "ok", "delay_s": 0.3}) as llm:
        async def go():
            client = LLMClient(LLMSettings(model="m", base_url=llm.base_url, concurrency=2))
            started = time.perf_counter()
            await asyncio.gather(*(client.chat([{"role": "user", "content": str(i)}]) for i in range(4)))
            await client.close()
            return time.perf_counter() - started

        elapsed = asyncio.run(go())
    assert elapsed >= 0.6  # four 0.3 s answers, two at a time


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("AWM_GEN_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMUnavailable, match="no API key: set AWM_GEN_API_KEY or OPENAI_API_KEY"):
        LLMSettings(model="gpt-5").api_key()
    assert LLMSettings(model="m", base_url="http://127.0.0.1:9/v1").api_key() == "EMPTY"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert LLMSettings(model="gpt-5").api_key() == "sk-test"


def test_usage_adds_up_and_prices():
    total = Usage(calls=1, prompt_tokens=1_000_000, completion_tokens=0).add(Usage(calls=1, completion_tokens=500_000))
    assert total.calls == 2 and total.cost(1.25, 10.0) == pytest.approx(6.25)


def test_embeddings_come_from_the_endpoint_in_order():
    with ScriptedLLM(embed=lambda texts: [[float(len(t)), 1.0] for t in texts]) as llm:
        async def go():
            client = LLMClient(LLMSettings(model="m", base_url=llm.base_url, embedding_model="e"))
            try:
                return await client.embed(["a", "bbb"])
            finally:
                await client.close()
        vectors, usage = asyncio.run(go())
    assert vectors == [[1.0, 1.0], [3.0, 1.0]] and usage.calls == 1 and usage.prompt_tokens > 0
