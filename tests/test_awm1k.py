"""AWM-1K import/export on the real sample records: lossless, and honest about partial scenarios."""

import json
import shutil
import subprocess
import sys

import pytest

from awm_release.awm1k import AWM1K_FILES, read_awm1k, write_awm1k
from awm_release.bundle_io import read_bundle, write_bundle
from awm_release.database import build_template_image
from awm_release.demo import load_demo_bundle


def assert_same_files(original, exported):
    names = sorted(p.name for p in original.glob("gen_*.jsonl"))
    assert sorted(p.name for p in exported.glob("gen_*.jsonl")) == names
    for name in names:
        assert (exported / name).read_bytes() == (original / name).read_bytes(), name


def test_round_trip_through_bundle_files_is_byte_identical(sample_dir, tmp_path):
    result = read_awm1k(sample_dir)
    for bundle in result.bundles:
        write_bundle(bundle, tmp_path / "bundles")
    reread = [read_bundle(p) for p in sorted((tmp_path / "bundles").iterdir())]
    write_awm1k(reread, tmp_path / "out")
    assert_same_files(sample_dir, tmp_path / "out")


def test_partial_scenarios_are_imported_and_what_they_lack_is_listed(sample_dir):
    result = read_awm1k(sample_dir)
    assert sorted(result.notes) == [
        "booking_and_appointments_1", "booking_marketplace_1", "code_hosting_2",
        "content_platform_1", "e_commerce_33", "marketplace_1",
    ]
    assert result.notes["content_platform_1"].missing == [
        "scenario description (gen_scenario)",
        "API spec (gen_spec)",
        "code-mode verifiers (gen_verifier.pure_code)",
        "sql-mode verifiers (gen_verifier)",
    ]
    assert result.notes["e_commerce_33"].missing == [
        "scenario description (gen_scenario)",
        "environment code (gen_envs)",
        "code-mode verifiers for tasks 3-9 (gen_verifier.pure_code)",
        "sql-mode verifiers for tasks 1-9 (gen_verifier)",
    ]
    e_commerce = next(b for b in result.bundles if b.bundle_id == "e_commerce_33")
    assert len(e_commerce.tasks) == 10 and len(e_commerce.tables) == 19
    assert e_commerce.verifier_for(0).sql is not None and e_commerce.verifier_for(0).code is not None
    assert result.file_errors == []


def test_sample_databases_build_without_failures(sample_dir):
    for bundle in read_awm1k(sample_dir).bundles:
        if bundle.seed:
            _, report = build_template_image(bundle)
            assert report.failures == [] and report.rows_inserted > 100


