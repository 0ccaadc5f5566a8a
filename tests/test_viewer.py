"""The viewer in a real headless Chromium: `awm view` over real `awm eval` / `awm agent` / `--runs-dir` folders, and
/ui on a real awm-serve (bundles, live sessions), with a hostile bundle whose text tries to run script everywhere.

Runs come from the real CLI driven by the scripted OpenAI-compatible model of tests/test_agent.py. The browser is
Debian's chromium driven by Playwright (no browser download); CI installs it (.ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlite_utils

from awm_release.bundle_io import write_bundle
from awm_release.demo import load_demo_bundle
from awm_release.scripted_llm import ScriptedLLM
from awm_release.viewer.db_diff import diff_files
from awm_release.viewer.run_folders import NotFound, locate, run_root
from awm_release.viewer.tables import open_file, row_page
from tests.conftest import RunningServer, pack_demo_release, run_server
from tests.test_agent import DemoPlayer, run_cli

CHROMIUM = Path(os.environ.get("AWM_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
BUNDLE = "clinic_booking_1"
# Task 0 is solved, task 4 ends on a malformed turn (sample 0) and is then solved (sample 1).
BEHAVIOURS = {(BUNDLE, 0): ["solve"], (BUNDLE, 4): ["malformed", "solve"]}
PWN = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">"
HOSTILE = "hostile_store_1"
HOSTILE_TABLE = "<i>notes</i>"


# ------------------------------------------------------------------ fixtures: real runs, real servers, a real browser


@pytest.fixture(scope="module", autouse=True)
def datasets_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    import datasets.config

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("datasets-cache"))
        yield


def hostile_bundle():
    """bookstore_1 with script in its name, description, a task, an author's name (tool results) and a table."""
    bundle = load_demo_bundle("bookstore_1")
    seed = [s.model_copy(update={"insert_statements": [sql.replace("'Ursula K. Le Guin'", f"'Ursula K. Le Guin {PWN}'")
                                                        for sql in s.insert_statements]}) for s in bundle.seed]
    table = bundle.tables[0].model_copy(update={"name": HOSTILE_TABLE, "indexes": [],
                                                "ddl": f'CREATE TABLE "{HOSTILE_TABLE}" (id INTEGER PRIMARY KEY, body TEXT)'})
    seed.append(seed[0].model_copy(update={"table_name": HOSTILE_TABLE, "reasoning": PWN,
                                           "insert_statements": [f"INSERT INTO \"{HOSTILE_TABLE}\" VALUES (1, '{PWN}')"]}))
    return bundle.model_copy(update={"bundle_id": HOSTILE, "display_name": f"Hostile {PWN}", "description": f"{PWN} a shop",
                                     "tasks": [f"{PWN} add a book", *bundle.tasks[1:]], "tables": [*bundle.tables, table],
                                     "seed": seed})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("viewer")
    pack_demo_release(folder)
    write_bundle(hostile_bundle(), folder / "hostile")
    return folder


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[RunningServer]:
    """awm-serve with the viewer at /ui: the demo clinic, the hostile bundle, and a runs directory."""
    yield from run_server([BUNDLE, HOSTILE, "--bundles", str(workspace / "hostile"), "--workers", "1",
                           "--runs-dir", str(workspace / "runs")])


@pytest.fixture(scope="module")
def runs(workspace: Path, server: RunningServer) -> dict[str, Any]:
    """An `awm eval` run (2 tasks x 2 episodes), an `awm agent` episode, and sessions saved by awm-serve."""
    with ScriptedLLM(DemoPlayer(BEHAVIOURS)) as llm:
        common = ["--model", llm.model, "--base-url", llm.base_url, "--server", server.url, "--seed", "0"]
        evaluated = run_cli(["eval", "--dataset", str(workspace / "release"), "--split", "test", "--k", "2", "--out",
                             str(workspace / "eval"), "--task", f"{BUNDLE}:0", "--task", f"{BUNDLE}:4", *common])
        assert evaluated.exit_code == 0, evaluated.output
        agent = run_cli(["agent", "--bundle", BUNDLE, "--task-idx", "0", "--out", str(workspace / "agent"), *common])
        assert agent.exit_code == 0, agent.output
    client = server.client
    session = client.post("/sessions", json={"bundle_id": HOSTILE, "task_idx": 0}).json()["session_id"]
    client.post(f"/sessions/{session}/call", json={"tool": "search_books", "arguments": {"query": "Le Guin"}})
    client.post(f"/sessions/{session}/call", json={"tool": "create_book_review", "arguments": {
        "book_id": 8, "rating": 5, "title": PWN, "review_text": PWN}})
    client.post(f"/sessions/{session}/call", json={"tool": "get_book_details", "arguments": {"book_id": 999999}})
    client.post(f"/sessions/{session}/verify", json={})
    saved = client.delete(f"/sessions/{session}", params={"save": "true"}).json()["saved_to"]
    return {"eval": workspace / "eval", "agent": workspace / "agent", "saved": Path(saved), "runs_dir": workspace / "runs"}


