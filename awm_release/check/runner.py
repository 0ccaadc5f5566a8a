"""Checking bundles: each one the original way and through a real awm-serve, case by case, on every core.

One awm-serve process serves every bundle being checked (with a worker per job); each bundle is checked in
a process of its own, which starts the bundle's original server, runs every case on both sides from the
same database, and compares. A case that differs is run once more on the original, so that what varies
between two runs of the original itself (random ids, the clock) is masked before anything is called a
divergence.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from awm_release.bundle import Bundle
from awm_release.bundle_io import write_bundle
from awm_release.check.cases import Case, FromStep, SeedValues, build_cases, created_id
from awm_release.check.compare import (Outcome, database_differences, dump_database, json_differences, outcome_of_call,
                                       same_outcome, volatile_tables)
from awm_release.check.original import OriginalServer, OriginalStartError
from awm_release.check.report import AGREEMENT, DIVERGENCE, FAULT_IN_BOTH, IMPROVEMENT, BundleReport
from awm_release.check.routing import RouteTable, misrouted
from awm_release.routes import declared_routes
from awm_release.sandbox.launch import Sandbox
from awm_release.synthesis.probe import spec_endpoints
from env_server.process import ServerProcess

Progress = Callable[[str, int, int], None]  # (bundle_id, cases done, cases in all)


class Ours:
    """A bundle's session on the awm-serve under test, over REST."""

    def __init__(self, client: httpx.Client, bundle_id: str):
        self.client = client
        response = client.post("/sessions", json={"bundle_id": bundle_id, "record": False})
        if response.status_code != 201:
            raise RuntimeError(response.json().get("error", {}).get("message", response.text))
        self.session = response.json()["session_id"]
        self.clean = False  # known to hold the seed state

    def tools(self) -> list[dict[str, Any]]:
        return self.client.get(f"/sessions/{self.session}/tools").json()["tools"]

    def reset(self) -> None:
        if not self.clean:  # a case that wrote nothing leaves nothing to reset
            self.client.post(f"/sessions/{self.session}/reset").raise_for_status()
        self.clean = True

    def call(self, tool: str, arguments: dict[str, Any]) -> Outcome:
        response = self.client.post(f"/sessions/{self.session}/call", json={"tool": tool, "arguments": arguments})
        if response.status_code != 200:
            return Outcome("crash", response.status_code, None)
        return outcome_of_call(response.json())

    def image(self) -> bytes:
        return self.client.get(f"/sessions/{self.session}/database").content

    def database(self, image: bytes | None = None) -> dict[str, Any]:
        conn = sqlite3.connect(":memory:")
        conn.deserialize(image if image is not None else self.image())
        try:
            return dump_database(conn)
        finally:
            conn.close()

    def close(self) -> None:
        self.client.delete(f"/sessions/{self.session}")


def check_bundle(bundle: Bundle, serve_url: str, workdir: Path, sandbox: Sandbox, progress: Progress | None = None) -> BundleReport:
    """Run every case of one bundle on both sides and classify each (the original's process inside `sandbox`)."""
    started = time.perf_counter()
    report = BundleReport(bundle.bundle_id)
    report.tools["spec"] = len(spec_endpoints(bundle.api_spec)) if bundle.api_spec is not None else None
    client = httpx.Client(base_url=serve_url, timeout=60)
    try:
        ours = Ours(client, bundle.bundle_id)
    except (RuntimeError, httpx.HTTPError) as exc:
        report.status = f"not served by awm-serve: {exc}"
        return _finish(report, started)
    original = OriginalServer(bundle, workdir / bundle.bundle_id, sandbox)
    try:
        original.start()
    except OriginalStartError as exc:
        report.status = f"the original runtime could not start it: {exc}"
        report.add(IMPROVEMENT, "the bundle", "the original runtime could not start the server; awm-serve serves it")
        ours.close()
        original.stop()
        return _finish(report, started)
    try:
        _check_started(bundle, report, ours, original, progress)
    finally:
        ours.close()
        original.stop()
        client.close()
    return _finish(report, started)


