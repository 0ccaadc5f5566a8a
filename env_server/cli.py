"""`awm-serve`: serve bundles as isolated per-session tool APIs over REST and MCP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn

from awm_release.bundle import SERVING, Bundle, BundleError
from awm_release.bundle_io import read_bundles
from awm_release.demo import DEFAULT_DEMO_BUNDLE, demo_bundle_ids, load_demo_bundle
from awm_release.listening import PortUnavailable, bind_port
from awm_release.sandbox.judge import JudgeConfig
from awm_release.sandbox.launch import Sandbox, SandboxUnavailable
from awm_release.release.errors import ReleaseError
from awm_release.release.load import load_bundles, require_consent
from awm_release.terminal import labelled, plain_console, print_error
from env_server.app import create_app
from env_server.config import ServeConfig
from env_server.errors import HostError
from env_server.judging import Judging
from env_server.registry import BundleRegistry
from env_server.sessions import SessionManager
from env_server.worker_pool import SessionBackend, WorkerPool

console = plain_console(stderr=True)
# Plain help (click's formatter): at 80 columns Rich's option table cuts long option names.
app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_show_locals=False)
JUDGE_KEY_VARIABLES = ("AWM_JUDGE_API_KEY", "OPENAI_API_KEY")
PARENT_POLL_S = 0.5  # how often --exit-with-parent looks for its parent


@app.command(
    help=(
        "Serve AWM environment bundles: every session gets its own copy of the bundle's SQLite database.\n\n"
        "With no arguments, serves the embedded demo bundle bookstore_1. Examples:\n\n"
        "\b\n"
        "  awm-serve                                 # the demo, http://127.0.0.1:8000\n"
        "  awm-serve task_tracker_1 clinic_booking_1 # other embedded demo bundles\n"
        "  awm-serve --bundles bundles/              # bundles from awm import-awm1k\n"
        "  awm-serve content_platform_1 --bundles bundles/ --workers 8 --runs-dir runs/\n"
        "  awm-serve e_commerce_33 --dataset awm/envs --revision v1.0.0\n"
        "  awm-serve --judge-base-url http://127.0.0.1:8001/v1 --judge-model Qwen/Qwen3-32B\n\n"
        "REST: POST /sessions, GET /sessions/{id}/tools, POST /sessions/{id}/call, /reset, /verify, "
        "GET /sessions/{id}/database, DELETE /sessions/{id}[?save=true]; docs at /docs.\n\n"
        "MCP (streamable HTTP): /mcp/{bundle_id} (one environment per MCP session), /mcp when one bundle "
        "is served, and /sessions/{id}/mcp for a session created over REST.\n\n"
        "Viewer: /ui in a browser (bundles, live sessions and the run folders of --runs-dir).\n\n"
        "OpenEnv (openenv-core's GenericEnvClient, MCPToolClient): base URL http://HOST:PORT/openenv, "
        "reset(bundle_id=..., task_idx=...), one environment per client session.\n\n"
        "Bundle code runs only inside an OS sandbox (bubblewrap: no network, no secrets, no view of this machine), "
        "each bundle in processes of its own (up to --workers per bundle); a tool call past --call-timeout, a crash, "
        "or a worker past --worker-memory-mb costs only that worker's sessions. Bundles downloaded from the Hub run "
        "only with --trust-remote-code."
    )
)
def serve(
    bundle_ids: Annotated[Optional[list[str]], typer.Argument(metavar="[BUNDLE_ID]...", help="Bundles to serve (default: the demo bundle, or every bundle under --bundles).")] = None,
    bundles: Annotated[Optional[list[Path]], typer.Option("--bundles", "-b", help="Bundle file or folder of bundle files; repeatable.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Serve from a release: a folder written by `awm release pack`, a Hub dataset repo id (e.g. awm/envs; works offline once cached) or 'demo'. Every bundle's sha256 is checked against the manifest.")] = None,
    revision: Annotated[Optional[str], typer.Option(help="With --dataset from the Hub: a tag (e.g. v1.0.0), branch or commit.")] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Run bundle code downloaded from a Hub dataset (--dataset OWNER/NAME). It still runs inside the sandbox; this flag is your consent to run someone else's code at all. Local folders and the demo need no flag.")] = False,
    sandbox: Annotated[str, typer.Option(help="'on' (default): bundle code runs in a bubblewrap sandbox, and awm-serve refuses to start if it cannot set one up. 'off': no sandbox at all (only for code you trust completely; logged loudly and shown in /health).")] = "on",
    host: Annotated[str, typer.Option(help="Interface to bind; keep 127.0.0.1 unless you mean to expose it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="At most this many worker processes per bundle (default: one per core); a bundle's sessions spread over them. 0 runs bundle code in the server process (needs --sandbox off).")] = os.cpu_count() or 1,
    max_sessions: Annotated[int, typer.Option(help="Refuse new sessions beyond this many.")] = 10_000,
    idle_timeout: Annotated[float, typer.Option(help="Close sessions unused for this many seconds.")] = 1800.0,
    call_timeout: Annotated[float, typer.Option(help="A tool call running longer is a server_error, and its worker is replaced.")] = 30.0,
    worker_memory_mb: Annotated[int, typer.Option(help="Replace a worker whose memory grows past this (its sessions are lost); new sessions avoid workers near it.")] = 4096,
    verifier_timeout: Annotated[float, typer.Option(help="Kill a verifier running longer than this many seconds.")] = 30.0,
    verifier_pool_size: Annotated[int, typer.Option(help="Warm sandboxed verifier processes (verifications run at once).")] = os.cpu_count() or 2,
    max_body_bytes: Annotated[int, typer.Option(help="Refuse REST/MCP request bodies larger than this (HTTP 413).")] = 1 << 20,
    worker_idle_timeout: Annotated[float, typer.Option(help="Stop a bundle's worker after this many seconds without sessions.")] = 300.0,
    runs_dir: Annotated[Optional[Path], typer.Option(help="Where DELETE /sessions/{id}?save=true writes run folders (trajectory + databases).")] = None,
    judge_base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint of the LLM judge for sql-mode verification.")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Model name of the LLM judge.")] = None,
    strict: Annotated[bool, typer.Option(help="All or nothing: refuse to start if any bundle has a problem (an unreadable file, a verifier that does not parse, a failed SQL statement). By default such parts are skipped with one line each, failed seed statements are skipped as the original AWM runtime skips them, and the rest is served.")] = False,
    exit_with_parent: Annotated[bool, typer.Option(help="Shut down (workers included) once the process that started awm-serve is gone, even when it was killed with SIGKILL: for launchers such as the training fleet's Ray actors.")] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    parent = os.getppid() if exit_with_parent else None  # first: the longer we wait, the likelier it is gone already
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ["AWM_LOG_LEVEL"] = log_level
    if (judge_base_url is None) != (judge_model is None):
        _fail("--judge-base-url and --judge-model go together")
    judge = None
    if judge_base_url:
        api_key = next((os.environ[v] for v in JUDGE_KEY_VARIABLES if os.environ.get(v)), "EMPTY")
        judge = JudgeConfig(base_url=judge_base_url, model=judge_model, api_key=api_key)
    if sandbox not in ("on", "off"):
        _fail(f"--sandbox takes 'on' or 'off', not {sandbox!r}")
    if workers == 0 and sandbox == "on":
        _fail("--workers 0 runs bundle code inside the server process, outside any sandbox: add --sandbox off "
              "(only for bundles you trust), or use --workers 1 or more")
    config = ServeConfig(workers=workers, max_sessions=max_sessions, idle_timeout_s=idle_timeout, call_timeout_s=call_timeout,
                         verifier_timeout_s=verifier_timeout, verifier_pool_size=verifier_pool_size,
                         worker_memory_mb=worker_memory_mb, strict=strict, runs_dir=runs_dir, judge=judge,
                         max_body_bytes=max_body_bytes, worker_idle_timeout_s=worker_idle_timeout, sandbox=sandbox == "on")
    try:
        if dataset is not None:
            require_consent(dataset, trust_remote_code)  # before anything starts, even the port
        listener = bind_port(host, port)  # a taken port is one line now, not a banner and a traceback later
    except (ReleaseError, PortUnavailable) as exc:
        _fail(str(exc))
    walls = Sandbox(enabled=config.sandbox)
    try:
        info = walls.check()
    except SandboxUnavailable as exc:
        _fail(f"refusing to run bundle code: {exc}")
    if config.sandbox:
        logging.getLogger("awm.serve").info("sandbox: bubblewrap, uid %s inside (%s outside), Landlock ABI %s, seccomp on",
                                            info["uid_inside"], info["uid_outside"], info["landlock_abi"] or "absent")
    else:
        console.print(*labelled("WARNING", "bold red", "--sandbox off: bundle code runs with this server's privileges and "
                                "can read its files, environment variables (tokens, keys) and network. Use only with code "
                                "you trust."))
    try:
        if dataset is not None:
            selected = load_bundles(dataset, revision, bundle_ids or None, trust_remote_code=trust_remote_code)
        else:
            if revision is not None:
                _fail("--revision needs --dataset")
            selected = select_bundles(bundle_ids or [], bundles or [], strict=strict)
    except (BundleError, ReleaseError, KeyError) as exc:
        _fail(exc.args[0] if isinstance(exc, KeyError) else str(exc))
    preload = list(selected) if bundle_ids or not (bundles or dataset) else []
    try:
        import uvloop
    except ImportError:
        code = asyncio.run(_run(selected, preload, config, walls, listener, log_level, parent))
    else:
        code = uvloop.run(_run(selected, preload, config, walls, listener, log_level, parent))
    raise typer.Exit(code)


async def _run(selected: dict[str, Bundle], preload: list[str], config: ServeConfig, walls: Sandbox, listener: socket.socket,
               log_level: str, parent: int | None) -> int:
    registry = BundleRegistry(selected, strict=config.strict)
    backend: SessionBackend = (WorkerPool(registry, config, walls) if config.workers > 0
                               else SessionManager(registry, config, Judging(config, walls)))
    try:
        if isinstance(backend, WorkerPool):
            await backend.start()
        for bundle_id in preload:  # fail fast, at start-up, with the bundle's own error
            await backend.preload(bundle_id)
        host, port = listener.getsockname()[:2]
        base = f"http://{host}:{port}"
        console.print(f"awm-serve: {len(selected)} bundle(s): {', '.join(selected)}; "
                      + (f"up to {config.workers} worker process(es) per bundle" if config.workers else "no worker processes")
                      + ("; sandbox on" if config.sandbox else "; SANDBOX OFF"))
        console.print(f"  REST    {base}/sessions   docs {base}/docs")
        console.print(f"  MCP     {base}/mcp/<bundle_id>" + (f"   ({base}/mcp)" if len(selected) == 1 else ""))
        console.print(f"  OpenEnv {base}/openenv   (openenv-core clients: reset(bundle_id=..., task_idx=...))")
        console.print(f"  UI      {base}/ui/   (bundles, live sessions" + (", runs)" if config.runs_dir else ")"))
        app = create_app(backend, idle_timeout_s=config.idle_timeout_s, max_body_bytes=config.max_body_bytes,
                         sandbox_info=walls.info)
        server = _Server(uvicorn.Config(app, log_level=log_level.lower(), access_log=False))
        watch = asyncio.create_task(_stop_when_orphaned(server, parent)) if parent is not None else None
        await server.serve(sockets=[listener])
        if watch is not None:
            watch.cancel()
        return 0 if server.started else 1
    except HostError as exc:
        print_error(console, exc.message)
        return 2
    finally:
        listener.close()
        await backend.shutdown()


async def _stop_when_orphaned(server: uvicorn.Server, parent: int) -> None:
    """Shut down as on SIGTERM once `parent` is gone (this process has a new parent: the one who started it died)."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL_S)
    logging.getLogger("awm.serve").warning("the process that started awm-serve (pid %d) is gone: shutting down", parent)
    server.handle_exit(signal.SIGTERM, None)