class AwmView:
    """`awm view FOLDERS --port 0` as a user starts it; the URL is read from what it prints."""

    def __init__(self, folders: list[Path]):
        self.proc = subprocess.Popen([sys.executable, "-m", "awm_release.cli", "view", *map(str, folders), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/ui/)", line)
        if match is None:
            self.stop()
            raise AssertionError(f"awm view printed no URL: {line}{self.proc.stdout.read()}")
        self.url = match.group(1).rstrip("/")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)  # awm view stops on SIGTERM: a hang fails the test


@pytest.fixture(scope="module")
def view(runs: dict[str, Any]) -> Iterator[AwmView]:
    viewer = AwmView([runs["eval"], runs["agent"], runs["runs_dir"]])
    yield viewer
    viewer.stop()


class Browser:
    """Headless Chromium; every page it opens is watched for console errors and uncaught exceptions."""

    def __init__(self, playwright: Any):
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})  # a fresh profile each time
        self.problems: list[str] = []

    def open(self, url: str) -> Any:
        page = self.context.new_page()
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
        return page

    def assert_clean(self, page: Any) -> None:
        assert page.evaluate("() => window.__pwned") is None, "script from the data ran"
        assert self.problems == [], self.problems
        page.close()


@pytest.fixture(scope="module")
def browser(runs: dict[str, Any]) -> Iterator[Browser]:
    """Started after the runs are made: Playwright's sync API keeps an event loop running, and the CLIs need their own."""
    if not CHROMIUM.exists():
        pytest.fail(f"the viewer's browser test needs Debian's chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(bash .ci/run installs it), or point AWM_TEST_CHROMIUM at a Chromium binary")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        driver = Browser(playwright)
        yield driver
        driver.browser.close()


# ------------------------------------------------------------------ awm view: evaluations and trajectories


def test_evaluation_page_shows_pass_at_k_outcomes_plot_and_episodes(view, runs, browser):
    summary = json.loads((runs["eval"] / "summary.json").read_text())
    page = browser.open(f"{view.url}/runs/0/")
    assert page.locator("h1").inner_text().startswith("scripted-model")
    pass_table = page.locator("section table").first
    assert pass_table.locator("th").all_inner_texts()[:2] == ["pass@1", "pass@2"]
    assert pass_table.locator("td").first.inner_text() == f"{100 * summary['pass_at']['1']:.1f}%"
    assert page.locator("img.plot").evaluate("img => img.complete && img.naturalWidth > 0")
    rows = page.locator("#episodes ~ table tbody tr")
    assert rows.count() == summary["episodes"] == 4
    page.select_option("select[name=outcome]", "format_error")
    page.click("form.filters button")
    page.wait_for_url(re.compile(r"outcome=format_error"))
    assert page.locator("#episodes ~ table tbody tr").count() == summary["outcomes"]["format_error"] == 1
    browser.assert_clean(page)


