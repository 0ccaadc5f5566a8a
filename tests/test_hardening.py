"""Misbehaving environments cost only their own worker; judged rewards; trajectories written as run folders."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from awm_release.bundle_io import write_bundle
from awm_release.demo import demo_solutions, load_demo_bundle
from awm_release.runs import read_run_folder
from awm_release.scripted_llm import ScriptedLLM
from tests.conftest import RunningServer, run_server

HAZARDS = '''

@app.get("/hazards/hang", operation_id="hazard_hang", summary="Never returns")
async def hazard_hang():
    while True:
        pass


@app.get("/hazards/exit", operation_id="hazard_exit", summary="Kills its process")
async def hazard_exit():
    os._exit(3)


@app.get("/hazards/hog", operation_id="hazard_hog", summary="Starts growing without bound")
async def hazard_hog(megabytes: int = 600):
    import threading

    def grow():  # in 8 MB steps, so the worker keeps answering while it grows, however slow the machine
        for _ in range(megabytes >> 3):
            HOARD.append(b"x" * (8 << 20))

    threading.Thread(target=grow, daemon=True).start()
    return {"growing_to_mb": megabytes}


HOARD = []
'''


@pytest.fixture(scope="module")
def hazard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """bookstore_1 plus three hazardous tools, on 2 workers with short limits."""
    bundle = load_demo_bundle("bookstore_1")
    hazardous = bundle.model_copy(update={"bundle_id": "hazard_1", "env_code": bundle.env_code + HAZARDS})
    folder = tmp_path_factory.mktemp("hazard")
    write_bundle(hazardous, folder)
    yield from run_server(["hazard_1", "bookstore_1", "--bundles", str(folder), "--workers", "2",
                           "--call-timeout", "2", "--worker-memory-mb", "500"])


def open_sessions(server: RunningServer, bundle_id: str, count: int) -> list[str]:
    return [server.client.post("/sessions", json={"bundle_id": bundle_id}).json()["session_id"] for _ in range(count)]


def call(server: RunningServer, session_id: str, tool: str, arguments: dict | None = None):
    return server.client.post(f"/sessions/{session_id}/call", json={"tool": tool, "arguments": arguments or {}})


def wait_until(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("tool", "reason"),
    [
        ("hazard_hang", "tool call 'hazard_hang' ran past the 2 s timeout"),
        ("hazard_exit", "its worker process exited unexpectedly"),
        ("hazard_hog", "past the 500 MB limit"),
    ],
)
def test_a_misbehaving_call_costs_only_its_worker(hazard_server, tool, reason):
    """A bundle's sessions spread over its two workers (a new worker per session until there are two, then the least
    loaded); the other bundle has workers of its own. The victim's worker goes with its two sessions; the rest stay."""
    sessions = open_sessions(hazard_server, "hazard_1", 4)
    bystanders = open_sessions(hazard_server, "bookstore_1", 2)
    victim = sessions[0]
    outcome = call(hazard_server, victim, tool).json()
    if tool == "hazard_hog":  # the call answers at once; the memory watchdog stops the worker as it grows, not a timeout
        assert outcome["ok"], outcome
        wait_until(lambda: call(hazard_server, victim, "get_cart").status_code == 410, timeout_s=60)
    else:
        assert outcome["ok"] is False and outcome["error"]["type"] == "server_error", outcome
        assert reason in outcome["error"]["message"]
    lost = call(hazard_server, victim, "get_cart")
    assert lost.status_code == 410
    assert lost.json()["error"]["type"] == "session_lost" and reason in lost.json()["error"]["message"]
    survivors = [s for s in sessions + bystanders if call(hazard_server, s, "get_cart").status_code == 200]
    assert len(survivors) == 4, "exactly the sessions of the victim's worker are lost"
    fresh = open_sessions(hazard_server, "hazard_1", 2)
    assert all(call(hazard_server, s, "get_cart").json()["ok"] for s in fresh), "the replacement worker serves new sessions"
    for session_id in survivors + fresh:  # leave the server empty, so the next case pins sessions the same way
        hazard_server.client.delete(f"/sessions/{session_id}")


def judge_reply(request: dict) -> str:
    """A judge that reads the verifier facts it was given: complete when two paperbacks were added to the cart."""
    case = request["messages"][-1]["content"]
    facts = json.loads(case.split("## Database facts from the verifier\n", 1)[1])
    added = [line for line in facts["new_cart_lines"] if line["format"] == "paperback" and line["quantity"] == 2]
    outcome = "complete" if added else "agent_error"
    return f'<think>checking the facts</think>{{"outcome": "{outcome}", "reason": "scripted"}}'


