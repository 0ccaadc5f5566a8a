"""`awm gen all` end to end: the real `openai` client against a local OpenAI-compatible server that replays the demo
bundles, with the failures a real model produces injected (rate limits, server errors, broken SQL, code that does
not import, a tool that answers 500, verifiers that raise). Self-correction must repair what can be repaired,
reject what cannot, keep the accounting, resume without redoing accepted work, and the output must serve and verify.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from awm_release.awm1k import read_awm1k
from awm_release.bundle_io import read_bundles
from awm_release.cli import app
from awm_release.demo import demo_solutions, load_demo_bundles
from awm_release.scripted_llm import ScriptedLLM
from awm_release.synthesis.replay import ReplayResponder, attempt_of, prompt_of, user_text
from env_server.process import ServerProcess

SEEDS = ["Bookstore", "Task tracker", "Clinic booking"]
UNSUITABLE = {"name": "Skyline Weather Wall", "description": " ".join(
    ["A read-only wall display that shows the current weather forecast for one city, refreshed every ten minutes."] * 2)}
BROKEN_TOOL = '\n\n@app.get("/api/diagnostics", operation_id="run_diagnostics")\ndef run_diagnostics():\n    return {"ratio": 1 / 0}\n'
RAISING_VERIFIER = "```python\ndef verify_task(initial_db_path, final_db_path):\n    raise KeyError('orders_archive')\n```"


def content_word_embeddings(texts: list[str]) -> list[list[float]]:
    """A small deterministic embedding (hashed words of 6+ letters): paraphrased descriptions stay close, domains apart."""
    vectors = []
    for text in texts:
        vector = np.zeros(512)
        for word in re.findall(r"[a-z]{6,}", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 512] += 1
        vectors.append(vector.tolist())
    return vectors


class FaultyModel:
    """The replay responder, plus the failures of a real model at chosen stages, bundles and attempts."""

    def __init__(self) -> None:
        self.replay = ReplayResponder(load_demo_bundles().values())
        self.calls: Counter = Counter()

    def __call__(self, request: dict[str, Any]) -> str | dict[str, Any]:
        name, text, attempt = prompt_of(request), user_text(request), attempt_of(request)
        source = self.replay.source_for(text)
        bundle_id = source.bundle_id if source else None
        self.calls[name, bundle_id] += 1
        first_call = self.calls[name, bundle_id] == 1
        if name == "scenario_expand" and "Seed domain: Bookstore" in text:
            reply = json.loads(self.replay(request).split("```json\n")[1].split("```")[0])
            return "```json\n" + json.dumps({"scenarios": reply["scenarios"] + [UNSUITABLE]}) + "\n```"
        if name == "tasks" and bundle_id == "bookstore_1" and first_call:
            return {"status": 429, "message": "rate limited", "headers": {"retry-after-ms": "5"}}
        if name == "db" and bundle_id == "clinic_booking_1" and first_call:
            return {"status": 503, "message": "overloaded", "headers": {"retry-after-ms": "5"}}
        if name == "db" and bundle_id == "bookstore_1" and attempt == 1:
            tables = [t.model_dump() for t in source.tables]
            for table in tables[:3]:
                table["ddl"] = table["ddl"].replace("CREATE TABLE", "CREATE TABEL")
            return "```json\n" + json.dumps({"tables": tables}) + "\n```"
        if name == "sample" and bundle_id == "task_tracker_1" and attempt == 1:
            seed = [s.model_dump() for s in source.seed]
            for table in seed[:3]:
                table["insert_statements"] = [sql.replace("VALUES", "VALUS") for sql in table["insert_statements"]]
            return json.dumps({"tables": seed})
        if name == "sample" and bundle_id == "clinic_booking_1":  # one bad statement in many: dropped, not retried
            seed = [s.model_dump() for s in source.seed]
            seed[0]["insert_statements"].append("INSERT INTO users (id) VALUES (;")
            return json.dumps({"tables": seed})
        if name == "env" and bundle_id == "bookstore_1" and attempt == 1:
            return "```python\nimport module_that_does_not_exist\n" + source.env_code + "```"
        if name == "env" and bundle_id == "bookstore_1" and attempt == 2:
            return "```python\n" + source.env_code + BROKEN_TOOL + "```"
        if name == "verifier_code" and bundle_id == "task_tracker_1" and f"Task: {source.tasks[0]}\n" in text and attempt == 1:
            return "```python\ndef verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return {'result': 'complete'}\n```"
        if name == "verifier_sql" and bundle_id == "clinic_booking_1" and f"Task: {source.tasks[3]}\n" in text:
            return RAISING_VERIFIER
        return self.replay(request)


def gen_all(run: Path, llm: ScriptedLLM, *extra: str):
    args = ["gen", "all", str(run), "--count", "3", *sum((["--seed", s] for s in SEEDS), []), "--model", "scripted-model",
            "--base-url", llm.base_url, "--embeddings", "api", "--embedding-model", "content-words", "--workers", "2",
            "--price-in", "1.25", "--price-out", "10", *extra]
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory):
    """One faulty run, then a second invocation (resume); the scripted server's requests split per invocation."""
    run = tmp_path_factory.mktemp("gen") / "run"
    awm1k = run.parent / "awm1k"
    model = FaultyModel()
    with ScriptedLLM(model, embed=content_word_embeddings) as llm:
        first = gen_all(run, llm, "--awm1k", str(awm1k))
        first_requests = list(llm.requests)
        second = gen_all(run, llm)
        second_requests = llm.requests[len(first_requests):]
    return {"run": run, "awm1k": awm1k, "first": first, "second": second,
            "first_requests": first_requests, "second_requests": second_requests}