def test_trajectory_renders_turns_tool_calls_diff_and_verdict(view, runs, browser):
    folder = runs["eval"] / "episodes" / BUNDLE / "task_0" / "sample_0"
    trajectory = json.loads((folder / "trajectory.json").read_text())
    page = browser.open(f"{view.url}/runs/0/")
    page.click(f"a[href$='/episodes/{BUNDLE}/task_0/sample_0']")
    page.wait_for_url(re.compile(r"sample_0$"))
    assert page.locator(".task").first.inner_text() == trajectory["task"]
    turns = page.locator("article.turn")
    assert turns.count() == len(trajectory["turns"])
    assert page.locator("article.turn .call .tool").all_inner_texts() == [c["tool"] for c in trajectory["calls"]]
    first = page.locator("article.turn .call").first
    assert json.loads(first.locator("pre.json").first.inner_text()) == trajectory["calls"][0]["arguments"]
    assert json.loads(first.locator("pre.json").nth(1).inner_text()) == trajectory["calls"][0]["result"]
    thinking = page.locator("details.thinking").first
    assert not thinking.evaluate("d => d.open") and not thinking.locator("pre").is_visible()
    thinking.locator("summary").click()
    assert thinking.locator("pre").inner_text() == trajectory["turns"][0]["thinking"]
    assert page.locator("#verdict .badge").first.inner_text() == trajectory["verification"]["result"] == "complete"
    expected = diff_files(folder / "initial.db", folder / "final.db")
    shown = page.locator(".table-diff")
    assert shown.evaluate_all("tables => tables.map(t => t.dataset.table)") == [t.table for t in expected.tables]
    appointments = page.locator(".table-diff[data-table=appointments]")
    assert appointments.locator("tr.row-added").count() == 1 and "+1" in appointments.locator("h3").inner_text()
    slot = page.locator(".table-diff[data-table=availability_slots] td.cell-changed").first
    assert slot.locator("del").inner_text() == "available" and slot.locator("ins").inner_text() == "booked"
    browser.assert_clean(page)


def test_format_error_episode_and_run_folder_databases(view, runs, browser):
    page = browser.open(f"{view.url}/runs/0/episodes/{BUNDLE}/task_4/sample_0")
    assert "format error" in page.locator("article.turn h3").first.inner_text()
    assert "not valid JSON" in page.locator("article.turn .error-message").first.inner_text()
    assert page.locator("#diff").inner_text().count("No table changed") == 1
    page.click("text=final.db")
    page.wait_for_url(re.compile(r"db=final"))
    page.click("a:text-is('appointments')")
    assert page.locator("section h2").inner_text().startswith("appointments")
    browser.assert_clean(page)


def test_folder_listings_for_agent_and_server_runs(view, runs, browser):
    page = browser.open(f"{view.url}/runs/1/")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 1 and "complete" in rows.first.inner_text()
    page.click("table.grid tbody a")
    assert page.locator("article.turn").count() >= 2
    browser.assert_clean(page)


# ------------------------------------------------------------------ /ui on awm-serve: bundles, live sessions, hostile data


def test_bundle_page_tasks_tools_tables_and_rows(server, browser):
    page = browser.open(f"{server.url}/ui/bundles/{BUNDLE}")
    bundle = load_demo_bundle(BUNDLE)
    assert page.locator("ol.tasks .task").all_inner_texts() == bundle.tasks
    tools = server.client.get(f"/bundles/{BUNDLE}").json()["tools"]
    assert page.locator("details.tool summary code").all_inner_texts() == [t["name"] for t in tools]
    first_tool = page.locator("details.tool").first
    first_tool.locator("summary").click()
    assert json.loads(first_tool.locator("pre.json").inner_text()) == tools[0]["inputSchema"]
    assert page.locator("#tables tbody tr").count() == len(bundle.tables)
    page.click("#tables a:text-is('appointments')")
    page.wait_for_url(re.compile(r"table=appointments"))
    seed_rows = sum(len(s.insert_statements) for s in bundle.seed if s.table_name == "appointments")
    assert page.locator("section h2").inner_text() == f"appointments {seed_rows} rows"
    assert page.locator("section table tbody tr").count() == min(seed_rows, 50)
    browser.assert_clean(page)