def _check_started(bundle: Bundle, report: BundleReport, ours: Ours, original: OriginalServer, progress: Progress | None) -> None:
    initial = database_differences(ours.database(), _dump(original), set())
    if initial:
        report.add(DIVERGENCE, "the initial database", "; ".join(initial))
    tools = ours.tools()
    names = [t["name"] for t in tools]
    report.tools.update(here=len(names), original=len(set(original.tool_names)))
    for missing in sorted(set(original.tool_names) - set(names)):
        report.add(DIVERGENCE, f"tool {missing}", "the original serves this tool, awm-serve does not")
    routes = RouteTable(declared_routes(bundle.env_code) or [])
    seed_conn = original.database()
    cases = build_cases(tools, bundle.api_spec, SeedValues(seed_conn), routes)
    seed_conn.close()
    ours.reset()
    original.reset()
    pristine = Pristine(ours.image(), _dump(original))
    for done, case in enumerate(cases, start=1):
        category, detail = _run_case(case, ours, original, routes, pristine)
        report.add(category, case.label, detail, kind=case.kind)
        report.calls += len(case.steps)
        if progress is not None:
            progress(bundle.bundle_id, done, len(cases))
    _check_verifiers(bundle, report, ours)


@dataclass(frozen=True)
class Pristine:
    """Both databases as a reset leaves them: a case after which neither has moved needs no dump."""

    image: bytes  # awm-serve's session database, serialized
    dump: dict[str, Any]  # the original's database, dumped


def _run_case(case: Case, ours: Ours, original: OriginalServer, routes: RouteTable, pristine: Pristine) -> tuple[str, str]:
    first = _run_original(case, original, pristine)
    ours.reset()
    mine: list[Outcome] = []
    reasons: list[str] = []
    for i, (tool, _) in enumerate(case.steps):
        arguments = first.arguments[i]  # exactly what the original was asked
        mine.append(ours.call(tool, arguments))
        target = original.operations.get(tool)
        reason = misrouted(routes, tool, (target.method, target.path) if target else None, arguments)
        if reason:
            reasons.append(f"step {i + 1} ({tool}): {reason}")
    image = ours.image()
    ours.clean = image == pristine.image
    ours_db = {} if ours.clean and first.database is pristine.dump else ours.database(image)
    original_db = {} if not ours_db else first.database
    differences = _differences(case, mine, first, ours_db, original_db, [set()] * len(mine), set())
    if differences:  # run the original again: what differs between two of its own runs is not ours to match
        again = _run_original(case, original, pristine, first)
        masks = [set(json_differences(a.body, b.body)) if a and b else set() for a, b in zip(first.outcomes, again.outcomes)]
        volatile = volatile_tables(first.database, again.database)
        differences = _differences(case, mine, first, ours.database(image), first.database, masks, volatile)
    if differences:
        return (IMPROVEMENT, "; ".join(reasons)) if reasons else (DIVERGENCE, "; ".join(differences))
    crashes = [f"step {i + 1} ({tool}) crashes on both sides" for i, ((tool, _), o) in enumerate(zip(case.steps, mine)) if o.kind == "crash"]
    return (FAULT_IN_BOTH, "; ".join(crashes)) if crashes else (AGREEMENT, "")


@dataclass
class _OriginalRun:
    outcomes: list[Outcome | None] = field(default_factory=list)
    arguments: list[dict[str, Any]] = field(default_factory=list)
    database: dict[str, Any] = field(default_factory=dict)  # `pristine.dump` itself when nothing was written


def _run_original(case: Case, original: OriginalServer, pristine: Pristine, previous: _OriginalRun | None = None) -> _OriginalRun:
    """The case's steps on the original from a reset (a rerun asks exactly what `previous` asked)."""
    if previous is not None or original.dirty():
        original.reset()
    run = _OriginalRun()
    for i, (tool, raw) in enumerate(case.steps):
        arguments = previous.arguments[i] if previous is not None else _resolve(raw, run)
        run.arguments.append(arguments)
        run.outcomes.append(original.call(tool, arguments) if tool in original.operations else None)
        if not original.alive():  # the handler took its server down: what the original does is a crash; serve again
            run.outcomes[-1] = Outcome("crash", None, None)
            original.stop()
            original.start()
    run.database = _dump(original) if original.dirty() else pristine.dump
    return run


def _resolve(arguments: dict[str, Any], original: _OriginalRun) -> dict[str, Any]:
    """Fill `FromStep` values from the original's earlier answers, dropping those that cannot be found."""
    resolved = {}
    for name, value in arguments.items():
        if isinstance(value, FromStep):
            answer = original.outcomes[value.step] if value.step < len(original.outcomes) else None
            value = created_id(answer.body, value.name) if answer is not None and answer.kind == "ok" else None
            if value is None:
                continue
        resolved[name] = value
    return resolved