def test_sql_mode_rewards_come_from_the_llm_judge(tmp_path):
    with ScriptedLLM(judge_reply) as judge, ScriptedLLM(["not json at all"]) as confused:
        for running in run_server(["bookstore_1", "--judge-base-url", judge.base_url, "--judge-model", "judge-8b", "--workers", "1"]):
            solution = demo_solutions("bookstore_1")[0]
            solved = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
            for step in solution["steps"]:
                assert call(running, solved, step["tool"], step["arguments"]).json()["ok"]
            verdict = running.client.post(f"/sessions/{solved}/verify", json={"mode": "sql"}).json()
            assert (verdict["result"], verdict["reward"]) == ("complete", 1.0)
            assert verdict["judge"]["model"] == "judge-8b" and verdict["judge"]["reason"] == "scripted"
            prompt = judge.requests[-1]["messages"][-1]["content"]
            assert "## Tool calls" in prompt and solution["steps"][0]["tool"] in prompt and "## Database facts" in prompt

            rescaled = running.client.post(f"/sessions/{solved}/verify", json={"mode": "sql", "rewards": {"complete": 2.5}}).json()
            assert rescaled["reward"] == 2.5
            untouched = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
            verdict = running.client.post(f"/sessions/{untouched}/verify", json={"mode": "sql"}).json()
            assert (verdict["result"], verdict["reward"]) == ("agent_error", 0.0)
            bad = running.client.post(f"/sessions/{solved}/verify", json={"rewards": {"excellent": 1}})
            assert bad.status_code == 400 and "unknown outcome 'excellent'" in bad.json()["error"]["message"]

        for running in run_server(["bookstore_1", "--judge-base-url", confused.base_url, "--judge-model", "m", "--workers", "1"]):
            session = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
            verdict = running.client.post(f"/sessions/{session}/verify", json={"mode": "sql"}).json()
            assert (verdict["result"], verdict["reward"]) == ("judge_error", 0.0)
            assert "did not answer with a JSON outcome" in verdict["error"]["message"]

    for running in run_server(["bookstore_1", "--workers", "1"]):
        session = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
        no_judge = running.client.post(f"/sessions/{session}/verify", json={"mode": "sql"})
        assert no_judge.status_code == 400 and "--judge-base-url" in no_judge.json()["error"]["message"]


def test_closing_with_save_writes_a_complete_run_folder(tmp_path):
    runs = tmp_path / "runs"
    for running in run_server(["bookstore_1", "--runs-dir", str(runs), "--workers", "1"]):
        solution = demo_solutions("bookstore_1")[0]
        session = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
        for step in solution["steps"]:
            call(running, session, step["tool"], step["arguments"])
        call(running, session, "get_book_details", {"book_id": 999999})  # a failing call is recorded too
        verdict = running.client.post(f"/sessions/{session}/verify", json={}).json()
        closed = running.client.delete(f"/sessions/{session}", params={"save": "true"}).json()
        assert closed["closed"] and closed["saved_to"] == str(runs / "bookstore_1" / "task_0" / session)

    run = read_run_folder(closed["saved_to"])
    calls = run["trajectory"]["calls"]
    assert [c["tool"] for c in calls] == [s["tool"] for s in solution["steps"]] + ["get_book_details"]
    assert calls[0]["arguments"] == solution["steps"][0]["arguments"] and calls[0]["ok"] and "result" in calls[0]
    assert calls[-1]["ok"] is False and calls[-1]["error"]["type"] == "tool_error"
    assert all(c["latency_ms"] >= 0 for c in calls)
    assert run["verifications"][0]["result"] == verdict["result"] == "complete"
    with sqlite3.connect(run["initial_db"]) as initial, sqlite3.connect(run["final_db"]) as final:
        count = "SELECT COUNT(*) FROM cart_items"
        assert final.execute(count).fetchone()[0] > initial.execute(count).fetchone()[0]
    assert not [p for p in (runs / "bookstore_1" / "task_0").iterdir() if p.name.startswith(".")], "no staging left behind"


def test_saving_needs_a_runs_dir(server):
    session = server.client.post("/sessions", json={"bundle_id": "bookstore_1"}).json()["session_id"]
    refused = server.client.delete(f"/sessions/{session}", params={"save": "true"})
    assert refused.status_code == 400 and "--runs-dir" in refused.json()["error"]["message"]
    assert server.client.delete(f"/sessions/{session}").json()["closed"]


def test_session_limit_is_enforced_with_a_clear_error():
    for running in run_server(["task_tracker_1", "--max-sessions", "3", "--workers", "1"]):
        ids = open_sessions(running, "task_tracker_1", 3)
        refused = running.client.post("/sessions", json={})
        assert refused.status_code == 503
        assert refused.json()["error"] == {"type": "too_many_sessions",
                                           "message": "the server holds its limit of 3 sessions; close some first"}
        running.client.delete(f"/sessions/{ids[0]}")
        assert running.client.post("/sessions", json={}).status_code == 201


def test_trajectory_json_is_plain_json(tmp_path):
    """Run folders are read by other tools: every value in trajectory.json must be plain JSON."""
    runs = tmp_path / "runs"
    for running in run_server(["clinic_booking_1", "--runs-dir", str(runs), "--workers", "1"]):
        session = running.client.post("/sessions", json={"task_idx": 3}).json()["session_id"]
        call(running, session, "list_specialties")
        saved = running.client.delete(f"/sessions/{session}", params={"save": "true"}).json()["saved_to"]
    data = json.loads((Path(saved) / "trajectory.json").read_text())
    assert data["task_idx"] == 3 and data["calls"][0]["tool"] == "list_specialties"
    assert isinstance(data["calls"][0]["result"], dict)
