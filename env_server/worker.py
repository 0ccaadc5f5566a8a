"""A bundle's worker: serves the sessions of exactly one bundle, forked from the zygote inside the sandbox.

One bundle per process because generated code monkeypatches modules and globals, by accident or on purpose:
two bundles must never share an interpreter. Sessions of one bundle may. Before it loads any bundle code the
worker confines itself (awm_release.sandbox.confine): it keeps only its channel to the front (and stderr, the
server's log), cannot exec, fork or signal, writes only below its own scratch folder, and has an address-space
ceiling. It answers the front's frames (env_server.protocol) until the channel closes, then exits.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
from typing import Any

from awm_release.bundle import bundle_from_dict
from awm_release.sandbox.confine import Limits, confine
from awm_release.sandbox.frames import ProtocolError, encode, read_frame
from env_server.config import ServeConfig
from env_server.errors import HostError, ToolCallError
from env_server.protocol import WORKER_OPS
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager

log = logging.getLogger("awm.worker")
REQUEST_LIMIT = 64 << 20
# What a worker is told of the server's configuration: never the judge's key or the runs folder.
WORKER_CONFIG_FIELDS = ("max_sessions", "worker_memory_mb", "strict", "max_trajectory_value_bytes")


def config_to_dict(config: ServeConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in WORKER_CONFIG_FIELDS}


def config_from_dict(raw: dict[str, Any]) -> ServeConfig:
    return ServeConfig(workers=0, **{name: raw[name] for name in WORKER_CONFIG_FIELDS})


class Worker:
    """The session engine of one bundle, driven by the front's requests."""

    def __init__(self, config: ServeConfig):
        self.registry = BundleRegistry({}, strict=config.strict)
        self.manager = SessionManager(self.registry, config)

    async def handle(self, op: str, kwargs: dict[str, Any]) -> Any:
        if op not in WORKER_OPS:
            raise HostError(400, "bad_worker_op", f"unknown worker operation {op!r}")
        if op == "hydrate":
            return self._hydrate(kwargs["bundle"])
        if op == "close" and kwargs.get("save"):
            raise HostError(400, "bad_worker_op", "workers never write run folders; the front does")
        return await getattr(self.manager, op)(**kwargs)

    def _hydrate(self, data: dict[str, Any]) -> dict[str, Any]:
        bundle = bundle_from_dict(data, f"bundle {data.get('bundle_id')}")
        if self.registry.bundles and bundle.bundle_id not in self.registry.bundles:
            raise HostError(400, "bad_worker_op", "a worker serves one bundle only")
        self.registry.bundles[bundle.bundle_id] = bundle
        hydrated = self.registry.hydrate(bundle.bundle_id)
        gc.freeze()  # a loaded bundle lives as long as the worker: keep it out of every later collection
        return {"tools": len(hydrated.environment.tools), "seconds": hydrated.load_seconds, "image": hydrated.image,
                "seed_failures": [str(f) for f in hydrated.report.failures]}


async def serve(channel: socket.socket, config: ServeConfig) -> None:
    reader, writer = await asyncio.open_connection(sock=channel, limit=1 << 30)
    worker = Worker(config)
    tasks: set[asyncio.Task] = set()

    async def answer(request_id: int, op: str, kwargs: dict[str, Any]) -> None:
        try:
            reply = [request_id, "ok", await worker.handle(op, kwargs)]
        except ToolCallError as exc:
            reply = [request_id, "tool_error", [exc.kind, exc.message, exc.status, exc.detail]]
        except HostError as exc:
            reply = [request_id, "host_error", [exc.status, exc.code, exc.message]]
        except Exception as exc:  # a bug of ours: report it to the front rather than die
            log.exception("worker operation %s failed", op)
            reply = [request_id, "host_error", [500, "worker_error", f"{op} failed in the worker: {type(exc).__name__}: {exc}"]]
        try:
            frame = encode(reply)
        except (TypeError, ValueError) as exc:  # e.g. a handler result msgpack cannot carry
            frame = encode([request_id, "host_error", [500, "worker_error", f"{op}: unencodable answer ({exc})"]])
        writer.write(frame)
        await writer.drain()

    while True:
        try:
            message = await read_frame(reader, REQUEST_LIMIT)
        except ProtocolError:
            break
        if message is None:
            break
        request_id, op, kwargs = message
        task = asyncio.create_task(answer(request_id, op, kwargs))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await worker.manager.shutdown()


def run(channel_fd: int, config: ServeConfig, seccomp_program: bytes) -> None:
    """The forked worker's whole life: confine, then serve the channel until the front closes it."""
    scratch = f"/tmp/worker-{os.getpid()}"
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    os.environ.update(TMPDIR=scratch, HOME=scratch, SQLITE_TMPDIR=scratch)
    # A hard ceiling on address space turns a runaway allocation into a MemoryError in the handler;
    # the front's RSS watchdog removes workers that grow past --worker-memory-mb.
    ceiling = max(config.worker_memory_mb * 4, 8192) << 20
    confine(keep_fds=[channel_fd, 2], limits=Limits(memory_bytes=ceiling), writable=scratch, seccomp_program=seccomp_program)
    gc.set_threshold(50_000, 20, 100)  # fewer full collections: a worker holds many long-lived objects
    import uvloop  # noqa: PLC0415 - imported by the zygote already; here only bound

    uvloop.run(serve(socket.socket(fileno=channel_fd), config))
