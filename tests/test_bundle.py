"""The bundle model: validation with locations, content hashing, atomic JSON files."""

import json

import pytest

from awm_release.bundle import Bundle, BundleError, bundle_from_dict
from awm_release.bundle_io import read_bundle, read_bundles, write_bundle
from awm_release.demo import load_demo_bundle


def minimal(**overrides) -> dict:
    data = {"bundle_id": "shop_1", "display_name": "Shop 1", "tasks": ["Buy a thing."]}
    data.update(overrides)
    return data


def test_validation_reports_every_problem_with_its_location():
    data = minimal(
        bundle_id="Shop 1",
        tasks=["ok", "", "  "],
        tables=[{"name": "a", "ddl": "CREATE TABLE a (id INTEGER)"}, {"name": "a", "ddl": ""}],
        seed=[{"table_name": "ghost", "insert_statements": []}],
        env_code="def broken(:\n",
        verifiers=[{"task_idx": 5, "code": {"code": "def something_else(): pass"}}],
    )
    with pytest.raises(BundleError) as info:
        bundle_from_dict(data, "shop.json")
    found = {str(p) for p in info.value.problems}
    assert "tasks[1]: empty string" in found
    assert "tasks[2]: empty string" in found
    assert "tables[1].ddl: empty string" in found
    assert "tables[1].name: duplicate table 'a'" in found
    assert "seed[0].table_name: 'ghost' is not a table of the schema" in found
    assert any(p.startswith("bundle_id: 'Shop 1' is not normalized") for p in found)
    assert any(p.startswith("env_code: line 1: syntax error") for p in found)
    assert "verifiers[0].task_idx: task 5 does not exist (3 tasks)" in found
    assert "verifiers[0].code.code: defines no top-level function verify_task_completion()" in found
    assert str(info.value).startswith("shop.json: 9 problem(s)")


def test_schema_errors_are_located_too():
    with pytest.raises(BundleError) as info:
        bundle_from_dict({"bundle_id": "x", "tasks": ["a", 3], "unexpected": 1}, "x.json")
    found = {str(p) for p in info.value.problems}
    assert "display_name: Field required" in found
    assert "tasks[1]: Input should be a valid string" in found
    assert "unexpected: Extra inputs are not permitted" in found


def test_hash_is_canonical_and_tracks_content():
    a = Bundle.model_validate(minimal())
    b = Bundle.model_validate(dict(reversed(list(minimal().items()))))
    assert a.sha256 == b.sha256
    assert len(a.sha256) == 64
    assert Bundle.model_validate(minimal(tasks=["Buy two things."])).sha256 != a.sha256


def test_file_round_trip_and_tamper_detection(tmp_path):
    bundle = load_demo_bundle("bookstore_1")
    path = write_bundle(bundle, tmp_path)
    assert path.name == "bookstore_1.json"
    assert read_bundle(path) == bundle
    assert [p.name for p in tmp_path.iterdir()] == ["bookstore_1.json"]  # no temp file left behind
    data = json.loads(path.read_text())
    data["tasks"][0] = "Something else entirely."
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="awm bundle rehash"):
        read_bundle(path)


def test_unreadable_files_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"bundle_id": ')
    with pytest.raises(BundleError, match=r"bad.json: 1 problem\(s\):\n  - line 1 column 15: the file ends before its JSON is complete"):
        read_bundle(bad)
    with pytest.raises(BundleError, match="no such file"):
        read_bundle(tmp_path / "absent.json")


def test_two_files_with_one_id_are_refused(tmp_path):
    bundle = load_demo_bundle("bookstore_1")
    write_bundle(bundle, tmp_path / "a.json")
    write_bundle(bundle, tmp_path / "b.json")
    with pytest.raises(BundleError, match="'bookstore_1' is also defined by"):
        read_bundles([tmp_path])


def test_missing_lists_exactly_what_a_partial_bundle_lacks():
    bundle = Bundle.model_validate(minimal(tasks=["a", "b", "c"], verifiers=[{"task_idx": 1, "code": {"code": "def verify_task_completion(): pass"}}]))
    assert bundle.missing() == [
        "scenario description (gen_scenario)",
        "database schema (gen_db)",
        "seed data (gen_sample)",
        "API spec (gen_spec)",
        "environment code (gen_envs)",
        "code-mode verifiers for tasks 0, 2 (gen_verifier.pure_code)",
        "sql-mode verifiers (gen_verifier)",
    ]