def test_live_session_shows_calls_as_they_happen(server, browser):
    client = server.client
    session = client.post("/sessions", json={"bundle_id": BUNDLE, "task_idx": 1}).json()["session_id"]
    client.post(f"/sessions/{session}/call", json={"tool": "list_specialties", "arguments": {}})
    sessions = browser.open(f"{server.url}/ui/sessions")
    assert session in sessions.locator("#session-rows").inner_text()
    browser.assert_clean(sessions)
    page = browser.open(f"{server.url}/ui/sessions/{session}")
    page.locator(".call").first.wait_for()
    client.post(f"/sessions/{session}/call", json={"tool": "no_such_tool", "arguments": {}})
    page.locator(".call").nth(1).wait_for(timeout=15_000)
    assert page.locator(".call .tool").all_inner_texts() == ["list_specialties", "no_such_tool"]
    assert "unknown_tool" in page.locator(".call.failed .badge").inner_text()
    client.delete(f"/sessions/{session}")
    page.locator(".live-status.closed").wait_for(timeout=15_000)
    browser.assert_clean(page)


def test_hostile_bundle_content_is_shown_as_text_and_never_runs(server, runs, browser):
    page = browser.open(f"{server.url}/ui/bundles/{HOSTILE}")
    assert PWN in page.locator("h1").inner_text() and PWN in page.locator("ol.tasks .task").first.inner_text()
    assert page.locator("script").count() == 1 and page.locator("img").count() == 0
    browser.assert_clean(page)
    page = browser.open(f"{server.url}/ui/bundles/{HOSTILE}/rows?table=" + httpx.QueryParams({"t": HOSTILE_TABLE})["t"])
    assert page.locator("section table td").nth(1).inner_text() == PWN
    browser.assert_clean(page)
    page = browser.open(f"{server.url}/ui/runs/0/{runs['saved'].relative_to(runs['runs_dir'])}")
    assert PWN in page.locator(".task").inner_text()
    result = json.loads(page.locator(".call").first.locator("pre.json").nth(1).inner_text())
    assert result["books"][0]["author_name"] == f"Ursula K. Le Guin {PWN}"
    review = page.locator(".table-diff[data-table=reviews] tr.row-added").inner_text()
    assert review.count(PWN) == 2
    assert page.locator(".call.failed .error-message").inner_text().startswith("get_book_details answered HTTP 404")
    assert page.locator("script").count() == 1 and page.locator("img").count() == 0
    browser.assert_clean(page)


# ------------------------------------------------------------------ REST, command line and damaged input (no browser)


def test_rest_lists_sessions_and_pages_their_calls(server):
    client = server.client
    session = client.post("/sessions", json={"bundle_id": BUNDLE}).json()["session_id"]
    for _ in range(3):
        client.post(f"/sessions/{session}/call", json={"tool": "list_specialties", "arguments": {}})
    listed = {s["session_id"]: s for s in client.get("/sessions").json()["sessions"]}
    assert listed[session]["owner"] == "rest" and listed[session]["calls"] == 3
    assert not [s for s in listed.values() if s["owner"] == "viewer"], "the viewer's snapshot sessions are closed"
    page = client.get(f"/sessions/{session}/calls", params={"since": 1, "limit": 1}).json()
    assert (page["calls_total"], [c["index"] for c in page["calls"]]) == (3, [1])
    assert isinstance(page["calls"][0]["result"], dict)
    assert client.get(f"/sessions/{session}/calls", params={"since": -1}).status_code == 422
    client.delete(f"/sessions/{session}")
    assert client.get(f"/sessions/{session}/calls").json()["error"]["type"] == "unknown_session"


def test_runs_diff_on_the_command_line(runs):
    folder = runs["eval"] / "episodes" / BUNDLE / "task_0" / "sample_0"
    shown = run_cli(["runs", "diff", str(folder)])
    assert shown.exit_code == 0, shown.output
    assert "appointments  +1 -0 ~0" in shown.output and "status: available -> booked" in shown.output
    as_json = run_cli(["runs", "diff", str(folder), "--json"])
    diff = json.loads(as_json.output)["diff"]
    assert [t["table"] for t in diff["tables"]] == ["appointments", "availability_slots"]
    assert diff["tables"][1]["changed"][0]["before"]["status"] == "available"
    refused = run_cli(["runs", "diff", str(runs["eval"])])
    assert refused.exit_code == 2
    assert "is not a run folder" in refused.output and "it holds 4 of them, e.g." in refused.output


