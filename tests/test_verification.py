"""Verifiers run in a child process: verdicts come back, and so do their failures, as data."""

import asyncio

import pytest

from awm_release.bundle import Bundle
from awm_release.database import build_template_image, open_image
from awm_release.verification import VerifierUnavailable, verify

COUNT_NOTES = '''
def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    import sqlite3
    def count(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        finally:
            conn.close()
    grew = count(final_db_path) == count(initial_db_path) + 1
    return {"result": "complete" if grew else "others", "answer_seen": final_answer}
'''


def bundle_with(code_verifier: str, sql_verifier: str | None = None) -> Bundle:
    return Bundle(
        bundle_id="notes_1",
        display_name="Notes",
        tasks=["Add a note."],
        tables=[{"name": "notes", "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"}],
        seed=[{"table_name": "notes", "insert_statements": ["INSERT INTO notes VALUES (1, 'a')"]}],
        verifiers=[{"task_idx": 0, "code": {"code": code_verifier}, "sql": {"code": sql_verifier} if sql_verifier else None}],
    )


def judge(bundle: Bundle, change: bool, **kwargs):
    image, _ = build_template_image(bundle)
    conn = open_image(image)
    if change:
        conn.execute("INSERT INTO notes VALUES (2, 'b')")
        conn.commit()
    return asyncio.run(verify(bundle, 0, image, conn.serialize(), **kwargs))


def test_code_mode_verdicts():
    bundle = bundle_with(COUNT_NOTES)
    done = judge(bundle, True, final_answer="added")
    assert (done.result, done.details, done.error) == ("complete", {"answer_seen": "added"}, None)
    assert judge(bundle, False).result == "others"


def test_sql_mode_returns_the_facts():
    facts = 'def verify_task(initial_db_path, final_db_path):\n    return {"checked": [initial_db_path != final_db_path]}\n'
    result = judge(bundle_with(COUNT_NOTES, facts), True, mode="sql")
    assert result.result == "facts" and result.details == {"checked": [True]}


@pytest.mark.parametrize(
    ("body", "error_type", "message"),
    [
        ("    raise KeyError('orders')", "KeyError", "'orders'"),
        ("    return 'complete'", "bad_return", "verifier returned str, expected a dict"),
        ("    return {'result': 'done'}", "bad_return", "result='done', expected 'complete' or 'others'"),
        ("    open('/tmp/awm-verifier-was-here', 'w').write('x')\n    return {'result': 'complete'}", "PermissionError", "for writing is not allowed"),
        ("    import os\n    os.system('true')", "PermissionError", "os.system is not allowed"),
        ("    import socket\n    socket.create_connection(('127.0.0.1', 9))", "PermissionError", "is not allowed"),
        ("    import sqlite3\n    sqlite3.connect('/tmp/other.db')", "PermissionError", "only the initial and final databases"),
        ("    import sys\n    sys.exit(3)", "SystemExit", "3"),
    ],
)
def test_verifier_failures_are_reported_not_raised(body, error_type, message):
    code = f"def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n{body}\n"
    result = judge(bundle_with(code), True)
    assert result.result == "error"
    assert result.error["error_type"] == error_type
    assert message in result.error["message"]


def test_runaway_verifier_is_killed_at_the_timeout():
    code = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    while True:\n        pass\n"
    result = judge(bundle_with(code), True, timeout_s=1.0)
    assert result.result == "error" and result.error["error_type"] == "verifier_timeout"
    assert result.elapsed_ms < 5000


def test_error_line_points_into_the_verifier():
    code = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    x = 1\n    return 1 / 0\n"
    result = judge(bundle_with(code), True)
    assert result.error == {"error_type": "ZeroDivisionError", "message": "division by zero", "line": 3}


def test_missing_verifier_is_named():
    with pytest.raises(VerifierUnavailable, match="notes_1 task 0 has no sql-mode verifier"):
        judge(bundle_with(COUNT_NOTES), False, mode="sql")
