"""A worker process: runs a SessionManager and answers the front's requests over its stdin/stdout pipes.

Started by WorkerPool as `python -m env_server.worker CONFIG_JSON`. Environment code runs here, not in
the front, so a handler that loops forever or exhausts memory costs one worker (which the front
replaces), never the server. The real stdout is kept for the protocol and fd 1 is pointed at stderr,
so a stray print() in generated code cannot corrupt the channel.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import resource
import sys
from pathlib import Path
from typing import Any

from awm_release.bundle import bundle_from_dict
from awm_release.sandbox.judge import JudgeConfig
from env_server.config import ServeConfig
from env_server.errors import HostError, ToolCallError
from env_server.protocol import encode, read_message
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager

log = logging.getLogger("awm.worker")


def config_from_json(text: str) -> ServeConfig:
    raw = json.loads(text)
    judge = JudgeConfig(**raw["judge"]) if raw.get("judge") else None
    runs_dir = Path(raw["runs_dir"]) if raw.get("runs_dir") else None
    return ServeConfig(**{**raw, "judge": judge, "runs_dir": runs_dir})


def config_to_json(config: ServeConfig) -> str:
    raw: dict[str, Any] = dict(vars(config))
    raw["judge"] = vars(config.judge) if config.judge else None
    raw["runs_dir"] = str(config.runs_dir) if config.runs_dir else None
    return json.dumps(raw)


class Worker:
    def __init__(self, config: ServeConfig):
        self.registry = BundleRegistry({}, allow_seed_errors=config.allow_seed_errors)
        self.manager = SessionManager(self.registry, config)

    async def handle(self, op: str, kwargs: dict[str, Any]) -> Any:
        loaded = self.registry.hydrated_count
        try:
            return await self._dispatch(op, kwargs)
        finally:
            if self.registry.hydrated_count > loaded:
                gc.freeze()  # a loaded bundle lives as long as the worker: keep it out of every later collection

    async def _dispatch(self, op: str, kwargs: dict[str, Any]) -> Any:
        if op == "add_bundle":
            bundle = bundle_from_dict(kwargs["bundle"], f"bundle {kwargs['bundle'].get('bundle_id')}")
            self.registry.bundles[bundle.bundle_id] = bundle
            return None
        if op == "hydrate":
            hydrated = self.registry.hydrate(kwargs["bundle_id"])
            return {"tools": len(hydrated.environment.tools), "seconds": hydrated.load_seconds}
        if op == "bundle_tools":
            return self.manager.bundle_tools(kwargs["bundle_id"])
        method = getattr(self.manager, op, None)
        if op.startswith("_") or method is None or not asyncio.iscoroutinefunction(method):
            raise HostError(400, "bad_worker_op", f"unknown worker operation {op!r}")
        return await method(**kwargs)


async def serve(config: ServeConfig) -> None:
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, protocol_out)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    worker = Worker(config)
    tasks: set[asyncio.Task] = set()

    async def answer(request_id: int, op: str, kwargs: dict[str, Any]) -> None:
        try:
            reply = (request_id, "ok", await worker.handle(op, kwargs))
        except ToolCallError as exc:
            reply = (request_id, "tool_error", (exc.kind, exc.message, exc.status, exc.detail))
        except HostError as exc:
            reply = (request_id, "host_error", (exc.status, exc.code, exc.message))
        except Exception as exc:  # a bug of ours: report it to the front rather than die
            log.exception("worker operation %s failed", op)
            reply = (request_id, "host_error", (500, "worker_error", f"{op} failed in the worker: {type(exc).__name__}: {exc}"))
        writer.write(encode(reply))
        await writer.drain()

    while (message := await read_message(reader)) is not None:
        task = asyncio.create_task(answer(*message))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await worker.manager.shutdown()


def main() -> None:
    config = config_from_json(sys.argv[1])
    logging.basicConfig(level=os.environ.get("AWM_LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s worker %(process)d: %(message)s")
    # A hard ceiling on address space turns a runaway allocation into a MemoryError in the handler;
    # the front's RSS watchdog replaces workers that grow past --worker-memory-mb.
    ceiling = max(config.worker_memory_mb * 4, 8192) << 20
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    # Fewer, cheaper collections: a worker holds many long-lived objects (loaded apps, SQLAlchemy metadata,
    # sessions), and the default thresholds make full collections frequent pauses in the tail latency.
    gc.set_threshold(50_000, 20, 100)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(config))
    else:
        uvloop.run(serve(config))


if __name__ == "__main__":
    main()
