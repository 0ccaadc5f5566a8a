"""The accept/reject checks of each stage, on real SQLite, the serving runtime and the verifier sandbox."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from awm_release.bundle import Bundle
from awm_release.database import build_template_image
from awm_release.demo import load_demo_bundle
from awm_release.synthesis.parsing import ReplyFormatError, extract_json_object, extract_python
from awm_release.synthesis.envcheck import EnvironmentChecker
from awm_release.synthesis.probe import probe_arguments
from awm_release.synthesis.validation import (check_classification, check_scenarios, check_schema, check_seed, check_spec,
                                              check_tasks, check_verifier)
from awm_release.sandbox.verifier_pool import VerifierPool
from env_server.runtime import load_environment
from env_server.tools import Tool

BOOKSTORE = load_demo_bundle("bookstore_1")


def as_json(payload) -> str:
    return "Sure:\n```json\n" + json.dumps(payload) + "\n```\nDone."


def test_replies_are_found_inside_prose_fences_and_thinking():
    assert extract_json_object('<think>{"draft": 1}</think> The answer: {"tasks": ["a"]} hope it helps') == {"tasks": ["a"]}
    assert extract_json_object('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    assert extract_python("Here:\n```python\nx = 1\n```\nand a longer one\n```python\ndef f():\n    return 2\n```") == "def f():\n    return 2\n"
    assert extract_python("import os\nprint(os.sep)") == "import os\nprint(os.sep)\n"
    with pytest.raises(ReplyFormatError, match="expected one JSON object"):
        extract_json_object("no json here")
    with pytest.raises(ReplyFormatError, match="python code block"):
        extract_python("Sorry, I cannot help with that.")


def test_tasks_need_the_requested_count_of_distinct_strings():
    tasks = [f"Task number {i}" for i in range(12)]
    accepted = check_tasks(as_json({"tasks": tasks}), 10)
    assert accepted.ok and accepted.value == tasks[:10] and accepted.notes == ["kept the first 10 of 12 tasks"]
    short = check_tasks(as_json({"tasks": tasks[:8] + ["Task number 1", ""]}), 10)
    assert not short.ok and short.cause == "invalid_output"
    assert "duplicate task" in short.message and "tasks[9] is not a non-empty string" in short.message and "9 usable" in short.message
    assert check_tasks("I will write the tasks later.", 10).cause == "unparseable"


def test_scenario_and_classifier_replies():
    long = "A booking platform where members reserve rooms, change and cancel reservations and review their stays " * 2
    checked = check_scenarios(as_json({"scenarios": [{"name": "Roomly", "description": long}, {"name": "x", "description": "short"}]}))
    assert checked.ok and [s["name"] for s in checked.value] == ["Roomly"] and "at least 20 words" in checked.notes[0]
    assert check_classification('{"suitable": false, "reason": "static"}').value == {"suitable": False, "reason": "static"}
    assert check_classification('{"suitable": "maybe"}').cause == "invalid_output"


def tables_of(bundle: Bundle) -> list[dict]:
    return [t.model_dump() for t in bundle.tables]


def test_schema_with_few_failures_is_accepted_minus_the_failures():
    tables = tables_of(BOOKSTORE)
    assert len(tables) >= 10
    tables[-1]["ddl"] = tables[-1]["ddl"].replace("CREATE TABLE", "CREATE TABEL")
    tables[0]["indexes"].append("CREATE INDEX idx_broken ON users(no_such_column);")
    checked = check_schema(as_json({"tables": tables}), 0.10)
    assert checked.ok
    assert [t.name for t in checked.value] == [t["name"] for t in tables[:-1]]
    assert "idx_broken" not in json.dumps([t.model_dump() for t in checked.value])
    assert any("dropped table" in n for n in checked.notes) and any("dropped index" in n for n in checked.notes)


def test_schema_with_too_many_failures_is_rejected_with_locations():
    tables = tables_of(BOOKSTORE)
    for table in tables[:2]:
        table["ddl"] = table["ddl"].replace("CREATE TABLE", "CREATE TABEL")
    tables[3]["name"] = "renamed_in_json_only"
    checked = check_schema(as_json({"tables": tables}), 0.10)
    assert not checked.ok and checked.cause == "sql_error"
    assert "3 of" in checked.message and "tables[0]" in checked.message and "syntax error" in checked.message
    assert "does not create a table named 'renamed_in_json_only'" in checked.message
    assert 0 < checked.score < 1
    assert check_schema(as_json({"tables": tables_of(BOOKSTORE)[:1] * 2}), 0.10).message.startswith("duplicate table name")


def test_seed_statements_are_checked_against_the_schema():
    base = BOOKSTORE.model_copy(update={"seed": []})
    seed = [s.model_dump() for s in BOOKSTORE.seed]
    total = sum(len(s["insert_statements"]) for s in seed)
    seed[0]["insert_statements"].append("DELETE FROM users;")
    seed[1]["insert_statements"].append("INSERT INTO genres (id, name) VALUES (1, 'duplicate id');")
    checked = check_seed(base, as_json({"tables": seed}), 0.10)
    assert checked.ok and sum(len(s.insert_statements) for s in checked.value) == total
    assert any("only INSERT statements" in n for n in checked.notes) and any("UNIQUE constraint" in n for n in checked.notes)
    build_template_image(base.model_copy(update={"seed": checked.value}))  # the accepted seed builds without failures

    seed = [s.model_dump() for s in BOOKSTORE.seed] + [{"table_name": "ghosts", "insert_statements": ["INSERT INTO ghosts VALUES (1);"] * 50}]
    rejected = check_seed(base, as_json({"tables": seed}), 0.10)
    assert rejected.cause == "sql_error" and "no such table in the schema" in rejected.message


def test_spec_problems_are_listed_with_their_endpoint():
    assert check_spec(BOOKSTORE, as_json(BOOKSTORE.api_spec)).ok
    spec = json.loads(json.dumps(BOOKSTORE.api_spec))
    endpoints = spec["api_groups"][0]["endpoints"]
    endpoints[0]["method"] = "FETCH"
    endpoints[1]["operation_id"] = endpoints[2]["operation_id"]
    endpoints[1]["path"] = "/api/books/{book_id}/{edition}"
    endpoints[2]["required_tables"] = ["no_such_table"]
    checked = check_spec(BOOKSTORE, as_json(spec))
    assert checked.cause == "invalid_output"
    for fragment in ("method 'FETCH'", "duplicate operation_id", "edition not declared", "no_such_table are not tables"):
        assert fragment in checked.message, fragment
    assert check_spec(BOOKSTORE, as_json({"api_groups": []})).cause == "invalid_output"


def run_check(code: str, bundle: Bundle = BOOKSTORE, deadline_s: float = 60.0):
    return run_checks([code], bundle, deadline_s)[0]


def run_checks(codes: list[str], bundle: Bundle = BOOKSTORE, deadline_s: float = 60.0):
    image, _ = build_template_image(bundle)

    async def go():
        checker = EnvironmentChecker(size=1)
        try:
            return [await checker.check(bundle, code, image, deadline_s=deadline_s, call_timeout_s=5.0) for code in codes]
        finally:
            await checker.close()

    return asyncio.run(go())


def test_environment_is_loaded_and_probed_in_another_process():
    isolated = BOOKSTORE.model_copy(update={"bundle_id": "isolation_probe_1"})
    first, second = run_checks([BOOKSTORE.env_code] * 2, isolated)  # the same bundle twice: each check has a fresh process
    assert first.ok and second.ok and first.value == BOOKSTORE.env_code
    assert "awm_env_isolation_probe_1" not in sys.modules  # generated code never ran in this process


def test_environment_failures_name_the_cause():
    failed_import = run_check("import json\nimport module_that_does_not_exist\n" + BOOKSTORE.env_code)
    assert failed_import.cause == "import_error" and "line 2" in failed_import.message and "bookstore_1" in failed_import.message

    crashing = run_check(BOOKSTORE.env_code.replace('def search_books(', 'def search_books(*_a, **_k):\n    raise RuntimeError("boom")\n\ndef _unused(', 1))
    assert crashing.cause == "tool_5xx" and "search_books" in crashing.message and "boom" in crashing.message
    assert 0.9 < crashing.score < 1

    spec = json.loads(json.dumps(BOOKSTORE.api_spec))
    spec["api_groups"][0]["endpoints"].append({**spec["api_groups"][0]["endpoints"][0], "operation_id": "export_catalog"})
    missing = run_check(BOOKSTORE.env_code, BOOKSTORE.model_copy(update={"api_spec": spec}))
    assert missing.cause == "missing_routes" and "export_catalog" in missing.message

    exiting = run_check("import os\nos._exit(3)\n")
    assert exiting.cause == "probe_crash" and "status 3" in exiting.message


def test_code_stuck_at_import_is_killed_at_the_deadline_and_the_next_check_runs():
    stuck, fine = run_checks(["import time\nwhile True:\n    time.sleep(0.01)\n", BOOKSTORE.env_code], deadline_s=3.0)
    assert stuck.cause == "probe_timeout" and "3 s" in stuck.message
    assert fine.ok


def test_probe_arguments_come_from_the_spec_examples():
    env = load_environment(BOOKSTORE)
    endpoint = next(e for g in BOOKSTORE.api_spec["api_groups"] for e in g["endpoints"] if e["operation_id"] == "create_book_review")
    arguments = probe_arguments(env.tools["create_book_review"], endpoint)
    assert arguments == {name: p["example"] for name, p in endpoint["request_params"].items()}
    bare = Tool(name="t", description="", method="GET", path="/t", required=frozenset({"n", "day", "mode"}), input_schema={
        "type": "object", "properties": {"n": {"type": "integer"}, "day": {"type": "string", "format": "date"},
                                         "mode": {"anyOf": [{"enum": ["fast", "slow"]}, {"type": "null"}]},
                                         "optional": {"type": "boolean"}}})
    assert probe_arguments(bare, None) == {"n": 1, "day": "2025-01-01", "mode": "fast"}  # typed placeholders, required only


@pytest.mark.parametrize(("mode", "code", "cause", "fragment"), [
    ("code", "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    x = 1\n    return {'result': 'others', 'x': [][x]}\n",
     "verifier_error", "line 3"),
    ("code", "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return 'complete'\n", "verifier_error", "bad_return"),
    ("code", "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return {'result': 'complete'}\n", "verifier_trivial", "untouched"),
    ("sql", "def verify_task_completion(initial_db_path, final_db_path):\n    return {}\n", "invalid_output", "verify_task()"),
    ("sql", "def verify_task(initial_db_path, final_db_path):\n    import sqlite3\n    sqlite3.connect('/tmp/other.db')\n", "verifier_error", "PermissionError"),
])
def test_verifiers_must_run_on_the_seed_database(mode, code, cause, fragment):
    image, _ = build_template_image(BOOKSTORE)

    async def check():
        async with VerifierPool(size=1) as pool:
            return await check_verifier(BOOKSTORE, 0, mode, f"```python\n{code}```", image, pool, 10.0)

    checked = asyncio.run(check())
    assert checked.cause == cause and fragment in checked.message, checked.message


def test_demo_verifiers_pass_their_check():
    image, _ = build_template_image(BOOKSTORE)

    async def check_all():
        async with VerifierPool(size=2) as pool:
            return await asyncio.gather(*(
                check_verifier(BOOKSTORE, idx, mode, f"```python\n{getattr(BOOKSTORE.verifier_for(idx), mode).code}```", image, pool, 10.0)
                for idx in range(len(BOOKSTORE.tasks)) for mode in ("code", "sql")))

    results = asyncio.run(check_all())
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
