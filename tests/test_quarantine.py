"""One broken bundle never blocks the others: serving, packing, validating and evaluating leave out what cannot
be used, one clear line each, and go on; --strict restores all-or-nothing."""

import json
import subprocess
import sys
from unittest.mock import ANY

import httpx
import pytest
from typer.testing import CliRunner

from awm_release.agent.tasks import load_split_tasks
from awm_release.bundle import TableSchema, VerifierCode
from awm_release.bundle_io import write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundle
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import read_manifest
from awm_release.release.pack import PackOptions, pack_release
from env_server.process import ServerProcess

BROKEN_VERIFIER = "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    return {'result': (}\n"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder as a real import leaves it: a bundle whose task-2 verifier does not parse, one whose code does not
    parse, a file that is not a bundle, and a clean bundle."""
    folder = tmp_path_factory.mktemp("mixed")
    tracker = load_demo_bundle("task_tracker_1")
    verifiers = list(tracker.verifiers)
    verifiers[2] = verifiers[2].model_copy(update={"code": VerifierCode(code=BROKEN_VERIFIER)})
    write_bundle(tracker.model_copy(update={"verifiers": verifiers}), folder)
    clinic = load_demo_bundle("clinic_booking_1")
    write_bundle(clinic.model_copy(update={"bundle_id": "broken_code_1", "env_code": "def oops(:\n"}), folder)
    (folder / "not_a_bundle.json").write_text('{"bundle_id": "Not A Bundle"}')
    write_bundle(load_demo_bundle("bookstore_1"), folder)
    return folder


def test_serving_a_folder_skips_what_cannot_be_used_and_verifying_a_broken_verifier_says_why(mixed):
    with ServerProcess(["--bundles", str(mixed), "--workers", "1"], log_level="warning") as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        served = client.get("/health").json()["bundles"]
        assert served == ["bookstore_1", "task_tracker_1"]
        output = server.output()
        assert f"warning: skipped {mixed / 'not_a_bundle.json'}: display_name: Field required\n" in output
        assert "warning: not serving broken_code_1: env_code: line 1: syntax error" in output
        session = client.post("/sessions", json={"bundle_id": "task_tracker_1", "task_idx": 2}).json()["session_id"]
        refused = client.post(f"/sessions/{session}/verify", json={})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "no_verifier"
        assert refused.json()["error"]["message"].startswith("task_tracker_1 task 2: its code-mode verifier cannot run "
                                                             "(verifiers[2].code.code: line 2: syntax error")
        other = client.post(f"/sessions/{session}/verify", json={"task_idx": 3}).json()
        assert other["result"] == "others"  # the bundle's other tasks verify as usual
    named = subprocess.run([sys.executable, "-m", "env_server.cli", "broken_code_1", "--bundles", str(mixed), "--port", "1"],
                           capture_output=True, text=True, timeout=60)
    assert named.returncode == 2 and "bundle broken_code_1 cannot be served: env_code: line 1: syntax error" in named.stderr
    strict = subprocess.run([sys.executable, "-m", "env_server.cli", "bookstore_1", "--bundles", str(mixed), "--strict", "--port", "1"],
                            capture_output=True, text=True, timeout=60)
    assert strict.returncode == 2 and "broken_code_1.json: 1 problem(s)" in strict.stderr  # the first problem stops it


def test_packing_leaves_out_and_lists_what_cannot_be_used(mixed, tmp_path):
    clinic = load_demo_bundle("clinic_booking_1")
    ghost = TableSchema(name="ghost_table", ddl="CREATE TABLE ghost_table (")  # fails, and no model of the code creates it
    write_bundle(clinic.model_copy(update={"tables": [*clinic.tables, ghost]}), tmp_path / "more")
    manifest = pack_release([mixed, tmp_path / "more"], tmp_path / "rel", PackOptions(version="1.0.0", progress=False))
    assert manifest.quarantined.pop("clinic_booking_1") == [
        f"tables[{len(clinic.tables)}]: table 'ghost_table' is missing (its DDL failed and the environment code does not create "
        "it) (not servable: its tasks left out of the tasks config)"]
    assert sorted(manifest.bundles) == ["bookstore_1", "broken_code_1", "clinic_booking_1", "task_tracker_1"]
    assert manifest.skipped == {str(mixed / "not_a_bundle.json"): "display_name: Field required"}
    assert list(manifest.quarantined) == ["broken_code_1", "task_tracker_1"]
    assert manifest.quarantined["task_tracker_1"][0].endswith("(task 2's code-mode verifier left out of the tasks config)")
    assert "not servable: its tasks left out" in manifest.quarantined["broken_code_1"][0]
    assert manifest.counts["tasks_total"] == 20  # broken_code_1's ten tasks cannot be run
    card = (tmp_path / "rel" / "README.md").read_text()
    assert "## Left out (quarantine)" in card and "not_a_bundle.json" in card and "`task_tracker_1`:" in card
    assert read_manifest(tmp_path / "rel").quarantined == {**manifest.quarantined, "clinic_booking_1": ANY}
    splits = [s for s in ("train", "validation", "test") if s in manifest.counts["tasks"] and manifest.counts["tasks"][s]]
    tasks = {s: load_split_tasks(tmp_path / "rel", s) for s in splits}
    assert sum(t.bundle_id == "task_tracker_1" for ts in tasks.values() for t in ts) == 10  # the task stays; its verifier does not
    split = next(s for s, ts in tasks.items() if any(t.key == "task_tracker_1:2" for t in ts))
    skipped: list[str] = []
    kept = load_split_tasks(tmp_path / "rel", split, verifier="code", skipped=skipped)
    assert "task_tracker_1:2" not in {t.key for t in kept}  # awm eval in code mode leaves it out, with one line
    assert skipped == ["skipped task task_tracker_1:2: it has no usable code-mode verifier in this release"]
    with pytest.raises(Exception, match="broken_code_1.json"):  # --strict: the first problem stops the pack
        pack_release([mixed], tmp_path / "strict", PackOptions(version="1.0.0", progress=False, strict=True))


def test_validate_reports_every_bundle_and_fails_only_on_unusable_ones(mixed):
    result = CliRunner().invoke(app, ["bundle", "validate", str(mixed)])
    assert result.exit_code == 1  # not_a_bundle.json cannot be used at all
    assert "task_tracker_1.json (task_tracker_1" in result.output and "ok, 1 problem(s)" in result.output
    assert "(task 2's code-mode verifier is left out)" in result.output
    assert "unusable" in result.output and "3 usable (2 with problems), 1 unusable" in result.output
    clean = CliRunner().invoke(app, ["bundle", "validate", str(mixed / "bookstore_1.json"), str(mixed / "task_tracker_1.json")])
    assert clean.exit_code == 0
    strict = CliRunner().invoke(app, ["bundle", "validate", "--strict", str(mixed / "task_tracker_1.json")])
    assert strict.exit_code == 1


def test_a_pack_with_nothing_usable_says_so(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.json").write_text("{}")
    with pytest.raises(ReleaseError, match="none of the 1 bundle file"):
        pack_release([tmp_path / "b"], tmp_path / "rel", PackOptions(version="1.0.0", progress=False))


def test_import_reports_each_bundle_and_exits_1_on_problems_unless_allowed(sample_dir, tmp_path):
    work = tmp_path / "awm1k"
    work.mkdir()
    for name in ("gen_tasks.jsonl", "gen_db.jsonl", "gen_sample.jsonl", "gen_envs.jsonl", "gen_verifier.pure_code.jsonl"):
        (work / name).write_bytes((sample_dir / name).read_bytes())
    pure = [json.loads(line) for line in (sample_dir / "gen_verifier.pure_code.jsonl").read_text().splitlines()]
    code_mode_in_sql_file = {**pure[0], "task_idx": 4}  # as real pipeline output has it
    broken = {**pure[0], "task_idx": 5, "verification": {"code": BROKEN_VERIFIER, "raw_response": ""}}
    (work / "gen_verifier.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (code_mode_in_sql_file, broken)))
    runner = CliRunner()
    result = runner.invoke(app, ["import-awm1k", str(work), str(tmp_path / "b")])
    assert result.exit_code == 1, result.output
    assert "0 complete, 2 partial, 1 with problems" in result.output
    # a verifier that does not parse keeps the mode its file is named for
    assert "verifiers[4].sql.code: line 2: syntax error" in result.output and "(task 5's sql-mode verifier is left out)" in result.output
    assert "pass --allow-problems to accept them" in result.output
    written = json.loads((tmp_path / "b" / "e_commerce_33.json").read_text())
    assert {v["task_idx"] for v in written["verifiers"] if v["code"]} == {0, 1, 2, 4}  # mode from the function defined
    assert runner.invoke(app, ["import-awm1k", str(work), str(tmp_path / "c"), "--allow-problems"]).exit_code == 0
    exported = runner.invoke(app, ["export-awm1k", str(tmp_path / "b"), "--out", str(tmp_path / "out")])
    assert exported.exit_code == 0
    assert (tmp_path / "out" / "gen_verifier.jsonl").read_bytes() == (work / "gen_verifier.jsonl").read_bytes()
