"""Loading a release: the stock `datasets` library, `load_bundles` with hash checks, and the AWM-1K round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from awm_release import BundleError, load_bundles
from awm_release.awm1k import read_awm1k, write_awm1k
from awm_release.bundle_io import read_bundles, write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundle
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import read_manifest
from awm_release.release.pack import PackOptions, pack_release
from tests.test_awm1k import assert_same_files
from tests.test_release_pack import pack_sample_and_demo, renamed


@pytest.fixture(scope="module")
def release(imported_dir, tmp_path_factory) -> Path:
    return pack_sample_and_demo(imported_dir, tmp_path_factory.mktemp("release") / "awm-envs")


def test_stock_load_dataset_reads_both_configs(release, tmp_path):
    envs = load_dataset(str(release), cache_dir=str(tmp_path / "datasets-cache"))
    assert list(envs) == ["environments"] and envs["environments"].num_rows == 9
    row = next(r for r in envs["environments"] if r["bundle_id"] == "bookstore_1")
    demo = load_demo_bundle("bookstore_1")
    assert row["sha256"] == demo.sha256 and row["env_code"] == demo.env_code
    assert row["tables"][0] == demo.tables[0].model_dump() and row["verifiers"][3]["code"]["code"] == demo.verifiers[3].code.code
    tasks = load_dataset(str(release), "tasks", cache_dir=str(tmp_path / "datasets-cache"))
    manifest = read_manifest(release)
    assert {split: tasks[split].num_rows for split in tasks} == manifest.counts["tasks"]
    bookstore = [r for r in tasks["train"] if r["bundle_id"] == "bookstore_1"] + [r for r in tasks["validation"] if r["bundle_id"] == "bookstore_1"]
    assert sorted(r["task_idx"] for r in bookstore) == list(range(10))
    assert all(r["task"] == demo.tasks[r["task_idx"]] and r["verifiers"]["sql"] == demo.verifiers[r["task_idx"]].sql.code for r in bookstore)


def test_a_release_never_loads_stale_from_the_datasets_cache(tmp_path):
    """Two different releases (same ids) packed into same-named folders, in two places and one after the other:
    `load_dataset` returns each one's own rows, because the card records the content digest the cache key sees."""
    cache = str(tmp_path / "datasets-cache")
    bundle = load_demo_bundle("bookstore_1")
    seen = []
    for i, (place, tag) in enumerate([("a", "first"), ("b", "second"), ("b", "third")]):
        source = tmp_path / f"bundles-{i}"
        write_bundle(bundle.model_copy(update={"tasks": [f"{t} ({tag})" for t in bundle.tasks]}), source)
        out = tmp_path / place / "awm-envs"
        pack_release([source], out, PackOptions(version="1.0.0", progress=False, overwrite=True))
        tasks = load_dataset(str(out), "tasks", cache_dir=cache)
        seen.append({row["task"].rsplit(" ", 1)[-1] for split in tasks for row in tasks[split]})
        envs = load_dataset(str(out), cache_dir=cache)["environments"]
        assert envs[0]["tasks"][0].endswith(f"({tag})")
        digest = read_manifest(out).content_digest
        assert f"content sha256 {digest}" in (out / "README.md").read_text()
    assert seen == [{"(first)"}, {"(second)"}, {"(third)"}]


def test_load_bundles_gives_back_exactly_what_was_packed(release, imported_dir):
    loaded = load_bundles(release, progress=False)
    expected = read_bundles([imported_dir]) | {b: load_demo_bundle(b) for b in ("bookstore_1", "clinic_booking_1", "task_tracker_1")}
    assert loaded == expected


def test_awm1k_files_round_trip_through_the_dataset_byte_for_byte(sample_dir, tmp_path):
    bundles = tmp_path / "bundles"
    for bundle in read_awm1k(sample_dir).bundles:
        write_bundle(bundle, bundles)
    pack_release([bundles], tmp_path / "release", PackOptions(version="1.0.0", progress=False))
    write_awm1k(load_bundles(tmp_path / "release", progress=False).values(), tmp_path / "awm1k")
    assert_same_files(sample_dir, tmp_path / "awm1k")


