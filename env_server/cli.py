"""`awm-serve`: serve bundles as isolated per-session tool APIs over REST and MCP."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn
from rich.console import Console

from awm_release.bundle import Bundle, BundleError
from awm_release.bundle_io import read_bundles
from awm_release.demo import DEFAULT_DEMO_BUNDLE, demo_bundle_ids, load_demo_bundle
from awm_release.sandbox.judge import JudgeConfig
from awm_release.release.errors import ReleaseError
from awm_release.release.load import load_bundles
from env_server.app import create_app
from env_server.config import ServeConfig
from env_server.errors import HostError
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager
from env_server.worker_pool import SessionBackend, WorkerPool

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_show_locals=False)
JUDGE_KEY_VARIABLES = ("AWM_JUDGE_API_KEY", "OPENAI_API_KEY")


@app.command(
    help=(
        "Serve AWM environment bundles: every session gets its own copy of the bundle's SQLite database.\n\n"
        "With no arguments, serves the embedded demo bundle [bold]bookstore_1[/bold]. Examples:\n\n"
        "  awm-serve                                   # the demo, on http://127.0.0.1:8000\n\n"
        "  awm-serve task_tracker_1 clinic_booking_1   # other embedded demo bundles\n\n"
        "  awm-serve --bundles bundles/                # every bundle written by `awm import-awm1k`\n\n"
        "  awm-serve content_platform_1 --bundles bundles/ --workers 8 --runs-dir runs/\n\n"
        "  awm-serve e_commerce_33 --dataset awm/envs --revision v1.0.0   # straight from the release\n\n"
        "  awm-serve --judge-base-url http://127.0.0.1:8001/v1 --judge-model Qwen/Qwen3-32B   # sql-mode rewards\n\n"
        "REST: POST /sessions, GET /sessions/{id}/tools, POST /sessions/{id}/call, /reset, /verify, "
        "GET /sessions/{id}/database, DELETE /sessions/{id}[?save=true]; docs at /docs.\n\n"
        "MCP (streamable HTTP): /mcp/{bundle_id} (one environment per MCP session), /mcp when one bundle "
        "is served, and /sessions/{id}/mcp for a session created over REST.\n\n"
        "Environment code runs in --workers processes (sessions are pinned to one); a tool call past "
        "--call-timeout, a crash, or a worker past --worker-memory-mb costs only that worker's sessions."
    )
)
def serve(
    bundle_ids: Annotated[Optional[list[str]], typer.Argument(metavar="[BUNDLE_ID]...", help="Bundles to serve (default: the demo bundle, or every bundle under --bundles).")] = None,
    bundles: Annotated[Optional[list[Path]], typer.Option("--bundles", "-b", help="Bundle file or folder of bundle files; repeatable.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Serve from a release: a folder written by `awm release pack`, a Hub dataset repo id (e.g. awm/envs; works offline once cached) or 'demo'. Every bundle's sha256 is checked against the manifest.")] = None,
    revision: Annotated[Optional[str], typer.Option(help="With --dataset from the Hub: a tag (e.g. v1.0.0), branch or commit.")] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; keep 127.0.0.1 unless you mean to expose it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes running environment code (default: one per core); 0 runs it in the server process.")] = os.cpu_count() or 1,
    max_sessions: Annotated[int, typer.Option(help="Refuse new sessions beyond this many.")] = 10_000,
    idle_timeout: Annotated[float, typer.Option(help="Close sessions unused for this many seconds.")] = 1800.0,
    call_timeout: Annotated[float, typer.Option(help="A tool call running longer is a server_error, and its worker is replaced.")] = 30.0,
    worker_memory_mb: Annotated[int, typer.Option(help="Replace a worker whose memory grows past this (its sessions are lost); new sessions avoid workers near it.")] = 4096,
    verifier_timeout: Annotated[float, typer.Option(help="Kill a verifier running longer than this many seconds.")] = 30.0,
    verifier_pool_size: Annotated[int, typer.Option(help="Warm verifier processes per worker.")] = 2,
    runs_dir: Annotated[Optional[Path], typer.Option(help="Where DELETE /sessions/{id}?save=true writes run folders (trajectory + databases).")] = None,
    judge_base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint of the LLM judge for sql-mode verification.")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Model name of the LLM judge.")] = None,
    allow_seed_errors: Annotated[bool, typer.Option(help="Serve bundles whose seed INSERTs partly fail (failures are logged and listed at /bundles/{id}).")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ["AWM_LOG_LEVEL"] = log_level
    if (judge_base_url is None) != (judge_model is None):
        _fail("--judge-base-url and --judge-model go together")
    judge = None
    if judge_base_url:
        api_key = next((os.environ[v] for v in JUDGE_KEY_VARIABLES if os.environ.get(v)), "EMPTY")
        judge = JudgeConfig(base_url=judge_base_url, model=judge_model, api_key=api_key)
    config = ServeConfig(workers=workers, max_sessions=max_sessions, idle_timeout_s=idle_timeout, call_timeout_s=call_timeout,
                         verifier_timeout_s=verifier_timeout, verifier_pool_size=verifier_pool_size,
                         worker_memory_mb=worker_memory_mb, allow_seed_errors=allow_seed_errors, runs_dir=runs_dir, judge=judge)
    try:
        if dataset is not None:
            selected = load_bundles(dataset, revision, bundle_ids or None)
        else:
            if revision is not None:
                _fail("--revision needs --dataset")
            selected = select_bundles(bundle_ids or [], bundles or [])
    except (BundleError, ReleaseError, KeyError) as exc:
        _fail(exc.args[0] if isinstance(exc, KeyError) else str(exc))
    preload = list(selected) if bundle_ids or not (bundles or dataset) else []
    try:
        import uvloop
    except ImportError:
        code = asyncio.run(_run(selected, preload, config, host, port, log_level))
    else:
        code = uvloop.run(_run(selected, preload, config, host, port, log_level))
    raise typer.Exit(code)


async def _run(selected: dict[str, Bundle], preload: list[str], config: ServeConfig, host: str, port: int, log_level: str) -> int:
    registry = BundleRegistry(selected, allow_seed_errors=config.allow_seed_errors)
    backend: SessionBackend = WorkerPool(registry, config) if config.workers > 0 else SessionManager(registry, config)
    try:
        if isinstance(backend, WorkerPool):
            await backend.start()
        for bundle_id in preload:  # fail fast, at start-up, with the bundle's own error
            await backend.preload(bundle_id)
        base = f"http://{host}:{port}"
        console.print(f"awm-serve: {len(selected)} bundle(s): {', '.join(selected)}; "
                      f"{config.workers or 'no'} worker process(es)", highlight=False)
        console.print(f"  REST {base}/sessions   docs {base}/docs", highlight=False)
        console.print(f"  MCP  {base}/mcp/<bundle_id>" + (f"   ({base}/mcp)" if len(selected) == 1 else ""), highlight=False)
        server = uvicorn.Server(uvicorn.Config(create_app(backend, idle_timeout_s=config.idle_timeout_s), host=host,
                                               port=port, log_level=log_level.lower(), access_log=False))
        await server.serve()
        return 0 if server.started else 1
    except HostError as exc:
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        return 2
    finally:
        await backend.shutdown()


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def select_bundles(bundle_ids: list[str], paths: list[Path]) -> dict[str, Bundle]:
    """Named bundles from the demo and --bundles; with no names, every --bundles bundle or the default demo."""
    from_paths = read_bundles(paths) if paths else {}
    if not bundle_ids:
        return from_paths or {DEFAULT_DEMO_BUNDLE: load_demo_bundle(DEFAULT_DEMO_BUNDLE)}
    available = set(demo_bundle_ids()) | set(from_paths)
    unknown = [b for b in bundle_ids if b not in available]
    if unknown:
        raise KeyError(f"unknown bundle(s) {', '.join(unknown)}; available: {', '.join(sorted(available))}"
                       + ("" if paths else " (pass --bundles DIR to serve imported bundles)"))
    return {b: from_paths[b] if b in from_paths else load_demo_bundle(b) for b in bundle_ids}


def main() -> None:
    app()


if __name__ == "__main__":
    main()