def item(run: Path, stage: str, name: str) -> dict[str, Any]:
    return json.loads((run / "state" / stage / f"{name}.json").read_text())


def test_the_chain_produces_valid_bundles_and_rejects_what_it_cannot_repair(synthesized):
    assert synthesized["first"].exit_code == 0, synthesized["first"].output
    bundles = read_bundles([synthesized["run"] / "bundles"])  # read_bundle validates and checks each sha256
    assert sorted(bundles) == ["bookstore_1", "clinic_booking_1", "task_tracker_1"]
    assert bundles["bookstore_1"].missing() == [] and bundles["task_tracker_1"].missing() == []
    assert bundles["clinic_booking_1"].missing() == ["sql-mode verifiers for tasks 3 (gen_verifier)"]
    assert bundles["bookstore_1"].env_code == load_demo_bundles()["bookstore_1"].env_code


def test_scenarios_are_classified_deduplicated_and_recorded(synthesized):
    decisions = {(r["seed"], r["name"]): r["decision"] for r in json.loads((synthesized["run"] / "scenarios.json").read_text())}
    assert decisions["Bookstore", UNSUITABLE["name"]].startswith("unsuitable: ")
    assert decisions["Bookstore", "bookstore_1 1"] == "accepted as bookstore_1"
    assert re.fullmatch(r"near-duplicate of bookstore_1 \(cosine 0\.9\d\)", decisions["Bookstore", "bookstore_1 2"])
    assert sum(d.startswith("accepted") for d in decisions.values()) == 3


def test_self_correction_retries_with_summaries_and_records_causes(synthesized):
    run = synthesized["run"]
    env = item(run, "env", "bookstore_1")
    assert [(a["ok"], a["cause"]) for a in env["attempts"]] == [(False, "import_error"), (False, "tool_5xx"), (True, "")]
    assert "module_that_does_not_exist" in env["attempts"][0]["message"]
    assert "run_diagnostics" in env["attempts"][1]["message"] and "ZeroDivisionError" in env["attempts"][1]["message"]
    assert all(a["summary"] for a in env["attempts"][:2])
    retries = [r for r in synthesized["first_requests"] if prompt_of(r) == "env" and attempt_of(r) == 3]
    assert len(retries) == 1 and "Attempt 1:" in retries[0]["messages"][-1]["content"] and "Attempt 2:" in retries[0]["messages"][-1]["content"]

    db = item(run, "db", "bookstore_1")
    assert [a["cause"] for a in db["attempts"]] == ["sql_error", ""]
    assert "3 of" in db["attempts"][0]["message"] and "CREATE TABEL" in db["attempts"][0]["message"]
    assert [a["cause"] for a in item(run, "sample", "task_tracker_1")["attempts"]] == ["sql_error", ""]
    clinic_seed = item(run, "sample", "clinic_booking_1")
    assert len(clinic_seed["attempts"]) == 1 and any("VALUES (;" in note for note in clinic_seed["notes"])
    assert [a["cause"] for a in item(run, "verifier", "task_tracker_1.task_00.code")["attempts"]] == ["verifier_trivial", ""]