class _Server(uvicorn.Server):
    """uvicorn, except that SIGINT/SIGTERM only start its graceful shutdown: uvicorn re-raises the signal when
    serve() returns, which would kill this process before it stops its workers and verifier servers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.handle_exit, signum, None)
        try:
            yield
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)


def _fail(message: str) -> None:
    print_error(console, message)
    raise typer.Exit(2)


def select_bundles(bundle_ids: list[str], paths: list[Path], *, strict: bool = False) -> dict[str, Bundle]:
    """Named bundles from the demo and --bundles; with no names, every servable --bundles bundle or the default demo.

    Quarantine: a bundle file that cannot be read, or (when not named) one whose code cannot be served, is
    left out with one line on stderr; a named bundle that cannot be served is an error. `strict`: any problem is.
    """
    errors: list[BundleError] = []
    from_paths = read_bundles(paths, strict=strict, skipped=None if strict else errors) if paths else {}
    skipped = [e.one_line() for e in errors]
    if not bundle_ids:
        if not paths:
            return {DEFAULT_DEMO_BUNDLE: load_demo_bundle(DEFAULT_DEMO_BUNDLE)}
        servable = {}
        for bundle_id, bundle in from_paths.items():
            reason = unservable_reason(bundle)
            if reason:
                skipped.append(f"not serving {bundle_id}: {reason}")
            else:
                servable[bundle_id] = bundle
        _report_skipped(skipped)
        if not servable:
            raise KeyError(f"no servable bundle under {', '.join(map(str, paths))} ({len(skipped)} left out, see above)")
        return servable
    _report_skipped(skipped)
    available = set(demo_bundle_ids()) | set(from_paths)
    unknown = [b for b in bundle_ids if b not in available]
    if unknown:
        raise KeyError(f"unknown bundle(s) {', '.join(unknown)}; available: {', '.join(sorted(available))}"
                       + ("" if paths else " (pass --bundles DIR to serve imported bundles)"))
    selected = {b: from_paths[b] if b in from_paths else load_demo_bundle(b) for b in bundle_ids}
    for bundle_id, bundle in selected.items():
        reason = unservable_reason(bundle)
        if reason:
            raise KeyError(f"bundle {bundle_id} cannot be served: {reason}")
    return selected


def unservable_reason(bundle: Bundle) -> str | None:
    """Why a bundle cannot be served at all (no code, or code that does not parse), or None."""
    if bundle.env_code is None:
        return "it has no environment code (gen_envs)"
    problem = next((p for p in bundle.problems() if p.affects == SERVING), None)
    return str(problem) if problem else None


def _report_skipped(lines: list[str]) -> None:
    for line in lines:
        console.print(*labelled("warning", "yellow", line))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
