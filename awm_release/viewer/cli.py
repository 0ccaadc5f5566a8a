"""`awm view` (browse run folders in a browser) and `awm runs diff` (what an episode changed, in the terminal)."""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from awm_release.listening import PortUnavailable, bind_port
from awm_release.terminal import plain_console, print_error
from awm_release.viewer.db_diff import DatabaseDiff, diff_files
from awm_release.viewer.run_folders import FINAL_DB, INITIAL_DB, NotFound, kind, run_root, scan
from awm_release.viewer.server import serve, url_of
from awm_release.viewer.tables import DatabaseUnreadable, show_value

console = plain_console()
err_console = plain_console(stderr=True)
runs_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Inspect run folders (trajectory, initial and final databases, verification).")


def _fail(message: str) -> typer.Exit:
    print_error(err_console, message)
    return typer.Exit(2)


def view_command(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR", show_default=False,
                                                   help="Folders to browse: an `awm eval --out` folder, an `awm agent --out` or "
                                                        "`awm-serve --runs-dir` folder, one episode's run folder, or any folder "
                                                        "holding them.")],
    host: Annotated[str, typer.Option(help="Interface to listen on; keep loopback unless you mean to share the runs.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks any free one.")] = 8765,
    open_browser: Annotated[bool, typer.Option("--open", help="Also open the viewer in the default web browser.")] = False,
) -> None:
    """Browse run folders in a web browser: evaluations, conversations, tool calls, database diffs and verdicts.

    An evaluation shows pass@k, outcomes, its summary plot and every episode.
    An episode shows its conversation turn by turn (thinking folded), each tool call with its arguments and result,
    the database diff initial -> final, and the verifier's verdict and facts.

    Runs a small web server on loopback and prints its URL; Ctrl-C stops it.
    Run folders are only read, never changed.
    Live sessions and bundles are at /ui on a running awm-serve.

    Examples:

    \b
      awm view evals/qwen3-8b             # one evaluation
      awm view evals/                     # every evaluation under evals/
      awm view runs/ evals/base --open    # several folders, in a new tab
      awm view runs/ --port 0             # any free port
    """
    try:
        roots = [run_root(path) for path in run_dirs]
        sock = bind_port(host, port)
        sock.listen()  # now, so the URL printed below answers at once (a browser opened by --open)
    except (NotFound, PortUnavailable) as exc:
        raise _fail(str(exc)) from None
    url = url_of(sock)
    console.print(f"awm view: {len(roots)} folder(s) at {url}  (Ctrl-C to stop)")
    if open_browser:
        webbrowser.open(url)
    try:
        serve(roots, sock)
    except KeyboardInterrupt:
        pass


@runs_app.command("diff")
def diff_command(
    run_folders: Annotated[list[Path], typer.Argument(metavar="RUN_FOLDER", show_default=False,
                                                      help="Episode run folders (holding initial.db and final.db).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON (one object per run folder).")] = False,
) -> None:
    """Show what an episode changed in its database: rows added, removed and changed per table, initial -> final.

    Rows are matched by primary key (rowid where a table has none).
    Works on the run folders of `awm eval` (OUT/episodes/BUNDLE/task_IDX/sample_J), `awm agent` and `awm-serve --runs-dir`.

    Examples:

    \b
      awm runs diff evals/qwen3-8b/episodes/clinic_booking_1/task_0/sample_0
      awm runs diff runs/bookstore_1/task_0/*/ --json | jq '.diff.tables[].table'
    """
    results = []
    for folder in run_folders:
        if not folder.is_dir() or kind(folder) != "episode":
            raise _fail(_not_a_run_folder(folder))
        try:
            results.append((folder, diff_files(folder / INITIAL_DB, folder / FINAL_DB)))
        except DatabaseUnreadable as exc:
            raise _fail(str(exc)) from None
    for folder, diff in results:
        if as_json:
            console.print_json(json.dumps({"run_folder": str(folder), "diff": diff.to_json()}, default=_plain))
        else:
            _print_diff(folder, diff)


def _not_a_run_folder(folder: Path) -> str:
    message = f"{folder} is not a run folder (one holding trajectory.json, initial.db and final.db)"
    if folder.is_dir():
        evals, episodes = scan(folder)
        for evaluation in evals:
            episodes += scan(evaluation)[1]
        if episodes:
            shown = ", ".join(str(p) for p in sorted(episodes)[:3])
            message += f"; it holds {len(episodes)} of them, e.g. {shown}"
    return message


def _print_diff(folder: Path, diff: DatabaseDiff) -> None:
    """Like a patch: a line per table, then a line per row (+ added, - removed, ~ changed: only its changed columns)."""
    console.print(Text(str(folder), style="bold") + (f": {len(diff.tables)} table(s) changed" if diff.tables else ": no table changed"))
    for table in diff.tables:
        counts = table.counts
        heading = Text(table.table, style="bold") + f"  +{counts['added']} -{counts['removed']} ~{counts['changed']}"
        if table.status != "changed":
            heading += f" (table {table.status})"
        console.print(heading + (f"; {table.note}" if table.note else ""))
        for row in table.added:
            console.print(Text("  + ", style="green") + _pairs(row, table.key), style="green")
        for row in table.removed:
            console.print(Text("  - ", style="red") + _pairs(row, table.key), style="red")
        for change in table.changed:
            changes = ", ".join(f"{c}: {show_value(change.before.get(c), 80)} -> {show_value(change.after.get(c), 80)}"
                                for c in change.changed_columns)
            console.print(Text("  ~ ", style="yellow") + _key(change.key) + Text(f"  {changes}"), style="yellow")
        shown = len(table.added) + len(table.removed) + len(table.changed)
        if shown < sum(counts.values()):
            console.print(f"  ... and {sum(counts.values()) - shown} more row(s)")
    if diff.unchanged:
        console.print(Text(f"unchanged: {', '.join(diff.unchanged)}", style="dim"))


def _key(key: dict[str, Any]) -> Text:
    return Text(" ".join(f"{k}={show_value(v, 80)}" for k, v in key.items()), style="bold")


def _pairs(row: dict[str, Any], key: list[str]) -> Text:
    """The row's key in bold, then its other columns (a Text, so markup in the data stays text)."""
    shown = _key({k: row.get(k) for k in key if k in row}) if key != ["rowid"] else Text("")
    rest = ", ".join(f"{c}={show_value(v, 80)}" for c, v in row.items() if c not in key)
    return shown + Text(f"  {rest}" if shown else rest)


def _plain(value: Any) -> Any:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else str(value)