def test_an_item_that_never_passes_is_rejected_with_its_best_attempt(synthesized):
    state = item(synthesized["run"], "verifier", "clinic_booking_1.task_03.sql")
    assert state["status"] == "rejected"
    assert len(state["attempts"]) == 10  # five per invocation: the second invocation retried it
    assert {a["cause"] for a in state["attempts"]} == {"verifier_error"}
    assert "KeyError" in state["attempts"][0]["message"] and "line 2" in state["attempts"][0]["message"]
    assert state["best_output"] == RAISING_VERIFIER


def test_report_accounts_tokens_retries_costs_and_causes(synthesized):
    report = json.loads((synthesized["run"] / "report.json").read_text())
    stages = report["stages"]
    assert stages["env"]["items"] == 3 and stages["env"]["retries"] == 2 and stages["env"]["pass_rate"] == 1.0
    assert stages["verifier"]["items"] == 60 and stages["verifier"]["rejected"] == 1
    assert report["totals"]["http_retries"] == 2  # the 429 and the 503
    assert stages["task"]["http_retries"] == 1 and stages["db"]["http_retries"] == 1
    assert report["failed_attempts_by_cause"]["env"] == {"import_error": 1, "tool_5xx": 1}
    assert report["rejected_items_by_cause"] == {"verifier": {"verifier_error": 1}}
    totals = report["totals"]
    assert totals["prompt_tokens"] > 0 and totals["completion_tokens"] > 0
    assert totals["cost_usd"] == pytest.approx((totals["prompt_tokens"] * 1.25 + totals["completion_tokens"] * 10) / 1e6, rel=1e-3)
    assert sum(b["cost_usd"] for b in report["bundles"].values()) < totals["cost_usd"]  # scenario work is no bundle's
    assert report["bundles"]["bookstore_1"]["complete"] and not report["bundles"]["clinic_booking_1"]["complete"]
    assert report["scenarios"] == {"candidates": 7, "accepted": 3, "near_duplicate": 3, "unsuitable": 1}

    provenance = json.loads((synthesized["run"] / "provenance" / "bookstore_1.json").read_text())
    assert provenance["models"] == ["scripted-model"] and provenance["prompt_versions"]
    assert provenance["stages"]["env"]["attempts"] == 3 and provenance["stages"]["env"]["prompt_tokens"] > 0
    invocation = json.loads((synthesized["run"] / "run.json").read_text())["invocations"][0]
    assert invocation["model"] == "scripted-model" and invocation["prompt_digest"] and "api_key" not in json.dumps(invocation)


def test_rerunning_resumes_without_redoing_accepted_items(synthesized):
    assert synthesized["second"].exit_code == 0, synthesized["second"].output
    asked = Counter(prompt_of(r) for r in synthesized["second_requests"])
    assert asked == {"verifier_sql": 5, "summarize_failure": 5}
    env_attempts = item(synthesized["run"], "env", "bookstore_1")["attempts"]
    assert len(env_attempts) == 3  # accepted items keep their history untouched


def test_awm1k_files_are_written_on_request(synthesized):
    result = read_awm1k(synthesized["awm1k"])
    assert sorted(b.bundle_id for b in result.bundles) == ["bookstore_1", "clinic_booking_1", "task_tracker_1"]
    assert [b.missing() for b in result.bundles if b.bundle_id == "bookstore_1"] == [[]]


def test_the_synthesized_bundles_serve_and_verify(synthesized):
    with ServerProcess(["--bundles", str(synthesized["run"] / "bundles"), "--workers", "1"]) as server:
        client = httpx.Client(base_url=server.url, timeout=60)
        for solution in demo_solutions("bookstore_1")[:3]:
            session = client.post("/sessions", json={"bundle_id": "bookstore_1", "task_idx": solution["task_idx"]}).json()["session_id"]
            for step in solution["steps"]:
                outcome = client.post(f"/sessions/{session}/call", json={"tool": step["tool"], "arguments": step["arguments"]}).json()
                assert outcome["ok"], (step, outcome)
            verdict = client.post(f"/sessions/{session}/verify", json={"final_answer": solution["final_answer"]}).json()
            assert verdict["result"] == "complete", verdict
