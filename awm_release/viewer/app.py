"""The viewer's web app: server-rendered pages (Jinja2, autoescaped) and a few lines of JS for live polling.

Mounted at /ui on awm-serve (bundles, live sessions, the server's --runs-dir) and served alone by `awm
view` (run folders only). Everything shown comes from bundles, tool results and databases that may be
hostile, so all of it goes through Jinja's autoescaping, and a Content-Security-Policy allows only the
viewer's own script and stylesheet: a string that slipped through would still not run.

Page handlers that read files or databases are plain functions, which Starlette runs in its thread
pool, so a large run never stalls the event loop that serves RL traffic beside it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import awm_release
from awm_release.agent.outcomes import OUTCOMES
from awm_release.agent.results import PLOT_FILE
from awm_release.viewer import run_folders
from awm_release.viewer.db_diff import diff_files
from awm_release.viewer.live import LiveSource
from awm_release.viewer.paging import paginate
from awm_release.viewer.run_folders import FINAL_DB, INITIAL_DB, NotFound, RunRoot
from awm_release.viewer.tables import DatabaseUnreadable, describe_tables, open_file, open_image, row_page, show_value
from awm_release.viewer.trajectory import call_view, episode_view, pretty

HERE = Path(__file__).parent
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
LIVE_ONLY = "this page needs a running awm-serve: open /ui on the server (awm view browses run folders only)"


class HostileContentGuard:
    """Adds the Content-Security-Policy and companions to every response of the viewer."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["urlpath"] = lambda value: quote(str(value), safe="/")
    env.filters["cell"] = show_value
    env.filters["pretty"] = pretty
    env.filters["clock"] = lambda epoch: datetime.fromtimestamp(float(epoch)).strftime("%Y-%m-%d %H:%M:%S")
    env.globals.update(outcomes=OUTCOMES, version=awm_release.__version__)
    return env


