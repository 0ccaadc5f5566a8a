"""`awm gen` commands one stage at a time, on input bundles, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from awm_release.bundle_io import read_bundle, write_bundle
from awm_release.cli import app
from awm_release.demo import load_demo_bundle, load_demo_bundles
from awm_release.scripted_llm import ScriptedLLM
from awm_release.synthesis.replay import ReplayResponder
from awm_release.synthesis.stages.scenario import shipped_seeds
from env_server.process import free_port
from tests.test_synthesis_dedup import HAS_TORCH

runner = CliRunner()


def gen(*args: str):
    return runner.invoke(app, ["gen", *args])


@pytest.fixture(scope="module")
def llm():
    with ScriptedLLM(ReplayResponder(load_demo_bundles().values())) as server:
        yield server


def test_stages_run_alone_on_input_bundles_and_say_what_blocks_them(tmp_path: Path, llm: ScriptedLLM):
    partial = load_demo_bundle("task_tracker_1").model_copy(update={"api_spec": None, "env_code": None, "verifiers": []})
    write_bundle(partial, tmp_path / "in")
    run = tmp_path / "run"
    common = ["--model", "scripted-model", "--base-url", llm.base_url]

    blocked = gen("env", str(run), "--input", str(tmp_path / "in"), *common)
    assert blocked.exit_code == 0, blocked.output
    assert "blocked at env: task_tracker_1: needs api_spec (run `awm gen spec` first)" in blocked.output

    assert gen("spec", str(run), *common).exit_code == 0
    done = gen("env", str(run), *common)
    assert "env       1 accepted" in done.output
    bundle = read_bundle(run / "bundles" / "task_tracker_1.json")
    assert bundle.env_code == load_demo_bundle("task_tracker_1").env_code
    assert bundle.missing() == ["code-mode verifiers (gen_verifier.pure_code)", "sql-mode verifiers (gen_verifier)"]

    again = gen("env", str(run), "--input", str(tmp_path / "in"), *common)
    assert "input task_tracker_1: already in the run; keeping the run's copy" in again.output
    assert "env       1 present" in again.output

    report = gen("report", str(run))
    assert report.exit_code == 0 and "0 of 1 bundle(s) complete" in report.output and "code-mode verifiers" in report.output
    as_json = json.loads(gen("report", str(run), "--json", "--price-in", "2").output)
    assert as_json["stages"]["env"]["accepted"] == 1 and as_json["totals"]["cost_usd"] > 0


@pytest.mark.parametrize(("args", "message"), [
    (["task", "{run}", "--model", "m", "--base-url", "http://127.0.0.1:{port}/v1", "--http-retries", "0", "--input", "{bundle}"],
     "cannot reach http://127.0.0.1:{port}/v1"),
    (["task", "{run}", "--model", "m", "--base-url", "http://127.0.0.1:{port}/v1", "--bundle", "nope"], "no bundle nope in"),
    (["scenario", "{run}", "--model", "m", "--base-url", "http://127.0.0.1:{port}/v1", "--count", "2", "--seeds", "{run}/absent.txt"],
     "cannot read --seeds"),
    (["report", "{run}"], "is not a synthesis run folder"),
])
def test_errors_are_one_line_with_exit_code_2(tmp_path: Path, args: list[str], message: str):
    port = free_port()
    write_bundle(load_demo_bundle("bookstore_1").model_copy(update={"tasks": [], "verifiers": []}), tmp_path / "bundle.json")
    fill = {"run": str(tmp_path / "run"), "port": str(port), "bundle": str(tmp_path / "bundle.json")}
    result = gen(*[a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and message.format(**fill) in error_lines[0], result.output


def test_the_shipped_seed_list_has_a_hundred_distinct_domains():
    seeds = shipped_seeds()
    assert len(seeds) == 100 and len({s.lower() for s in seeds}) == 100


@pytest.mark.skipif(not HAS_TORCH, reason="torch / sentence-transformers not installed here (pip install 'awm-release[embeddings]')")
def test_scenario_stage_with_the_offline_embedding_model(tmp_path: Path, llm: ScriptedLLM):
    result = gen("scenario", str(tmp_path / "run"), "--count", "2", "--seed", "Bookstore", "--seed", "Clinic booking",
                 "--model", "scripted-model", "--base-url", llm.base_url, "--embeddings", "local")
    assert result.exit_code == 0, result.output
    decisions = [r["decision"] for r in json.loads((tmp_path / "run" / "scenarios.json").read_text())]
    assert sorted(d for d in decisions if d.startswith("accepted")) == ["accepted as bookstore_1", "accepted as clinic_booking_1"]
    assert sum(d.startswith("near-duplicate of") for d in decisions) == 2  # each seed's second, longer edition
