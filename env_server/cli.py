"""`awm-serve`: serve bundles as isolated per-session tool APIs over REST and MCP."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn
from rich.console import Console

from awm_release.bundle import BundleError
from awm_release.bundle_io import read_bundles
from awm_release.demo import DEFAULT_DEMO_BUNDLE, demo_bundle_ids, load_demo_bundle
from env_server.app import create_app
from env_server.errors import HostError
from env_server.sessions import BundleRegistry, SessionManager

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(add_completion=False, rich_markup_mode="rich", pretty_exceptions_show_locals=False)


@app.command(
    help=(
        "Serve AWM environment bundles: every session gets its own copy of the bundle's SQLite database.\n\n"
        "With no arguments, serves the embedded demo bundle [bold]bookstore_1[/bold]. Examples:\n\n"
        "  awm-serve                                   # the demo, on http://127.0.0.1:8000\n\n"
        "  awm-serve task_tracker_1 clinic_booking_1   # other embedded demo bundles\n\n"
        "  awm-serve --bundles bundles/                # every bundle written by `awm import-awm1k`\n\n"
        "  awm-serve content_platform_1 --bundles bundles/\n\n"
        "REST: POST /sessions, GET /sessions/{id}/tools, POST /sessions/{id}/call, /reset, /verify, "
        "GET /sessions/{id}/database, DELETE /sessions/{id}; docs at /docs.\n\n"
        "MCP (streamable HTTP): /mcp/{bundle_id} (one environment per MCP session), /mcp when one bundle "
        "is served, and /sessions/{id}/mcp for a session created over REST."
    )
)
def serve(
    bundle_ids: Annotated[Optional[list[str]], typer.Argument(metavar="[BUNDLE_ID]...", help="Bundles to serve (default: the demo bundle, or every bundle under --bundles).")] = None,
    bundles: Annotated[Optional[list[Path]], typer.Option("--bundles", "-b", help="Bundle file or folder of bundle files; repeatable.")] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; keep 127.0.0.1 unless you mean to expose it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    allow_seed_errors: Annotated[bool, typer.Option(help="Serve bundles whose seed INSERTs partly fail (failures are logged and listed at /bundles/{id}).")] = False,
    max_sessions: Annotated[int, typer.Option(help="Refuse new sessions beyond this many.")] = 10_000,
    idle_timeout: Annotated[float, typer.Option(help="Close sessions unused for this many seconds.")] = 1800.0,
    verifier_timeout: Annotated[float, typer.Option(help="Kill a verifier running longer than this many seconds.")] = 30.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        selected = select_bundles(bundle_ids or [], bundles or [])
        registry = BundleRegistry(selected, allow_seed_errors=allow_seed_errors)
        for bundle_id in selected:  # fail fast, at start-up, with the bundle's own error
            registry.hydrate(bundle_id)
    except (BundleError, HostError, KeyError) as exc:
        message = exc.message if isinstance(exc, HostError) else (exc.args[0] if isinstance(exc, KeyError) else str(exc))
        console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    manager = SessionManager(registry, max_sessions=max_sessions, idle_timeout_s=idle_timeout,
                             verifier_timeout_s=verifier_timeout)
    base = f"http://{host}:{port}"
    console.print(f"awm-serve: {len(selected)} bundle(s): {', '.join(selected)}")
    console.print(f"  REST {base}/sessions   docs {base}/docs")
    console.print(f"  MCP  {base}/mcp/<bundle_id>" + (f"   ({base}/mcp)" if len(selected) == 1 else ""))
    uvicorn.run(create_app(manager), host=host, port=port, log_level=log_level.lower(), access_log=False)


def select_bundles(bundle_ids: list[str], paths: list[Path]) -> dict:
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
