"""A real `awm-serve` on loopback: REST and MCP, isolation, reset, verification and clear errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError

from awm_release.bundle_io import write_bundle
from awm_release.demo import demo_bundle_ids, demo_solutions, load_demo_bundle
from env_server.cli import select_bundles
from tests.conftest import RunningServer, run_server


def new_session(server: RunningServer, bundle_id: str, task_idx: int | None = None) -> str:
    response = server.client.post("/sessions", json={"bundle_id": bundle_id, "task_idx": task_idx})
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def call(server: RunningServer, session_id: str, tool: str, arguments: dict) -> dict:
    response = server.client.post(f"/sessions/{session_id}/call", json={"tool": tool, "arguments": arguments})
    assert response.status_code == 200, response.text
    return response.json()


def example_arguments(endpoint: dict) -> dict:
    return {name: p["example"] for name, p in endpoint.get("request_params", {}).items() if "example" in p}


@pytest.mark.parametrize("bundle_id", demo_bundle_ids())
def test_every_demo_tool_is_served_and_answers_without_crashing(server, bundle_id):
    bundle = load_demo_bundle(bundle_id)
    session_id = new_session(server, bundle_id)
    tools = server.client.get(f"/sessions/{session_id}/tools").json()["tools"]
    spec_ids = [e["operation_id"] for g in bundle.api_spec["api_groups"] for e in g["endpoints"]]
    assert sorted(t["name"] for t in tools) == sorted(spec_ids)
    assert len(tools) >= 12
    for group in bundle.api_spec["api_groups"]:
        for endpoint in group["endpoints"]:
            outcome = call(server, session_id, endpoint["operation_id"], example_arguments(endpoint))
            if not outcome["ok"]:
                assert outcome["error"]["type"] in ("tool_error", "invalid_arguments"), (endpoint["operation_id"], outcome)


@pytest.mark.parametrize("bundle_id", demo_bundle_ids())
def test_demo_solutions_complete_every_task_and_wrong_attempts_do_not(server, bundle_id):
    for solution in demo_solutions(bundle_id):
        idx = solution["task_idx"]
        solved = new_session(server, bundle_id, idx)
        for step in solution["steps"]:
            outcome = call(server, solved, step["tool"], step["arguments"])
            assert outcome["ok"], (idx, step, outcome)
        verdict = server.client.post(f"/sessions/{solved}/verify", json={"final_answer": solution["final_answer"]}).json()
        assert verdict["result"] == "complete", (idx, verdict)
        facts = server.client.post(f"/sessions/{solved}/verify", json={"mode": "facts"}).json()
        assert facts["result"] == "facts" and isinstance(facts["details"], dict), (idx, facts)

        untouched = new_session(server, bundle_id, idx)
        assert server.client.post(f"/sessions/{untouched}/verify", json={}).json()["result"] == "others", idx

        if solution["wrong_steps"]:
            wrong = new_session(server, bundle_id, idx)
            for step in solution["wrong_steps"]:
                call(server, wrong, step["tool"], step["arguments"])
            verdict = server.client.post(f"/sessions/{wrong}/verify", json={"final_answer": solution["final_answer"]}).json()
            assert verdict["result"] == "others", (idx, "wrong steps", verdict)
        if solution.get("wrong_final_answer") is not None:
            verdict = server.client.post(f"/sessions/{solved}/verify", json={"final_answer": solution["wrong_final_answer"]}).json()
            assert verdict["result"] == "others", (idx, "wrong answer", verdict)
        for session_id in (solved, untouched):
            server.client.delete(f"/sessions/{session_id}")


def playlist_names(server: RunningServer, session_id: str) -> set[str]:
    return {p["name"] for p in call(server, session_id, "list_playlists", {})["result"]["playlists"]}


def test_sessions_are_isolated_and_reset_restores_the_seed(server):
    one, two = new_session(server, "content_platform_1"), new_session(server, "content_platform_1")
    seed_names = playlist_names(server, one)
    created = call(server, one, "create_playlist", {"name": "Only in one", "visibility": "private"})
    assert created["ok"] and created["result"]["playlist"]["name"] == "Only in one"
    assert "Only in one" in playlist_names(server, one)
    assert playlist_names(server, two) == seed_names
    reset = server.client.post(f"/sessions/{one}/reset")
    assert reset.status_code == 200
    assert playlist_names(server, one) == seed_names


def test_database_download_is_the_sessions_current_state(server, tmp_path):
    session_id = new_session(server, "content_platform_1")
    call(server, session_id, "create_playlist", {"name": "Downloaded", "visibility": "public"})
    response = server.client.get(f"/sessions/{session_id}/database")
    assert response.headers["content-type"] == "application/vnd.sqlite3"
    path = tmp_path / "s.db"
    path.write_bytes(response.content)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT visibility FROM playlists WHERE name = 'Downloaded'").fetchone() == ("public",)


def test_host_errors_are_clear(server):
    client = server.client
    unknown_bundle = client.post("/sessions", json={"bundle_id": "atlantis_1"})
    assert unknown_bundle.status_code == 404
    assert unknown_bundle.json()["error"]["type"] == "unknown_bundle"
    assert "serves: bookstore_1, task_tracker_1, clinic_booking_1, content_platform_1" in unknown_bundle.json()["error"]["message"]
    assert client.post("/sessions", json={}).json()["error"]["type"] == "bundle_required"
    bad_task = client.post("/sessions", json={"bundle_id": "bookstore_1", "task_idx": 10}).json()["error"]
    assert bad_task == {"type": "unknown_task", "message": "bookstore_1 has tasks 0-9; got task_idx=10"}
    for method, path in (("post", "/sessions/nope/call"), ("post", "/sessions/nope/reset"), ("get", "/sessions/nope/tools"),
                         ("delete", "/sessions/nope"), ("get", "/sessions/nope/database")):
        response = getattr(client, method)(path, **({"json": {"tool": "x"}} if path.endswith("call") else {}))
        assert response.status_code == 404 and response.json()["error"]["type"] == "unknown_session", path
    session_id = new_session(server, "content_platform_1")
    no_task = client.post(f"/sessions/{session_id}/verify", json={})
    assert no_task.status_code == 400 and "created without a task" in no_task.json()["error"]["message"]
    no_verifier = client.post(f"/sessions/{session_id}/verify", json={"task_idx": 0})
    assert no_verifier.json()["error"] == {"type": "no_verifier", "message": "content_platform_1 task 0 has no code-mode verifier"}


def test_tool_errors_come_back_as_observations(server):
    session_id = new_session(server, "content_platform_1")
    unknown = call(server, session_id, "teleport", {})
    assert not unknown["ok"] and unknown["error"]["type"] == "unknown_tool"
    bad = call(server, session_id, "get_playlist_by_id", {"playlist_id": "seven"})
    assert bad["error"]["type"] == "invalid_arguments"
    assert bad["error"]["message"].startswith("invalid arguments for get_playlist_by_id: playlist_id: Input should be a valid integer")
    # as in the original runtime, an argument the tool does not declare is not sent by a GET (and is body for a POST)
    assert call(server, session_id, "list_playlists", {"colour": "red"}) == call(server, session_id, "list_playlists", {})
    missing = call(server, session_id, "get_playlist_by_id", {"id": 3})
    assert missing["error"]["message"] == "missing required argument(s) for tool get_playlist_by_id: playlist_id"
    # and the session still works afterwards
    assert call(server, session_id, "list_playlists", {})["ok"]


async def _mcp_roundtrip(url: str) -> None:
    async with Client(f"{url}/mcp/content_platform_1") as first, Client(f"{url}/mcp/content_platform_1") as second:
        tools = await first.list_tools()
        assert len(tools.tools) == 34
        schema = next(t for t in tools.tools if t.name == "create_playlist").input_schema
        assert schema["required"] == ["name", "visibility"]
        created = await first.call_tool("create_playlist", {"name": "Via MCP", "visibility": "public"})
        assert not created.is_error and created.structured_content["playlist"]["name"] == "Via MCP"
        mine = await first.call_tool("list_playlists", {})
        theirs = await second.call_tool("list_playlists", {})
        assert "Via MCP" in mine.content[0].text and "Via MCP" not in theirs.content[0].text
        failed = await first.call_tool("get_playlist_by_id", {"playlist_id": "x"})
        assert failed.is_error and json.loads(failed.content[0].text)["error"]["type"] == "invalid_arguments"


def test_mcp_clients_get_isolated_environments(server):
    before = server.client.get("/health").json()["sessions"]
    asyncio.run(_mcp_roundtrip(server.url))
    assert server.client.get("/health").json()["sessions"] == before  # closing the MCP session frees its environment


def innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def mcp_failure(url: str) -> BaseException:
    async def attempt() -> None:
        async with Client(url) as client:
            await client.list_tools()

    try:
        asyncio.run(attempt())
    except BaseException as exc:  # the SDK wraps errors in task-group exception groups
        return innermost(exc)
    raise AssertionError(f"{url} answered, but it should have refused")


def test_a_rest_session_is_reachable_over_mcp_in_either_protocol_era(server):
    session_id = new_session(server, "bookstore_1")
    call(server, session_id, "add_wishlist_item", {"book_id": 1})
    rest_tools = server.client.get(f"/sessions/{session_id}/tools").json()["tools"]

    async def over_mcp(mode: str) -> tuple[int, str]:
        async with Client(f"{server.url}/sessions/{session_id}/mcp", mode=mode) as client:
            tools = await client.list_tools()
            wishlist = await client.call_tool("get_wishlist", {})
            return len(tools.tools), wishlist.content[0].text

    for mode in ("legacy", "auto"):
        count, wishlist = asyncio.run(over_mcp(mode))
        assert count == len(rest_tools)
        assert json.loads(wishlist) == call(server, session_id, "get_wishlist", {})["result"]
        assert [item["book_id"] for item in json.loads(wishlist)["items"]].count(1) == 1


def test_mcp_refusals_carry_the_reason(server):
    unknown_session = mcp_failure(f"{server.url}/sessions/nope/mcp")
    assert isinstance(unknown_session, MCPError)
    assert unknown_session.message == "unknown session 'nope': it was closed, expired, or never created"
    unknown_bundle = mcp_failure(f"{server.url}/mcp/atlantis_1")
    assert isinstance(unknown_bundle, MCPError) and unknown_bundle.message.startswith("unknown bundle 'atlantis_1'")
    several = mcp_failure(f"{server.url}/mcp")
    assert isinstance(several, MCPError) and several.message.startswith("this server serves several bundles")


def test_single_bundle_server_answers_on_plain_mcp_and_needs_no_bundle_id():
    for running in run_server(["task_tracker_1"]):
        created = running.client.post("/sessions", json={})
        assert created.status_code == 201 and created.json()["bundle_id"] == "task_tracker_1"

        async def tools() -> int:
            async with Client(f"{running.url}/mcp") as client:
                return len((await client.list_tools()).tools)

        assert asyncio.run(tools()) >= 12


def test_no_arguments_serves_the_default_demo_bundle():
    assert list(select_bundles([], [])) == ["bookstore_1"]


def test_the_front_starts_without_libraries_only_some_requests_need():
    """openai (a judge's client), sqlite-utils and pandas (the viewer's tables) load on first use: importing them
    took 1.4 s of every start."""
    code = "import sys, env_server.cli; print(sorted({'openai', 'sqlite_utils', 'pandas'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def start_failure(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "env_server.cli", *args, "--port", "1"], capture_output=True, text=True, timeout=60)


def test_broken_bundles_are_refused_at_start_with_the_reason(tmp_path):
    bundle = load_demo_bundle("bookstore_1")
    broken_code = bundle.model_copy(update={"bundle_id": "broken_code_1", "env_code": bundle.env_code + "\nundefined_name.attribute\n"})
    write_bundle(broken_code, tmp_path)
    seed = [s.model_copy(deep=True) for s in bundle.seed]
    seed[0].insert_statements.append(seed[0].insert_statements[0])  # a duplicate primary key
    write_bundle(bundle.model_copy(update={"bundle_id": "broken_seed_1", "seed": seed}), tmp_path)

    code = start_failure(["broken_code_1", "--bundles", str(tmp_path)])
    assert code.returncode == 2
    line = broken_code.env_code.count("\n")
    assert f"bundle 'broken_code_1': environment code failed to load (env_code line {line}: 'undefined_name.attribute'): NameError" in code.stderr

    seed_failure = start_failure(["broken_seed_1", "--bundles", str(tmp_path), "--strict"])  # else skipped, as in the original
    assert seed_failure.returncode == 2
    assert f"seed[0].insert_statements[{len(seed[0].insert_statements) - 1}] (table '{seed[0].table_name}'): UNIQUE constraint failed" in seed_failure.stderr
    assert "Traceback" not in code.stderr + seed_failure.stderr

    unknown = start_failure(["atlantis_1"])
    assert unknown.returncode == 2 and "unknown bundle(s) atlantis_1; available: bookstore_1" in unknown.stderr


def test_a_server_whose_launcher_is_killed_shuts_down_with_its_workers():
    """ServerProcess starts awm-serve with --exit-with-parent: a launcher killed with SIGKILL (a Ray actor of the
    training fleet) leaves no server, zygote or worker behind."""
    launcher_code = ("import time; from env_server.process import ServerProcess; "
                     "s = ServerProcess(['bookstore_1', '--workers', '1']).start(); "
                     "print(s.pid, s.url, flush=True); time.sleep(300)")
    launcher = subprocess.Popen([sys.executable, "-c", launcher_code], stdout=subprocess.PIPE, text=True)
    try:
        pid, url = launcher.stdout.readline().split()
        assert httpx.post(f"{url}/sessions", json={}, timeout=30).status_code == 201  # a worker runs
        server = psutil.Process(int(pid))
        family = [server, *server.children(recursive=True)]
        assert len(family) >= 3, family  # the server, the sandbox's launcher and the zygote at least
    finally:
        launcher.kill()
        launcher.wait()
    deadline = time.monotonic() + 30
    while (alive := [p.pid for p in family if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive == [], f"still running after the launcher was killed: {alive}"


def running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
