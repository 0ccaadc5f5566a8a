"""`awm bundle check`: the differential checker's command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from awm_release.bundle import Bundle, BundleError
from awm_release.bundle_io import read_bundles
from awm_release.check.report import DIVERGENCE, FAULT_IN_BOTH, IMPROVEMENT, BundleReport, summary_json, summary_table
from awm_release.check.runner import check_bundles
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.sandbox.launch import SandboxUnavailable
from awm_release.terminal import labelled, plain_console, print_error

console = plain_console()
if not sys.stdout.isatty():
    console.width = 160  # CI logs: the summary table keeps one line per bundle
err_console = plain_console(stderr=True)


def check_command(
    bundles: Annotated[list[str], typer.Argument(help="Bundle files, folders of them, or embedded demo bundle ids.", show_default=False)],
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every finding (and totals) as JSON here.")] = None,
    jobs: Annotated[Optional[int], typer.Option(help="Bundles checked at once (default: one per core).")] = None,
    show: Annotated[int, typer.Option(help="Findings listed per bundle and category (divergences: all).")] = 5,
    sandbox: Annotated[str, typer.Option(help="on: bundle code runs sandboxed on both sides (awm-serve's workers and the "
                                              "original's servers); off: only for bundles you trust.")] = "on",
) -> None:
    """Run each bundle the original AWM way and in awm-serve, call every tool, and compare.

    The original way is `awm env start`'s: the database file from DDL, indexes and INSERTs by its rules,
    the code as its own uvicorn process running its module-level code on that file, tools from the app's
    OpenAPI called over HTTP as fastapi-mcp calls them. The other side is a real awm-serve over REST.
    Arguments come from the spec's examples, from seed rows, create-then-read sequences per resource, and
    strings that stress encoding in path, query and body (spaces, `:/%#?`, quotes, non-ASCII, empty).
    Outcome class, JSON body (volatile values masked) and the database after each case are compared.

    Each case is an agreement, a divergence (awm-serve's bug), a fault in both (the data's: e.g. a handler
    crashing on its own example) or an improvement (where awm-serve deliberately does better: duplicate routes,
    path values the original mangles). Also listed: code-mode verifiers that say complete on an untouched
    database. Exit 1 if there is any divergence.

    \b
    Examples:
      awm bundle check bookstore_1 task_tracker_1 clinic_booking_1
      awm bundle check bundles/ --json check.json --jobs 8
    """
    try:
        selected = _select(bundles)
    except (BundleError, KeyError) as exc:
        print_error(err_console, exc.args[0] if isinstance(exc, KeyError) else str(exc))
        raise typer.Exit(2) from None
    if sandbox not in ("on", "off"):
        print_error(err_console, f"--sandbox takes 'on' or 'off', not {sandbox!r}")
        raise typer.Exit(2)
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(selected)))
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        overall = progress.add_task(f"checking {len(selected)} bundle(s) on {jobs} core(s)", total=len(selected))
        current: dict[str, int] = {}

        def on_progress(bundle_id: str, done: int, total: int) -> None:
            if bundle_id not in current:
                current[bundle_id] = progress.add_task(f"  {bundle_id}", total=total)
            progress.update(current[bundle_id], completed=done, total=total)

        def on_done(report: BundleReport) -> None:
            progress.advance(overall)
            if report.bundle_id in current:
                progress.remove_task(current.pop(report.bundle_id))

        try:
            reports = check_bundles(selected.values(), jobs=jobs, sandbox=sandbox == "on", on_progress=on_progress, on_done=on_done)
        except SandboxUnavailable as exc:
            print_error(err_console, f"refusing to run bundle code: {exc}")
            raise typer.Exit(2) from None
    wall = time.perf_counter() - started
    console.print(summary_table(reports))
    for report in reports:
        _print_findings(report, show)
    summary = summary_json(reports, wall, jobs)
    console.print(f"{summary['calls']:,} calls per side in {wall:.1f} s ({summary['calls_per_second']} calls/s, "
                  f"{summary['tools_checked']} tools) on {jobs} core(s)")
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"findings: {json_out}")
    if summary["totals"][DIVERGENCE]:
        raise typer.Exit(1)


def _select(names: list[str]) -> dict[str, Bundle]:
    """Demo ids and bundle paths, in the order given (a path that cannot be read is an error: checking needs it all)."""
    selected: dict[str, Bundle] = {}
    demos = set(demo_bundle_ids())
    for name in names:
        if name in demos and not Path(name).exists():
            selected[name] = load_demo_bundle(name)
            continue
        if not Path(name).exists():
            raise KeyError(f"{name}: no such bundle file or folder, and not a demo bundle ({', '.join(sorted(demos))})")
        found = read_bundles([name])
        if not found:
            raise KeyError(f"{name}: no bundle files there")
        selected.update(found)
    return selected


def _print_findings(report: BundleReport, show: int) -> None:
    styles = {DIVERGENCE: "red", FAULT_IN_BOTH: "yellow", IMPROVEMENT: "cyan"}
    for category, style in styles.items():
        found = report.of(category)
        limit = len(found) if category == DIVERGENCE else show
        for finding in found[:limit]:
            console.print(*labelled(category, style, f"{report.bundle_id}: {finding.label}: {finding.detail}"))
        if len(found) > limit:
            console.print(f"  ... and {len(found) - limit} more {category} finding(s) in {report.bundle_id} (--json lists all)")
    if report.complete_untouched:
        console.print(*labelled("verifier", "yellow", f"{report.bundle_id}: tasks {', '.join(map(str, report.complete_untouched))}: "
                                "the code-mode verifier says complete on the untouched database"))
