"""`awm train data`: the release's tasks as verl parquet (read back by verl's own RLHFDataset) or TRL rows, and the
release copied from the Hub once for the training servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import datasets
import httpx
import pytest
from omegaconf import OmegaConf
from typer.testing import CliRunner
from verl.utils.dataset.rl_dataset import RLHFDataset

from awm_release.agent.protocol import SYSTEM_PROMPT
from awm_release.bundle_io import write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundles
from awm_release.release.pack import PackOptions, pack_release
from awm_release.release.manifest import read_manifest
from awm_release.release.publish import execute_push, plan_push
from awm_release.training import AGENT_NAME
from awm_release.training.settings import AWMSettings
from env_server.process import ServerProcess
from tests.qwen3_style_tokenizer import build_tokenizer
from tests.test_release_hub import REPO, api, hub  # noqa: F401 - the loopback Hub and its client, as fixtures


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("train-release")
    for bundle in load_demo_bundles().values():
        write_bundle(bundle, folder / "bundles")
    pack_release([folder / "bundles"], folder / "release", PackOptions(version="1.0.0", progress=False))
    return folder / "release"


def test_every_task_of_each_split_becomes_a_verl_row(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = CliRunner().invoke(app, ["train", "data", "--dataset", str(release), "--out", str(out)])
    assert result.exit_code == 0, result.output
    tasks = datasets.load_dataset(str(release), "tasks")
    for split in ("train", "validation"):
        rows = datasets.load_dataset("parquet", data_files=str(out / f"{split}.parquet"), split="train").to_list()
        expected = sorted((r["bundle_id"], r["task_idx"], r["task"]) for r in tasks[split])
        assert [(r["extra_info"]["bundle_id"], r["extra_info"]["task_idx"], r["prompt"][1]["content"]) for r in rows] == expected
        assert [r["extra_info"]["index"] for r in rows] == list(range(len(rows)))
        assert {r["extra_info"]["split"] for r in rows} == {split} and {r["agent_name"] for r in rows} == {AGENT_NAME}
        assert all(r["prompt"][0] == {"role": "system", "content": SYSTEM_PROMPT} for r in rows)
        assert f"{split}: {len(rows)} task(s)" in result.output

    # verl reads it as the agent loop expects: raw chat prompt, extra_info, index, agent name.
    tokenizer = build_tokenizer(tmp_path / "tokenizer")
    config = OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 8192, "return_raw_chat": True,
                               "filter_overlong_prompts": True, "apply_chat_template_kwargs": {"enable_thinking": True}})
    dataset = RLHFDataset(data_files=[str(out / "train.parquet")], tokenizer=tokenizer, config=config)
    item = dataset[0]
    assert [m["role"] for m in item["raw_prompt"]] == ["system", "user"]
    assert item["agent_name"] == AGENT_NAME and item["index"] == 0 and "bundle_id" in item["extra_info"]


def test_a_missing_dataset_or_split_is_one_clear_line_and_writes_nothing(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = CliRunner().invoke(app, ["train", "data", "--dataset", str(tmp_path / "nope"), "--out", str(out)])
    assert result.exit_code == 2 and "cannot read the 'tasks' config" in result.output
    result = CliRunner().invoke(app, ["train", "data", "--dataset", str(release), "--out", str(out), "--split", "dev"])
    assert result.exit_code == 2 and "has no 'dev' split" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_trl_rows_carry_the_prompt_and_the_task_for_the_environments_reset(release: Path, tmp_path: Path) -> None:
    out = tmp_path / "trl"
    result = CliRunner().invoke(app, ["train", "data", "--dataset", str(release), "--out", str(out), "--format", "trl"])
    assert result.exit_code == 0, result.output
    rows = datasets.load_dataset("parquet", data_files=str(out / "train.parquet"), split="train").to_list()
    tasks = datasets.load_dataset(str(release), "tasks")["train"]
    assert [(r["bundle_id"], r["task_idx"], r["prompt"][1]["content"]) for r in rows] == sorted(
        (t["bundle_id"], t["task_idx"], t["task"]) for t in tasks)
    assert all(r["prompt"][0] == {"role": "system", "content": SYSTEM_PROMPT} and set(r) == {"prompt", "bundle_id", "task_idx"}
               for r in rows)
    bad = CliRunner().invoke(app, ["train", "data", "--dataset", str(release), "--out", str(out), "--format", "csv"])
    assert bad.exit_code == 2 and "--format csv: use one of verl, trl" in bad.output


def test_a_hub_release_is_downloaded_once_into_the_folder_the_training_servers_read(
        release: Path, hub: Any, api: Any, tmp_path: Path) -> None:
    execute_push(plan_push(release, REPO, api), api)
    data = tmp_path / "shared" / "data"
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    command = [sys.executable, "-m", "awm_release.cli", "train", "data", "--dataset", REPO, "--revision", "v1.0.0",
               "--out", str(data), "--release-dir", str(data / "release")]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "Pass --trust-remote-code" in refused.stderr, refused.stderr
    assert not (data / "release").exists() and not (data / "train.parquet").exists()  # consent before any download
    done = subprocess.run([*command, "--trust-remote-code"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"release: {data / 'release'}" in done.stdout
    hub.shutdown()  # from here on nothing reaches the Hub: the servers read the copy
    assert read_manifest(data / "release").bundles.keys() == read_manifest(release).bundles.keys()
    rows = datasets.load_dataset("parquet", data_files=str(data / "train.parquet"), split="train").to_list()
    assert {r["data_source"] for r in rows} == {f"awm:{REPO}"}  # the run still names the release it trained on
    settings = AWMSettings(dataset=REPO, revision="v1.0.0", release_dir=str(data / "release"), server_workers=1)
    with ServerProcess(settings.serve_args()) as server:
        assert sorted(httpx.get(f"{server.url}/health").json()["bundles"]) == sorted(read_manifest(release).bundles)
