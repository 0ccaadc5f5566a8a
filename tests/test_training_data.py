"""`awm train data`: the release's tasks as verl parquet, read back by verl's own RLHFDataset."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
from omegaconf import OmegaConf
from typer.testing import CliRunner
from verl.utils.dataset.rl_dataset import RLHFDataset

from awm_release.agent.protocol import SYSTEM_PROMPT
from awm_release.bundle_io import write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundles
from awm_release.release.pack import PackOptions, pack_release
from awm_release.training import AGENT_NAME
from tests.qwen3_style_tokenizer import build_tokenizer


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