def _differences(case: Case, mine: list[Outcome], original: _OriginalRun, ours_db: dict[str, Any], original_db: dict[str, Any],
                 masks: list[set[str]], volatile: set[str]) -> list[str]:
    out = []
    for i, ((tool, _), here) in enumerate(zip(case.steps, mine)):
        theirs = original.outcomes[i]
        if theirs is None:
            out.append(f"step {i + 1} ({tool}): only awm-serve has this tool")
            continue
        difference = same_outcome(here, theirs, masks[i])
        if difference:
            out.append(f"step {i + 1} ({tool}): {difference}")
    out += [f"database: {d}" for d in database_differences(ours_db, original_db, volatile)]
    return out


def _check_verifiers(bundle: Bundle, report: BundleReport, ours: Ours) -> None:
    """Code-mode verifiers that say `complete` on an untouched database (the data's fault: the task is free)."""
    for verifier in bundle.verifiers:
        if verifier.code is None or bundle.verifier_problem(verifier.task_idx, "code") or verifier.task_idx >= len(bundle.tasks):
            continue
        session = ours.client.post("/sessions", json={"bundle_id": bundle.bundle_id, "task_idx": verifier.task_idx, "record": False})
        if session.status_code != 201:
            continue
        session_id = session.json()["session_id"]
        result = ours.client.post(f"/sessions/{session_id}/verify", json={"mode": "code"})
        ours.client.delete(f"/sessions/{session_id}")
        if result.status_code == 200 and result.json().get("result") == "complete":
            report.complete_untouched.append(verifier.task_idx)


def _dump(original: OriginalServer) -> dict[str, Any]:
    conn = original.database()
    try:
        return dump_database(conn)
    finally:
        conn.close()


def _finish(report: BundleReport, started: float) -> BundleReport:
    report.seconds = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------------- many bundles


def check_bundles(bundles: Iterable[Bundle], *, jobs: int | None = None, sandbox: bool = True, on_progress: Progress | None = None,
                  on_done: Callable[[BundleReport], None] | None = None) -> list[BundleReport]:
    """Check every bundle, `jobs` at a time (default: one per core), against one awm-serve serving them all.

    Bundle code runs sandboxed on both sides (awm-serve's workers, the original's servers); `sandbox=False`
    turns that off for code you trust. Raises SandboxUnavailable, before starting anything, where the sandbox
    cannot be set up.
    """
    bundles = list(bundles)
    jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(bundles)))
    checked_sandbox(sandbox)
    workdir = Path(tempfile.mkdtemp(prefix="awm-check-"))
    try:
        for bundle in bundles:
            write_bundle(bundle, workdir / "bundles")
        serve = ["--bundles", str(workdir / "bundles"), "--workers", str(jobs), "--sandbox", "on" if sandbox else "off"]
        with ServerProcess(serve, log_level="error") as server:
            return _check_in_parallel(bundles, server.url, workdir, jobs, sandbox, on_progress, on_done)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@cache
def checked_sandbox(enabled: bool) -> Sandbox:
    """This process's sandbox for the original servers, proven to work (once per process)."""
    sandbox = Sandbox(enabled=enabled)
    sandbox.check()
    return sandbox


def _check_in_parallel(bundles: list[Bundle], url: str, workdir: Path, jobs: int, sandbox: bool, on_progress: Progress | None,
                       on_done: Callable[[BundleReport], None] | None) -> list[BundleReport]:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=context) as pool:
        updates = manager.Queue()
        futures = {pool.submit(_check_in_child, b.model_dump(mode="json"), url, str(workdir / "original"), sandbox, updates):
                   b.bundle_id for b in bundles}
        reports: dict[str, BundleReport] = {}
        while len(reports) < len(futures):
            try:
                update = updates.get(timeout=0.2)
                if on_progress is not None:
                    on_progress(*update)
            except queue.Empty:
                pass
            for future, bundle_id in futures.items():
                if bundle_id not in reports and future.done():
                    reports[bundle_id] = BundleReport.from_json(future.result())
                    if on_done is not None:
                        on_done(reports[bundle_id])
        return [reports[b.bundle_id] for b in bundles]


def _check_in_child(bundle_data: dict[str, Any], url: str, workdir: str, sandbox: bool, updates: Any) -> dict[str, Any]:
    bundle = Bundle.model_validate(bundle_data)
    return check_bundle(bundle, url, Path(workdir), checked_sandbox(sandbox), lambda *update: updates.put(update)).to_json()
