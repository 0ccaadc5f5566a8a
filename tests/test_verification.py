"""Verifiers run in a child process: verdicts come back, and so do their failures, as data."""

import asyncio
from pathlib import Path

import pytest

from awm_release.bundle import Bundle
from awm_release.database import build_template_image, open_image
from awm_release.sandbox.verification import VerifierUnavailable, verify
from awm_release.sandbox.verifier_pool import VerifierPool

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
    assert (done.result, done.reward, done.details, done.error) == ("complete", 1.0, {"answer_seen": "added"}, None)
    untouched = judge(bundle, False, rewards={"others": -0.5})
    assert (untouched.result, untouched.reward) == ("others", -0.5)


def test_sql_mode_returns_the_facts():
    facts = 'def verify_task(initial_db_path, final_db_path):\n    return {"checked": [initial_db_path != final_db_path]}\n'
    result = judge(bundle_with(COUNT_NOTES, facts), True, mode="facts")
    assert result.result == "facts" and result.details == {"checked": [True]} and result.reward is None


@pytest.mark.parametrize(
    ("body", "error_type", "message"),
    [
        ("    raise KeyError('orders')", "KeyError", "'orders'"),
        ("    return 'complete'", "bad_return", "verifier returned str, expected a dict"),
        ("    return {'result': 'done'}", "bad_return", "result='done', expected 'complete' or 'others'"),
        ("    open('/tmp/awm-verifier-was-here', 'w').write('x')\n    return {'result': 'complete'}", "PermissionError", "opening files is not allowed"),
        ("    import os\n    os.system('true')", "PermissionError", "os.system is not allowed"),
        ("    import subprocess\n    subprocess.run(['true'])", "PermissionError", "subprocess.Popen is not allowed"),
        ("    import sqlite3\n    sqlite3.connect('/tmp/other.db')", "PermissionError", "only the initial and final databases"),
        ("    import sys\n    sys.exit(3)", "SystemExit", "3"),
    ],
)
def test_verifier_failures_are_reported_not_raised(body, error_type, message):
    code = f"def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n{body}\n"
    result = judge(bundle_with(code), True)
    assert result.result == "judge_error" and result.reward == 0.0
    assert result.error["error_type"] == error_type
    assert message in result.error["message"]


def test_runaway_verifier_is_killed_at_the_timeout():
    code = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    while True:\n        pass\n"
    result = judge(bundle_with(code), True, timeout_s=1.0)
    assert result.result == "judge_error" and result.error["error_type"] == "verifier_timeout"
    assert result.elapsed_ms < 5000


def test_error_line_points_into_the_verifier():
    code = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    x = 1\n    return 1 / 0\n"
    result = judge(bundle_with(code), True)
    assert result.error == {"error_type": "ZeroDivisionError", "message": "division by zero", "line": 3}


def test_missing_verifier_is_named():
    with pytest.raises(VerifierUnavailable, match="notes_1 task 0 has no sql-mode verifier"):
        judge(bundle_with(COUNT_NOTES), False, mode="facts")


ATTACKS = {
    "write a file": ("    open('/tmp/awm-attack', 'w').write('x')", "PermissionError"),
    "read the server's files": ("    return {'result': open('/etc/passwd').read()}", "PermissionError"),
    "list directories": ("    import os\n    return {'result': str(os.listdir('/'))}", "PermissionError"),
    "open a socket": ("    import socket\n    socket.socket().connect(('127.0.0.1', 80))", "PermissionError"),
    "shell out": ("    import os\n    os.system('touch /tmp/awm-attack')", "PermissionError"),
    "subprocess": ("    import subprocess\n    subprocess.run(['true'])", "PermissionError"),
    "fork bomb": ("    import os\n    while True:\n        os.fork()", "PermissionError"),
    "infinite loop": ("    while True:\n        pass", "verifier_timeout"),
    "memory bomb": ("    hog = bytearray(8 << 30)\n    return {'result': len(hog)}", "MemoryError"),
    "write the database": ("    import sqlite3\n    c = sqlite3.connect(final_db_path)\n    c.execute('DELETE FROM notes')\n    c.commit()",
                           "DatabaseError"),
    "native code": ("    import ctypes\n    ctypes.CDLL(None).getpid()", "PermissionError"),
}


def test_attacks_are_contained_and_the_pool_keeps_working(tmp_path):
    """Every attack comes back as a judge_error naming what was refused, and the same warm pool then verifies fine."""
    bundle = bundle_with(COUNT_NOTES)
    image, _ = build_template_image(bundle)
    grown = open_image(image)
    grown.execute("INSERT INTO notes VALUES (2, 'b')")
    grown.commit()

    async def scenario():
        outcomes = {}
        async with VerifierPool(size=2) as pool:
            for name, (body, _) in ATTACKS.items():
                code = f"def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n{body}\n"
                attack = bundle_with(code)
                outcomes[name] = await verify(attack, 0, image, grown.serialize(), pool=pool, timeout_s=2.0)
            outcomes["honest"] = await verify(bundle, 0, image, grown.serialize(), pool=pool)
        return outcomes

    outcomes = asyncio.run(scenario())
    for name, (_, error_type) in ATTACKS.items():
        result = outcomes[name]
        assert result.result == "judge_error", (name, result)
        assert result.error["error_type"] == error_type, (name, result.error)
    assert outcomes["honest"].result == "complete"
    assert not Path("/tmp/awm-attack").exists()


def test_a_cancelled_request_never_hands_its_answer_to_the_next_caller():
    slow = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    import time\n    time.sleep(1.5)\n    return {'result': 'complete', 'who': 'slow'}\n"
    honest = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return {'result': 'others', 'who': 'honest'}\n"

    async def scenario():
        async with VerifierPool(size=1) as pool:
            abandoned = asyncio.create_task(pool.run(slow, "verify_task_completion", b"", b"", [None], 5.0))
            await asyncio.sleep(0.3)
            abandoned.cancel()
            with pytest.raises(asyncio.CancelledError):
                await abandoned
            return await pool.run(honest, "verify_task_completion", b"", b"", [None], 5.0)

    assert asyncio.run(scenario()) == {"ok": True, "value": {"result": "others", "who": "honest"}}


def test_verifiers_may_use_the_standard_library_real_verifiers_import():
    """zoneinfo reads the time-zone database; csv, io, statistics, decimal, ... work as in plain Python."""
    code = '''def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    import csv, datetime, decimal, functools, hashlib, io, itertools, statistics, string, textwrap, uuid, zoneinfo
    local = datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    rows = list(csv.reader(io.StringIO("a,b\\n1,2\\n")))
    return {"result": "others", "offset_h": local.utcoffset().total_seconds() / 3600, "rows": rows,
            "mean": statistics.mean([1, 2, 3]), "money": str(decimal.Decimal("1.10") + decimal.Decimal("2.20")),
            "digest": hashlib.sha256(b"x").hexdigest()[:8], "uuid": str(uuid.UUID(int=1)),
            "wrapped": textwrap.shorten("a b c d e f", 7), "letters": string.ascii_lowercase[:3],
            "pairs": len(list(itertools.combinations(range(4), 2))), "total": functools.reduce(lambda a, b: a + b, [1, 2])}
'''
    result = judge(bundle_with(code), False)
    assert result.error is None, result.error
    assert result.details == {"offset_h": -4.0, "rows": [["a", "b"], ["1", "2"]], "mean": 2, "money": "3.30",
                              "digest": "2d711642", "uuid": "00000000-0000-0000-0000-000000000001", "wrapped": "a [...]",
                              "letters": "abc", "pairs": 6, "total": 3}