def create_viewer(run_roots: Sequence[RunRoot] = (), live: LiveSource | None = None) -> ASGIApp:
    """The viewer as an ASGI app to mount (at /ui); `live` connects it to a running awm-serve."""
    templates = _templates()
    # Compile the templates now, beside start-up, rather than in the first page's response (~0.1 s).
    threading.Thread(target=lambda: [templates.get_template(name) for name in templates.list_templates()],
                     name="viewer-templates", daemon=True).start()
    roots = list(run_roots)

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(template).render(base=request.scope.get("root_path", ""), live=live is not None,
                                                        roots=roots, **context)
        return HTMLResponse(html, status_code=status)

    def problem(request: Request, message: str, status: int = 404) -> HTMLResponse:
        return page(request, "error.html", status, message=message)

    def number(request: Request, name: str = "page") -> int:
        try:
            return int(request.query_params.get(name, "1"))
        except ValueError:
            return 1

    def root_at(index: int) -> RunRoot:
        if not 0 <= index < len(roots):
            raise NotFound(f"there is no run root {index}")
        return roots[index]

    # ------------------------------------------------------------------ home and runs

    def home(request: Request) -> Response:
        if live is None and len(roots) == 1:
            return runs_page_at(request, 0, "")
        return page(request, "home.html", bundles=sorted(live.bundles) if live else [])

    def runs_index(request: Request) -> Response:
        return page(request, "runs.html")

    def runs_page(request: Request) -> Response:
        return runs_page_at(request, request.path_params["root"], request.path_params["rel"])

    def runs_page_at(request: Request, index: int, rel: str) -> Response:
        try:
            root = root_at(index)
            folder = run_folders.locate(root, rel)
            rel = "" if folder == root.path else str(folder.relative_to(root.path))
            where = {"root": root, "index": index, "rel": rel, "prefix": f"{rel}/" if rel else "", "crumbs": _crumbs(rel)}
            found = run_folders.kind(folder)
            if found == "eval":
                return _evaluation_page(request, folder, where)
            if found == "episode":
                return _episode_page(request, folder, where)
            evals, episodes = run_folders.scan(folder)
            listed = paginate(episodes, number(request))
            rows = [(str(p.relative_to(root.path)), run_folders.episode_header(p)) for p in listed.items]
            return page(request, "folder.html", **where, evals=[str(p.relative_to(root.path)) for p in evals],
                        episodes=rows, listing=listed)
        except NotFound as exc:
            return problem(request, str(exc))

    def _evaluation_page(request: Request, folder: Path, where: dict[str, Any]) -> Response:
        evaluation = run_folders.read_evaluation(folder)
        outcome, bundle = request.query_params.get("outcome") or None, request.query_params.get("bundle") or None
        shown = paginate(run_folders.filter_records(evaluation.records, outcome, bundle), number(request))
        filters = {name: value for name, value in (("outcome", outcome), ("bundle", bundle)) if value}
        return page(request, "evaluation.html", **where, evaluation=evaluation, shown=shown, outcome=outcome, bundle=bundle,
                    filters=filters, bundles=sorted(evaluation.summary["per_environment"]), k=evaluation.summary["k"])

    def _episode_page(request: Request, folder: Path, where: dict[str, Any]) -> Response:
        trajectory, verifications = run_folders.read_episode(folder)
        view = episode_view(trajectory, verifications)
        try:
            diff, diff_error = diff_files(folder / INITIAL_DB, folder / FINAL_DB), None
        except (DatabaseUnreadable, sqlite3.Error) as exc:
            diff, diff_error = None, str(exc)
        return page(request, "episode.html", **where, view=view, diff=diff, diff_error=diff_error)

    def episode_rows(request: Request) -> Response:
        try:
            root = root_at(request.path_params["root"])
            folder = run_folders.locate(root, request.path_params["rel"])
            if run_folders.kind(folder) != "episode":
                raise NotFound(f"{request.path_params['rel']} is not a run folder")
            which = request.query_params.get("db", "final")
            if which not in ("initial", "final"):
                raise NotFound("db is initial or final")
            rel = str(folder.relative_to(root.path))
            with open_file(folder / (INITIAL_DB if which == "initial" else FINAL_DB)) as db:
                return _rows_page(request, db, title=f"{which}.db of {rel}",
                                  back=f"/runs/{request.path_params['root']}/{quote(rel)}", extra={"db": which})
        except (NotFound, DatabaseUnreadable) as exc:
            return problem(request, str(exc))

    def plot(request: Request) -> Response:
        try:
            folder = run_folders.locate(root_at(request.path_params["root"]), request.path_params["rel"])
        except NotFound as exc:
            return problem(request, str(exc))
        if run_folders.kind(folder) != "eval" or not (folder / PLOT_FILE).is_file():
            return problem(request, f"no {PLOT_FILE} here")
        return FileResponse(folder / PLOT_FILE, media_type="image/png")

    def _rows_page(request: Request, db: Any, *, title: str, back: str, extra: dict[str, str]) -> Response:
        tables = describe_tables(db)
        name = request.query_params.get("table") or (tables[0].name if tables else "")
        try:
            rows = row_page(db, name, number(request)) if tables else None
        except KeyError as exc:
            return problem(request, exc.args[0])
        return page(request, "rows.html", title=title, back=back, tables=tables, rows=rows, query=extra)

    # ------------------------------------------------------------------ live: bundles and sessions

    async def bundles_page(request: Request) -> Response:
        if live is None:
            return problem(request, LIVE_ONLY)
        return page(request, "bundles.html", bundles=list(live.bundles.values()))

    def unserved(request: Request) -> Response | None:
        """The page to show instead of a bundle's when there is no server, or it serves no such bundle."""
        if live is None:
            return problem(request, LIVE_ONLY)
        if request.path_params["bundle_id"] not in live.bundles:
            return problem(request, f"this server does not serve a bundle {request.path_params['bundle_id']!r}")
        return None

    async def bundle_page(request: Request) -> Response:
        if (refusal := unserved(request)) is not None:
            return refusal
        bundle_id = request.path_params["bundle_id"]
        info, tables, error = await _bundle_state(bundle_id)
        assert live is not None
        bundle = live.bundles[bundle_id]
        return await run_in_threadpool(page, request, "bundle.html", bundle=bundle, info=info, tables=tables, error=error,
                                       ddl={t.name: t.ddl for t in bundle.tables})

    async def _bundle_state(bundle_id: str) -> tuple[dict[str, Any], list[Any], str | None]:
        assert live is not None
        try:
            info = await live.bundle_info(bundle_id)
            image = await live.seed_image(bundle_id)
        except Exception as exc:  # a bundle that fails to load is shown with its error, not as a server error
            return {"tools": [], "tasks": [], "seed_failures": []}, [], _host_message(exc)
        return info, await run_in_threadpool(_describe_image, image), None

    async def bundle_rows(request: Request) -> Response:
        if (refusal := unserved(request)) is not None:
            return refusal
        bundle_id = request.path_params["bundle_id"]
        assert live is not None
        try:
            image = await live.seed_image(bundle_id)
        except Exception as exc:
            return problem(request, _host_message(exc), 500)

        def render() -> Response:
            with open_image(image) as db:
                return _rows_page(request, db, title=f"seed database of {bundle_id}", back=f"/bundles/{bundle_id}", extra={})

        return await run_in_threadpool(render)

    async def sessions_page(request: Request) -> Response:
        if live is None:
            return problem(request, LIVE_ONLY)
        sessions = paginate(await live.sessions(), number(request))
        template = "session_rows.html" if request.query_params.get("fragment") else "sessions.html"
        return page(request, template, sessions=sessions)

    async def session_page(request: Request) -> Response:
        if live is None:
            return problem(request, LIVE_ONLY)
        session_id = request.path_params["session_id"]
        try:
            session = next(s for s in await live.sessions() if s["session_id"] == session_id)
        except StopIteration:
            return problem(request, f"no open session {session_id!r}: it was closed or expired (saved sessions are under Runs)")
        return page(request, "session.html", session=session)

    async def session_calls(request: Request) -> Response:
        """New calls as an HTML fragment for the live page's poller, and where to continue from."""
        if live is None:
            return JSONResponse({"open": False, "html": "", "next": 0})
        since = max(number(request, "since"), 0)
        try:
            record = await live.calls(request.path_params["session_id"], since)
        except Exception as exc:
            return JSONResponse({"open": False, "html": "", "next": since, "reason": _host_message(exc)})
        total = record["calls_total"]
        restarted = total < since  # the session was reset: its record starts over
        calls = [call_view(c) for c in record["calls"]]
        html = templates.get_template("calls.html").render(calls=calls, base=request.scope.get("root_path", ""))
        return JSONResponse({"open": True, "html": html, "next": (0 if restarted else since) + len(calls),
                             "total": total, "restarted": restarted, "recording": record["recording"]})

    routes = [
        Route("/", home),
        Route("/runs", runs_index),
        Route("/runs/{root:int}/{rel:path}", runs_page),
        Route("/rows/{root:int}/{rel:path}", episode_rows),
        Route("/plot/{root:int}/{rel:path}", plot),
        Route("/bundles", bundles_page),
        Route("/bundles/{bundle_id}", bundle_page),
        Route("/bundles/{bundle_id}/rows", bundle_rows),
        Route("/sessions", sessions_page),
        Route("/sessions/{session_id}", session_page),
        Route("/sessions/{session_id}/calls", session_calls),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return HostileContentGuard(Starlette(routes=routes))


def _describe_image(image: bytes) -> list[Any]:
    with open_image(image) as db:
        return describe_tables(db)


def _host_message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)


def _crumbs(rel: str) -> list[tuple[str, str]]:
    """(name, path) of every folder from the root down to `rel`."""
    parts = [p for p in rel.split("/") if p]
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]