def test_diff_matches_rows_by_key_and_reports_schema_changes(tmp_path):
    initial, final = sqlite_utils.Database(tmp_path / "initial.db"), sqlite_utils.Database(tmp_path / "final.db")
    for db in (initial, final):
        db["users"].insert_all([{"id": i, "name": f"user {i}"} for i in range(1, 4)], pk="id")
        db["log"].insert_all([{"line": "a"}, {"line": "b"}])  # no primary key: matched by rowid
    final["users"].update(2, {"name": "renamed"})
    final["users"].delete(3)
    final["users"].insert({"id": 9, "name": "new"})
    final["log"].insert({"line": "c"})
    final["orders"].insert({"id": 1, "total": 5.0}, pk="id")
    initial["gone"].insert({"x": 1})
    for db in (initial, final):
        db.close()
    diff = {t.table: t for t in diff_files(tmp_path / "initial.db", tmp_path / "final.db").tables}
    assert diff["users"].counts == {"added": 1, "removed": 1, "changed": 1}
    assert diff["users"].changed[0].key == {"id": 2} and diff["users"].changed[0].changed_columns == ["name"]
    assert diff["log"].counts == {"added": 1, "removed": 0, "changed": 0} and diff["log"].key == ["rowid"]
    assert (diff["orders"].status, diff["gone"].status) == ("added", "dropped")


def test_row_pages_and_unreadable_databases(tmp_path):
    db = sqlite_utils.Database(tmp_path / "big.db")
    db["items"].insert_all([{"id": i, "label": f"item {i}"} for i in range(1, 121)], pk="id")
    db.close()
    with open_file(tmp_path / "big.db") as opened:
        last = row_page(opened, "items", 99)
        assert (last.rows.number, last.rows.pages, last.rows.total, last.rows.items[0]) == (3, 3, 120, [101, "item 101"])
        with pytest.raises(KeyError, match="no table 'missing'; tables: items"):
            row_page(opened, "missing", 1)
    (tmp_path / "broken.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="broken.db is not a readable SQLite database"):
        with open_file(tmp_path / "broken.db"):
            pass
    assert (tmp_path / "big.db").read_bytes()[:16] == b"SQLite format 3\x00", "the viewer never writes a run's databases"


def test_paths_stay_inside_the_root_and_damaged_run_folders_are_reported(runs, tmp_path):
    root = run_root(runs["eval"])
    for escape in ("../..", "/etc", "episodes/../../.."):
        with pytest.raises(NotFound):
            locate(root, escape)
    (runs["eval"] / "outside").symlink_to(tmp_path)
    with pytest.raises(NotFound):
        locate(root, "outside")
    (runs["eval"] / "outside").unlink()
    source = next((runs["agent"] / BUNDLE / "task_0").iterdir())
    torn, garbled = tmp_path / "runs" / BUNDLE / "task_0" / "torn", tmp_path / "runs" / BUNDLE / "task_0" / "garbled"
    shutil.copytree(source, torn)
    shutil.copytree(source, garbled)
    (torn / "trajectory.json").write_text('{"calls": [', encoding="utf-8")
    (garbled / "final.db").write_bytes(b"garbage" * 100)
    viewer = AwmView([tmp_path / "runs"])
    try:
        listing = httpx.get(f"{viewer.url}/runs/0/")
        assert listing.status_code == 200 and "cannot be read" in listing.text and "complete" in listing.text
        page = httpx.get(f"{viewer.url}/runs/0/{BUNDLE}/task_0/torn")
        assert page.status_code == 404 and "trajectory.json" in page.text and "cannot be read" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        page = httpx.get(f"{viewer.url}/runs/0/{BUNDLE}/task_0/garbled")
        assert page.status_code == 200 and "final.db is not a readable SQLite database" in page.text
        assert "article" in page.text, "the conversation is still shown"
    finally:
        viewer.stop()


def test_awm_view_refuses_a_port_in_use_and_a_missing_folder(view, runs, tmp_path):
    port = view.url.rsplit(":", 1)[1].split("/")[0]
    busy = subprocess.run([sys.executable, "-m", "awm_release.cli", "view", str(runs["eval"]), "--port", port],
                          capture_output=True, text=True, timeout=60)
    assert busy.returncode == 2 and f"port {port} on 127.0.0.1 is already in use" in busy.stderr and "--port 0" in busy.stderr
    missing = run_cli(["view", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "is not a folder" in missing.output
