"""`awm bundle check` on the demo bundles and the real sample (zero divergences: CI enforces it), and on a
bundle made to diverge, to show that the checker can fail."""

import json
import subprocess
import sys

import pytest

from awm_release.bundle import Bundle
from awm_release.bundle_io import write_bundle
from awm_release.check.compare import Outcome
from awm_release.check.original import OriginalServer
from awm_release.check.runner import checked_sandbox

DEMOS = ["bookstore_1", "task_tracker_1", "clinic_booking_1"]

PLANTED_CODE = '''
import os
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine, Column, Integer, String, text
from sqlalchemy.orm import declarative_base, sessionmaker

engine = create_engine(os.getenv("DATABASE_PATH", "sqlite:///x.db"), connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()

class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    text = Column(String)

Base.metadata.create_all(engine)
app = FastAPI()

class NoteIn(BaseModel):
    text: str

@app.get("/whoami", operation_id="whoami")
def whoami():
    return {"module": __name__}  # "__main__" in the original's process: a divergence nobody needs fixed

@app.get("/where", operation_id="where_am_i")
def where_am_i():
    import socket
    # "awm-sandbox" and no network but loopback, on both sides, only if both run in the sandbox
    return {"host": socket.gethostname(), "interfaces": [name for _, name in socket.if_nameindex()]}

@app.post("/notes", operation_id="add_note")
def add_note(note: NoteIn):
    with SessionLocal() as s:
        s.execute(text("INSERT INTO notes (text) VALUES (:t)"), {"t": note.text})
        s.commit()
    return {"added": note.text}

@app.post("/notes", operation_id="add_note_shouting")
def add_note_shouting(note: NoteIn):
    return {"added": note.text.upper()}

if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=8000)
'''


def planted_bundle() -> Bundle:
    return Bundle(
        bundle_id="planted_1", display_name="Planted", tasks=["Add a note."],
        tables=[{"name": "notes", "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"}],
        seed=[{"table_name": "notes", "insert_statements": ["INSERT INTO notes VALUES (1, 'first')"]}],
        env_code=PLANTED_CODE,
        verifiers=[{"task_idx": 0, "code": {"code": "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n"
                                                    "    return {'result': 'complete'}\n"}}],
    )


@pytest.fixture(scope="module")
def checked(imported_dir, tmp_path_factory):
    """One run of the command over the demos, the sample's servable bundle and the planted one (~40 s on 2 cores)."""
    work = tmp_path_factory.mktemp("check")
    write_bundle(planted_bundle(), work / "planted")
    out = work / "check.json"
    run = subprocess.run([sys.executable, "-m", "awm_release.cli", "bundle", "check", *DEMOS,
                          str(imported_dir / "content_platform_1.json"), str(work / "planted"), "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    return run, {b["bundle_id"]: b for b in json.loads(out.read_text())["bundles"]}


def test_demo_and_real_sample_bundles_behave_as_in_the_original_runtime(checked):
    run, reports = checked
    for bundle_id in [*DEMOS, "content_platform_1"]:
        report = reports[bundle_id]
        divergences = [f for f in report["findings"] if f["category"] == "divergence"]
        assert report["status"] == "checked" and divergences == [], (bundle_id, divergences)
        assert report["tools"]["here"] == report["tools"]["original"] > 15
        assert report["counts"]["agreement"] > 100
        assert {f["kind"] for f in report["findings"]} <= {"example", "seed", "stress", "sequence"}
    # path values the original splices into its URL unescaped: awm-serve does better, and says so
    improvements = [f["detail"] for f in reports["bookstore_1"]["findings"] if f["category"] == "improvement"]
    assert any("the original passes code='100% A', not '100% %41'" in d for d in improvements)
    # handlers of the real sample that crash on both sides are the data's fault, not a divergence
    assert reports["content_platform_1"]["counts"]["fault_in_both"] > 0


def test_the_checker_catches_a_divergence_and_tells_improvements_and_free_verifiers_apart(checked):
    run, reports = checked
    planted = reports["planted_1"]
    divergences = [(f["label"], f["detail"]) for f in planted["findings"] if f["category"] == "divergence"]
    assert divergences == [("whoami with the spec's examples",
                            'step 1 (whoami): body differs at $.module: here {"module": "awm_env_planted_1"}, original {"module": "__main__"}')]
    improvements = {f["label"]: f["detail"] for f in planted["findings"] if f["category"] == "improvement"}
    assert "the original serves no tool 'add_note' (another route on POST /notes took its place)" in improvements["add_note with the spec's examples"]
    assert planted["tools"] == {"spec": None, "here": 4, "original": 3}
    assert not any(f["label"].startswith("where_am_i") for f in planted["findings"])  # both sandboxed: "awm-sandbox", ["lo"]
    assert planted["complete_untouched"] == [0]
    assert run.returncode == 1  # a divergence fails the command
    assert "divergence: planted_1: whoami" in run.stdout and "complete on the untouched database" in run.stdout


def test_the_original_runs_sandboxed_with_no_network_but_its_own_loopback(tmp_path):
    """The one place the checker runs bundle code: in awm-serve's sandbox, listening on a unix socket in its folder."""
    with OriginalServer(planted_bundle(), tmp_path / "planted_1", checked_sandbox(True)) as original:
        assert original.call("where_am_i", {}) == Outcome("ok", 200, {"host": "awm-sandbox", "interfaces": ["lo"]})