def test_one_bundle_is_read_from_its_own_shard_only(monkeypatch, tmp_path):
    import awm_release.release.pack as pack_module

    monkeypatch.setattr(pack_module, "ROWS_PER_SHARD", 1)
    demo = load_demo_bundle("clinic_booking_1")
    bundles = {f"clinic_{i}": renamed(demo, f"clinic_{i}") for i in range(3)}
    folder = tmp_path / "b"
    for bundle in bundles.values():
        write_bundle(bundle, folder)
    manifest = pack_release([folder], tmp_path / "r", PackOptions(version="1.0.0", progress=False))
    for bundle_id, entry in manifest.bundles.items():
        if bundle_id != "clinic_1":
            (tmp_path / "r" / entry.file).unlink()
    assert load_bundles(tmp_path / "r", bundle_ids=["clinic_1"]) == {"clinic_1": bundles["clinic_1"]}
    with pytest.raises(ReleaseError, match="environments-00000-of-00003.parquet is missing"):
        load_bundles(tmp_path / "r", progress=False)


def test_unknown_ids_name_the_count_and_close_matches(release):
    with pytest.raises(ReleaseError) as caught:
        load_bundles(release, bundle_ids=["e_commerce_3", "zzz"])
    message = str(caught.value)
    assert "has 9 bundle(s)" in message and "'e_commerce_3' (did you mean e_commerce_33?)" in message and "'zzz'" in message
    with pytest.raises(ReleaseError, match="none named 'bookstore_2' \\(did you mean bookstore_1"):
        load_bundles("demo", bundle_ids=["bookstore_2"])


def test_demo_and_bad_sources(tmp_path, release):
    assert list(load_bundles("demo", bundle_ids=["task_tracker_1"])) == ["task_tracker_1"]
    assert sorted(load_bundles("demo")) == ["bookstore_1", "clinic_booking_1", "task_tracker_1"]
    with pytest.raises(ReleaseError, match="--revision 'v1.0.0' applies to Hub dataset repos"):
        load_bundles(release, revision="v1.0.0")
    with pytest.raises(ReleaseError, match="no such folder, and not a Hub dataset repo id"):
        load_bundles(str(tmp_path / "nowhere"))
    with pytest.raises(ReleaseError, match="not a dataset folder written by `awm release pack`"):
        load_bundles(tmp_path)


def _copy_with_edited_row(release: Path, tmp_path: Path, bundle_id: str, edit) -> Path:
    copy = tmp_path / "edited"
    shutil.copytree(release, copy)
    entry = read_manifest(copy).bundles[bundle_id]
    shard = copy / entry.file
    table = pq.read_table(shard)
    rows = table.to_pylist()
    edit(rows, entry.row)
    pq.write_table(table.from_pylist(rows, schema=table.schema), shard)
    return copy


def test_content_that_does_not_match_the_manifest_is_refused_by_name(release, tmp_path):
    def patch_code(rows, i):
        rows[i]["env_code"] += "\n# an edit made after packing\n"

    edited = _copy_with_edited_row(release, tmp_path, "bookstore_1", patch_code)
    with pytest.raises(BundleError) as caught:
        load_bundles(edited, bundle_ids=["bookstore_1"])
    message = str(caught.value)
    expected = read_manifest(release).bundles["bookstore_1"].sha256
    assert "bundle bookstore_1" in message and expected in message and "content hashes to " in message
    assert "download the release again" in message and "awm release pack" in message
    assert list(load_bundles(edited, bundle_ids=["clinic_booking_1"])) == ["clinic_booking_1"]  # the others still load


def test_invalid_rows_are_reported_like_invalid_bundle_files_and_quarantined_in_bulk(release, tmp_path, caplog):
    def break_row(rows, i):
        rows[i]["format_version"] = 99

    edited = _copy_with_edited_row(release, tmp_path, "task_tracker_1", break_row)
    with pytest.raises(BundleError, match=r"format_version: unsupported version 99"):
        load_bundles(edited, bundle_ids=["task_tracker_1"])  # asked for by name: its error
    loaded = load_bundles(edited, progress=False)  # all of them: the broken one is left out, with one line
    assert "task_tracker_1" not in loaded and len(loaded) == len(read_manifest(release).bundles) - 1
    assert [r.getMessage() for r in caplog.records if r.name == "awm.release"] == [
        f"skipped {edited}: bundle task_tracker_1: format_version: unsupported version 99 (this release reads 1)"]
    with pytest.raises(BundleError):
        load_bundles(edited, progress=False, strict=True)


def test_cli_unpack_writes_bundle_files(release, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["release", "unpack", str(release), "--out", str(tmp_path / "b"), "--bundle", "e_commerce_33"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["e_commerce_33.json"]
    assert read_bundles([tmp_path / "b"])["e_commerce_33"] == load_bundles(release, bundle_ids=["e_commerce_33"])["e_commerce_33"]
    bad = runner.invoke(app, ["release", "unpack", str(release), "--out", str(tmp_path / "c"), "--bundle", "nope"])
    assert bad.exit_code == 2 and "none named 'nope'" in bad.stderr
