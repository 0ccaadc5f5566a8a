"""awm-serve straight from a packed release: bundles resolve by id, and a bundle that fails its hash is refused."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.bundle_io import write_bundle
from tests.conftest import run_server


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("release")
    for bundle_id in demo_bundle_ids():
        write_bundle(load_demo_bundle(bundle_id), root / "bundles")
    packed = subprocess.run([sys.executable, "-m", "awm_release.cli", "release", "pack", str(root / "bundles"),
                             "--out", str(root / "envs"), "--version", "1.0.0"], capture_output=True, text=True)
    assert packed.returncode == 0, packed.stderr
    return root / "envs"


def test_serving_one_bundle_from_the_release(release):
    for running in run_server(["task_tracker_1", "--dataset", str(release), "--workers", "1"]):
        bundles = running.client.get("/bundles").json()["bundles"]
        assert [b["bundle_id"] for b in bundles] == ["task_tracker_1"]
        assert bundles[0]["sha256"] == load_demo_bundle("task_tracker_1").sha256
        session = running.client.post("/sessions", json={"task_idx": 0}).json()["session_id"]
        assert running.client.post(f"/sessions/{session}/call", json={"tool": "list_my_workspaces", "arguments": {}}).json()["ok"]


def start(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "env_server.cli", *args, "--port", "1"], capture_output=True, text=True, timeout=120)


def test_a_tampered_release_is_refused(release, tmp_path):
    tampered = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(release), str(tampered)], check=True)
    shard = next((tampered / "data" / "envs").glob("*.parquet"))
    table = pq.read_table(shard)
    descriptions = table.column("description").to_pylist()
    descriptions[0] = "A different world."
    pq.write_table(table.set_column(table.schema.get_field_index("description"), "description", [descriptions]), shard)
    refused = start(["--dataset", str(tampered), table.column("bundle_id")[0].as_py()])
    assert refused.returncode == 2, refused.stderr
    assert "sha256" in refused.stderr and "Traceback" not in refused.stderr


def test_unknown_ids_and_misplaced_revision_are_explained(release):
    unknown = start(["atlantis_1", "--dataset", str(release)])
    assert unknown.returncode == 2 and "atlantis_1" in unknown.stderr
    revision = start(["--revision", "v1.0.0"])
    assert revision.returncode == 2 and "--revision needs --dataset" in revision.stderr