@pytest.fixture
def quirky_dir(sample_dir, tmp_path):
    """The sample plus the quirks of real pipeline output: display names, duplicate rows, backslash quotes, a bad line,
    a code-mode verifier in gen_verifier.jsonl, a verifier that does not parse."""
    work = tmp_path / "quirky"
    shutil.copytree(sample_dir, work)
    with (work / "gen_scenario.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"name": "Content Platform 1", "description": "A video platform."}, ensure_ascii=False) + "\n")
    pure = (work / "gen_verifier.pure_code.jsonl").read_text(encoding="utf-8").splitlines(True)
    (work / "gen_verifier.pure_code.jsonl").write_text("".join(pure + [pure[1]]), encoding="utf-8")
    sample = [json.loads(line) for line in (work / "gen_sample.jsonl").read_text(encoding="utf-8").splitlines()]
    users = sample[0]["sample_data"]["tables"][0]["insert_statements"]
    users.append("INSERT INTO users (id, username, email, full_name) VALUES (77, 'o\\'brien', 'ob@example.com', 'Pat O\\'Brien')")
    users.append("INSERT INTO users (id, username) VALUES (78, 'needs\\'email')")  # fails for another reason
    (work / "gen_sample.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    with (work / "gen_tasks.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"scenario": "Odd One", "tasks": ["fine", 2]}\n')  # a malformed record stops nothing else
        f.write('{"scenario": "broken", "tasks": [\n')
    code_mode = json.loads(pure[2])  # task 2's code-mode verifier, also written (as real output does) to gen_verifier.jsonl
    code_mode["task_idx"] = 5
    broken = {**code_mode, "task_idx": 6, "verification": {"code": "def verify_task(a, b):\n    return {'x': (}\n", "raw_response": ""}}
    with (work / "gen_verifier.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(code_mode, ensure_ascii=False) + "\n" + json.dumps(broken, ensure_ascii=False) + "\n")
    return work


def test_quirks_are_handled_reported_and_still_lossless(quirky_dir, tmp_path):
    result = read_awm1k(quirky_dir)
    notes = result.notes
    content = next(b for b in result.bundles if b.bundle_id == "content_platform_1")
    assert content.display_name == "Content Platform 1" and content.description == "A video platform."
    assert notes["e_commerce_33"].duplicates == ["gen_verifier.pure_code.jsonl:4 (code-mode verifier of task 1)"]
    e_commerce = next(b for b in result.bundles if b.bundle_id == "e_commerce_33")
    assert e_commerce.verifier_for(5).code.code == e_commerce.verifier_for(2).code.code  # its mode is the function it defines
    assert e_commerce.verifier_for(5).sql is None and e_commerce.verifier_for(6).sql is not None
    assert "syntax error" in str(e_commerce.verifier_problem(6, "sql"))
    users = e_commerce.seed[0].insert_statements
    assert "'o\\'brien'" in users[3]  # kept as written: the original runtime rejects this row, and so does the template
    assert any("invalid JSON" in e and e.startswith("gen_tasks.jsonl:5") for e in result.file_errors)
    assert notes["odd_one"].errors == ["gen_tasks.jsonl:4: unexpected record layout (tasks[1]: Input should be a valid string); "
                                       "kept verbatim for export"]
    _, report = build_template_image(e_commerce, allow_seed_errors=True)
    assert [f.location for f in report.seed_failures] == ["seed[0].insert_statements[3]", "seed[0].insert_statements[4]"]
    write_awm1k(result.bundles, tmp_path / "out")
    for name in AWM1K_FILES:
        original = (quirky_dir / name).read_text(encoding="utf-8").splitlines(True)
        if name == "gen_tasks.jsonl":
            original = original[:-1]  # the line that is not JSON was reported, not imported
        assert (tmp_path / "out" / name).read_text(encoding="utf-8").splitlines(True) == original, name


def test_bundles_made_elsewhere_export_every_part(tmp_path):
    bundle = load_demo_bundle("task_tracker_1")
    counts = write_awm1k([bundle], tmp_path)
    assert counts == {
        "gen_scenario.jsonl": 1, "gen_tasks.jsonl": 1, "gen_db.jsonl": 1, "gen_sample.jsonl": 1,
        "gen_spec.jsonl": 1, "gen_envs.jsonl": 1, "gen_verifier.jsonl": 10, "gen_verifier.pure_code.jsonl": 10,
    }
    back = read_awm1k(tmp_path)
    assert back.notes["task_tracker_1"].missing == []
    again = back.bundles[0]
    for field in ("tasks", "tables", "seed", "api_spec", "env_code", "verifiers", "description"):
        assert getattr(again, field) == getattr(bundle, field), field


def test_cli_import_then_export(sample_dir, tmp_path):
    awm = [sys.executable, "-m", "awm_release.cli"]
    imported = subprocess.run([*awm, "import-awm1k", str(sample_dir), str(tmp_path / "b")], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert "0 complete, 6 partial" in imported.stdout
    exported = subprocess.run([*awm, "export-awm1k", str(tmp_path / "b"), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    assert_same_files(sample_dir, tmp_path / "o")
    missing = subprocess.run([*awm, "import-awm1k", str(tmp_path / "nowhere"), str(tmp_path / "x")], capture_output=True, text=True)
    assert missing.returncode == 2 and "none of the AWM-1K files" in missing.stderr
