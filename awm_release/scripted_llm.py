"""A local OpenAI-compatible server that replays scripted replies: for offline tests, benchmarks and dry runs.

It speaks the real protocol (`POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models`) on a
loopback port, so the code under test talks to it through the real `openai` client, exactly as it would
to a hosted model or a vLLM server.

    with ScriptedLLM(["first reply", {"status": 429}, "after the retry"]) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="unused")

A reply is a string (the assistant's content) or a dict with any of: `content`, `reasoning_content`,
`tool_calls` (OpenAI format), `finish_reason`, `usage` ({prompt_tokens, completion_tokens}), `delay_s`,
and `status` (>= 400 answers with an OpenAI-style error; `message` and `headers` go with it). Replies
are taken in order from a list, or computed per request by a function of the request body.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from env_server.process import free_port

Reply = str | dict[str, Any]
Responder = Callable[[dict[str, Any]], Reply]
Embedder = Callable[[list[str]], list[list[float]]]


class ScriptedLLM:
    """Serve scripted chat completions (and optional embeddings) on 127.0.0.1 until stopped."""

    def __init__(self, replies: Iterable[Reply] | Responder = (), *, embed: Embedder | None = None,
                 model: str = "scripted-model"):
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if callable(replies):
            self._responder: Responder = replies
        else:
            queue = iter(list(replies))
            self._responder = lambda _request: next(queue, {"status": 500, "message": "the script has no reply left"})
        self._embed = embed
        self._ids = itertools.count(1)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(self._app(), host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="scripted-llm", daemon=True)

    def _app(self) -> FastAPI:
        app = FastAPI(title="scripted OpenAI-compatible server")

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "scripted"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.requests.append(body)
                reply = self._responder(body)
            reply = {"content": reply} if isinstance(reply, str) else dict(reply)
            if reply.get("delay_s"):
                await asyncio.sleep(reply["delay_s"])
            if reply.get("status", 200) >= 400:
                return _error(reply)
            return JSONResponse(self._completion(body, reply))

        @app.post("/v1/embeddings")
        async def embeddings(request: Request) -> JSONResponse:
            body = await request.json()
            if self._embed is None:
                return _error({"status": 404, "message": "this scripted server has no embedding model"})
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = self._embed(inputs)
            return JSONResponse({
                "object": "list",
                "model": body.get("model", self.model),
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": sum(len(t) // 4 + 1 for t in inputs), "total_tokens": sum(len(t) // 4 + 1 for t in inputs)},
            })

        return app

    def _completion(self, request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if reply.get("reasoning_content") is not None:
            message["reasoning_content"] = reply["reasoning_content"]
        if reply.get("tool_calls"):
            message["tool_calls"] = reply["tool_calls"]
        prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
        usage = reply.get("usage") or {
            "prompt_tokens": prompt_chars // 4 + 1,
            "completion_tokens": len(reply.get("content") or "") // 4 + 1,
        }
        usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        return {
            "id": f"chatcmpl-scripted-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", self.model),
            "choices": [{
                "index": 0,
                "message": message,
                "finish_reason": reply.get("finish_reason", "tool_calls" if reply.get("tool_calls") else "stop"),
            }],
            "usage": usage,
        }

    def start(self) -> ScriptedLLM:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the scripted LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _error(reply: dict[str, Any]) -> JSONResponse:
    status = reply["status"]
    message = reply.get("message", f"scripted error {status}")
    kind = "rate_limit_error" if status == 429 else ("server_error" if status >= 500 else "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status,
                        headers=reply.get("headers"))
