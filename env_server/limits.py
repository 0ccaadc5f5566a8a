"""Input limits at the HTTP edge: a request-body cap (413) and malformed Unicode as a 400, never a 500."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a request whose body exceeds `limit` bytes is answered 413 before the app reads it all."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": {"type": "request_too_large", "message": f"the request body exceeds the server's "
                                     f"{self.limit:,}-byte limit (awm-serve --max-body-bytes)"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def install_limits(app: FastAPI, max_body_bytes: int) -> None:
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    @app.exception_handler(UnicodeError)
    async def malformed_unicode(_: Request, exc: UnicodeError) -> JSONResponse:
        return JSONResponse({"error": {"type": "bad_request", "message": "the request holds malformed Unicode (e.g. a lone "
                                       f"surrogate escape such as \\ud800): {str(exc)[:200]}"}}, status_code=400)
