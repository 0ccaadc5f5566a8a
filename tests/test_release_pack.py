"""`awm release pack`: a real Hugging Face dataset folder, deterministic, with the split as part of the data."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard
from typer.testing import CliRunner

from awm_release.bundle import Bundle, BundleError
from awm_release.bundle_io import write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundle, load_demo_bundles
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import read_manifest
from awm_release.release.pack import EPOCH, PackOptions, pack_release, resolve_created_at
from awm_release.release.rows import ENV_COLUMNS, TASK_COLUMNS, bundle_to_env_row, env_row_to_bundle_data
from awm_release.release.schema import ENVS_FEATURES, TASKS_FEATURES
from awm_release.release.splits import SplitRecipe, assign_splits

QUIET = {"progress": False}


def pack_sample_and_demo(imported_dir: Path, out: Path, **options) -> Path:
    """The AWM-1K sample (6 partial bundles) plus the 3 complete demo bundles, packed into `out`."""
    demo = out.parent / f"{out.name}-demo-bundles"
    for bundle in load_demo_bundles().values():
        write_bundle(bundle, demo)
    pack_release([imported_dir, demo], out, PackOptions(**{"version": "1.0.0", **QUIET, **options}))
    return out


@pytest.fixture(scope="module")
def release(imported_dir, tmp_path_factory) -> Path:
    return pack_sample_and_demo(imported_dir, tmp_path_factory.mktemp("release") / "awm-envs")


def renamed(bundle: Bundle, bundle_id: str) -> Bundle:
    return bundle.model_copy(update={"bundle_id": bundle_id})


def test_folder_is_a_dataset_repository_with_card_manifest_and_shards(release):
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "data/envs/environments-00000-of-00001.parquet",
        "data/tasks/test-00000-of-00001.parquet",
        "data/tasks/train-00000-of-00001.parquet",
        "data/tasks/validation-00000-of-00001.parquet",
        "manifest.json",
    ]
    card = DatasetCard.load(release / "README.md")
    configs = {c["config_name"]: c for c in card.data.configs}
    assert configs["envs"]["default"] is True
    assert [f["split"] for f in configs["tasks"]["data_files"]] == ["train", "validation", "test"]
    assert card.data.license == "cc-by-4.0" and "reinforcement-learning" in card.data.task_categories
    for section in ("## Statistics", "## Splits", "## Schema", "## Usage", "## Citation", "load_dataset(",
                    "awm-serve", "--revision v1.0.0", "@article{wang2026agentworldmodel"):
        assert section in card.text, section
    manifest = read_manifest(release)
    assert manifest.version == "1.0.0" and manifest.tag == "v1.0.0" and manifest.created_at == EPOCH
    assert manifest.counts["environments"] == 9 and len(manifest.bundles) == 9
    assert set(manifest.files) == {f for f in files if f.startswith("data/")}
    demo = load_demo_bundle("bookstore_1")
    assert manifest.bundles["bookstore_1"].sha256 == demo.sha256


def test_card_statistics_are_the_bundles_numbers(release):
    stats = {row["metric"]: row for row in read_manifest(release).statistics}
    assert stats["environments"]["total"] == "9 (3 complete, 6 partial)"
    assert stats["tasks"]["total"] == "60"  # 6 scenarios with tasks x 10
    demo_tables = sum(len(b.tables) for b in load_demo_bundles().values())
    assert int(stats["tables"]["total"]) == demo_tables + 19 + 22 + 14  # e_commerce_33, content_platform_1, code_hosting_2
    assert stats["tasks with a code-mode verifier"]["total"] == "33 of 60 (55.0 %)"  # 30 demo + e_commerce_33 tasks 0-2
    assert stats["tasks with a sql-mode verifier"]["total"] == "31 of 60 (51.7 %)"
    text = (release / "README.md").read_text(encoding="utf-8")
    assert "| tasks with a code-mode verifier | 33 of 60 (55.0 %) |  | 3 |" in text
    demo_routes = {"bookstore_1": 20, "task_tracker_1": 19, "clinic_booking_1": 19}
    assert stats["tools"]["total"] == str(sum(demo_routes.values()) + 34)  # routes the code serves; content_platform_1 has no spec
    assert stats["tools"]["environments"] == "4"


def test_statistics_count_served_routes_and_database_rows_not_spec_endpoints_and_statements():
    from awm_release.release.stats import bundle_figures

    bundle = load_demo_bundle("bookstore_1")
    spec_endpoints = sum(len(g["endpoints"]) for g in bundle.api_spec["api_groups"])
    extra_endpoint = {"group_name": "extra", "endpoints": [{"path": "/x", "method": "GET", "operation_id": "not_served"}]}
    seed = [s.model_copy(deep=True) for s in bundle.seed]
    statements = sum(len(s.insert_statements) for s in seed)
    seed[0].insert_statements.append(seed[0].insert_statements[0])  # a duplicate key: rejected, so no row
    table = bundle.tables[0].name
    multi = f"INSERT INTO {table} SELECT * FROM {table} WHERE 0"  # a statement that inserts no row
    seed[0].insert_statements.append(multi)
    changed = bundle.model_copy(update={"seed": seed, "api_spec": {"api_groups": [*bundle.api_spec["api_groups"], extra_endpoint]}})
    figures = bundle_figures(changed)
    assert figures["tools"] == 20 and spec_endpoints + 1 == 21
    assert figures["seed rows"] == bundle_figures(bundle)["seed rows"] and statements + 2 == sum(len(s.insert_statements) for s in seed)


def test_packing_is_byte_identical(imported_dir, release, tmp_path):
    again = pack_sample_and_demo(imported_dir, tmp_path / "again")
    for path in release.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(release)).read_bytes() == path.read_bytes(), path.name


def test_split_is_80_20_by_environment_and_by_task_and_seeded():
    demo = load_demo_bundle("bookstore_1")
    bundles = [renamed(demo, f"world_{i:02d}") for i in range(10)] + [demo.model_copy(update={"bundle_id": "no_tasks", "tasks": [], "verifiers": []})]
    splits = assign_splits(bundles, SplitRecipe(seed=0))
    assert splits.role_counts() == {"train": 8, "test": 2, "unsplit": 1}
    assert splits.task_counts() == {"train": 64, "validation": 16, "test": 20}
    for bundle_id, role in splits.roles.items():
        if role == "train":
            assert splits.task_splits[bundle_id].count("validation") == 2
    assert "no_tasks" not in splits.task_splits
    assert assign_splits(bundles, SplitRecipe(seed=0)).roles == splits.roles
    assert assign_splits(bundles, SplitRecipe(seed=1)).roles != splits.roles
    assert assign_splits(list(reversed(bundles)), SplitRecipe(seed=0)).task_splits == splits.task_splits  # order-free


def test_partial_bundles_get_rows_but_no_split(release):
    manifest = read_manifest(release)
    assert {b for b, e in manifest.bundles.items() if e.role == "unsplit"} == {
        "booking_and_appointments_1", "booking_marketplace_1", "marketplace_1"}  # only gen_scenario records
    tasks = pq.read_table(release / "data/tasks/train-00000-of-00001.parquet").to_pylist()
    assert not {"marketplace_1"} & {row["bundle_id"] for row in tasks}
    test_tasks = pq.read_table(release / "data/tasks/test-00000-of-00001.parquet").to_pylist()
    held_out = [b for b, e in manifest.bundles.items() if e.role == "test"]
    assert sorted({row["bundle_id"] for row in test_tasks}) == held_out and len(test_tasks) == 10 * len(held_out)


def test_every_bundle_field_is_a_column_and_rows_round_trip():
    assert set(Bundle.model_fields) | {"sha256", "split_role"} == set(ENV_COLUMNS) == set(ENVS_FEATURES)
    assert tuple(ENVS_FEATURES) == ENV_COLUMNS and tuple(TASKS_FEATURES) == TASK_COLUMNS
    bundle = load_demo_bundle("clinic_booking_1")
    row = bundle_to_env_row(bundle, bundle.sha256, "train")
    assert Bundle.model_validate(env_row_to_bundle_data(row)) == bundle
    assert isinstance(row["api_spec"], str) and isinstance(row["tables"], list)


def test_created_at_comes_from_the_option_or_source_date_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert resolve_created_at(None) == EPOCH
    assert resolve_created_at("2026-03-01") == "2026-03-01T00:00:00Z"
    assert resolve_created_at("2026-03-01T14:00:00+02:00") == "2026-03-01T12:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1772323200")
    assert resolve_created_at(None) == "2026-03-01T00:00:00Z"
    with pytest.raises(ReleaseError, match="not an ISO 8601 date"):
        resolve_created_at("yesterday")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    with pytest.raises(ReleaseError, match="SOURCE_DATE_EPOCH"):
        resolve_created_at(None)


def test_large_releases_are_sharded_and_the_manifest_points_at_each_row(monkeypatch, tmp_path):
    import awm_release.release.pack as pack_module

    monkeypatch.setattr(pack_module, "ROWS_PER_SHARD", 2)
    demo = load_demo_bundle("task_tracker_1")
    for i in range(5):
        write_bundle(renamed(demo, f"tracker_{i}"), tmp_path / "b")
    manifest = pack_release([tmp_path / "b"], tmp_path / "r", PackOptions(version="2.0.0", **QUIET))
    shards = sorted(manifest.files)
    assert [s for s in shards if s.startswith("data/envs/")] == [f"data/envs/environments-0000{i}-of-00003.parquet" for i in range(3)]
    for bundle_id, entry in manifest.bundles.items():
        assert pq.read_table(tmp_path / "r" / entry.file).column("bundle_id")[entry.row].as_py() == bundle_id


def test_many_files_are_read_on_every_core_with_the_same_result(monkeypatch, tmp_path):
    import awm_release.release.reading as reading

    monkeypatch.setattr(reading, "PARALLEL_MIN_FILES", 2)  # 40 files: two spawned workers where there are two cores
    tiny = [Bundle(bundle_id=f"tiny_{i:02d}", display_name=f"Tiny {i}", tasks=[f"task {i}"]) for i in range(40)]
    files = [write_bundle(b, tmp_path / "b") for b in tiny]
    read = list(reading.read_bundle_files(files))
    assert [r.bundle for r in read] == tiny and [r.sha256 for r in read] == [b.sha256 for b in tiny]
    bad = tmp_path / "b" / "zz_bad.json"
    bad.write_text('{"bundle_id": "Bad Id", "display_name": "x"}')
    with pytest.raises(BundleError, match=r"zz_bad.json: 1 problem\(s\):\n  - bundle_id: 'Bad Id' is not normalized"):
        list(reading.read_bundle_files([*files, bad]))
    copy = write_bundle(tiny[3], tmp_path / "copy.json")
    with pytest.raises(BundleError, match=r"copy.json: 1 problem\(s\):\n  - bundle_id: 'tiny_03' is also defined by .*tiny_03.json"):
        list(reading.read_bundle_files([*files, copy]))


def test_output_folders_are_never_clobbered(imported_dir, release, tmp_path):
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="holds other files"):
        pack_release([imported_dir], keep, PackOptions(version="1.0.0", **QUIET))
    assert (keep / "notes.txt").read_text() == "mine"
    with pytest.raises(ReleaseError, match="pass --overwrite"):
        pack_release([imported_dir], release, PackOptions(version="1.0.1", **QUIET))
    with pytest.raises(ReleaseError, match="is not X.Y.Z"):
        pack_release([imported_dir], tmp_path / "new", PackOptions(version="latest", **QUIET))
    assert not (tmp_path / "new").exists()


def test_a_failed_repack_leaves_the_previous_release_intact(imported_dir, tmp_path):
    out = tmp_path / "rel"
    pack_release([imported_dir], out, PackOptions(version="1.0.0", **QUIET))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("{\"bundle_id\": \"Not Normalized\"}")
    with pytest.raises(Exception, match="broken.json"):
        pack_release([imported_dir, bad], out, PackOptions(version="1.1.0", overwrite=True, strict=True, **QUIET))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "rel"]  # no staging folder left behind
    pack_release([imported_dir], out, PackOptions(version="1.1.0", overwrite=True, **QUIET))
    assert read_manifest(out).version == "1.1.0"


def test_a_custom_card_template_gets_the_same_variables(imported_dir, tmp_path):
    template = tmp_path / "card.md.j2"
    template.write_text("---\n{{ card_data }}\n---\n# {{ repo_id }} {{ manifest.tag }}: {{ manifest.counts.tasks_total }} tasks\n")
    pack_release([imported_dir], tmp_path / "r", PackOptions(version="3.0.0", repo_id="me/worlds", card_template=template, **QUIET))
    card = DatasetCard.load(tmp_path / "r" / "README.md")
    assert card.text.strip() == "# me/worlds v3.0.0: 30 tasks" and card.data.configs[0]["config_name"] == "envs"
    with pytest.raises(ReleaseError, match="card template .*nowhere.j2 does not exist"):
        pack_release([imported_dir], tmp_path / "r2", PackOptions(version="3.0.0", card_template=tmp_path / "nowhere.j2", **QUIET))
    template.write_text("{% for %}")
    with pytest.raises(ReleaseError, match="card template .*card.md.j2 line 1: .*fix the template"):
        pack_release([imported_dir], tmp_path / "r3", PackOptions(version="3.0.0", card_template=template, **QUIET))
    assert not (tmp_path / "r2").exists() and not (tmp_path / "r3").exists()


def test_cli_pack_and_stats(imported_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli-release"
    packed = runner.invoke(app, ["release", "pack", str(imported_dir), "--out", str(out), "--version", "v0.9.0",
                                 "--seed", "3", "--created-at", "2026-03-01"])
    assert packed.exit_code == 0, packed.output
    assert "version 0.9.0" in packed.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["split_recipe"]["seed"] == 3 and manifest["created_at"] == "2026-03-01T00:00:00Z"
    shown = runner.invoke(app, ["release", "stats", str(out)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "6 (0 complete, 6 partial)" in shown.stdout and "lines of environment code" in shown.stdout
    again = runner.invoke(app, ["release", "pack", str(imported_dir), "--out", str(out), "--version", "0.9.0"])
    assert again.exit_code == 2 and again.stderr.startswith("error: ") and "--overwrite" in again.stderr
    assert again.stderr.count("\n") == 1  # one line
    nothing = runner.invoke(app, ["release", "stats", str(tmp_path)])
    assert nothing.exit_code == 2 and "not a dataset folder written by `awm release pack`" in nothing.stderr
