"""`awm eval` against a real awm-serve and scripted OpenAI-compatible models: exact pass@k, taxonomy, resume, compare.

The release is the three demo bundles packed with `awm release pack`; its test split is clinic_booking_1.
DemoPlayer (tests/test_agent.py) plays each task's demo solution, or a scripted mistake, per sample.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from math import comb
from pathlib import Path
from typing import Any

import pytest

from awm_release.agent.results import RESULTS_FILE, SUMMARY_FILE
from awm_release.agent.summary import pass_at_k
from awm_release.bundle_io import write_bundle
from awm_release.demo import load_demo_bundles
from awm_release.release.pack import PackOptions, pack_release
from awm_release.scripted_llm import ScriptedLLM
from env_server.process import free_port
from tests.conftest import RunningServer, run_server
from tests.test_agent import USAGE, DemoPlayer, run_cli

BUNDLE = "clinic_booking_1"
K = 4
CODE_TASKS = [f"{BUNDLE}:{i}" for i in range(6)]
BEHAVIOURS = {
    (BUNDLE, 0): ["solve"],
    (BUNDLE, 1): ["solve_text"],
    (BUNDLE, 2): ["solve", "wrong", "wrong", "solve"],
    (BUNDLE, 3): ["wrong"],
    (BUNDLE, 4): ["malformed", "unknown_meta", "bad_arguments", "solve"],
    (BUNDLE, 5): ["wrong", "wrong", "wrong", "solve_text"],
}
JUDGE_VERDICTS = {6: "complete", 7: "partially_completed", 8: "agent_error", 9: "environment_error"}


@pytest.fixture(scope="module", autouse=True)
def datasets_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`awm eval` reads the split with `datasets.load_dataset`: keep its cache out of the home folder."""
    import datasets.config

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("datasets-cache"))
        yield


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eval-release")
    for bundle in load_demo_bundles().values():
        write_bundle(bundle, folder / "bundles")
    manifest = pack_release([folder / "bundles"], folder / "release", PackOptions(version="1.0.0", progress=False))
    assert manifest.bundles[BUNDLE].role == "test", "the split recipe changed: pick the demo bundle it holds out"
    return folder / "release"


def judge_reply(request: dict[str, Any]) -> str:
    """The sql-mode judge: a verdict per task, read from the case it is shown."""
    case = request["messages"][-1]["content"]
    task = case.split("## Task\n", 1)[1].split("\n\n", 1)[0]
    idx = load_demo_bundles()[BUNDLE].tasks.index(task)
    return json.dumps({"outcome": JUDGE_VERDICTS.get(idx, "agent_error"), "reason": "scripted"})


@pytest.fixture(scope="module")
def judge() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(judge_reply, model="judge-model") as llm:
        yield llm


@pytest.fixture(scope="module")
def server(release: Path, judge: ScriptedLLM) -> Iterator[RunningServer]:
    yield from run_server([BUNDLE, "--dataset", str(release), "--workers", "1",
                           "--judge-base-url", judge.base_url, "--judge-model", judge.model])


def eval_args(release: Path, server: RunningServer, llm: ScriptedLLM, out: Path, *extra: str) -> list[str]:
    return ["eval", "--dataset", str(release), "--split", "test", "--model", llm.model, "--base-url", llm.base_url,
            "--server", server.url, "--out", str(out), "--seed", "0", "--concurrency", "4", *extra]


def task_args(tasks: list[str]) -> list[str]:
    return [arg for key in tasks for arg in ("--task", key)]


@pytest.fixture(scope="module")
def code_run(release: Path, server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted code-mode run of 6 tasks x 4 episodes."""
    out = tmp_path_factory.mktemp("code-run") / "run"
    with ScriptedLLM(DemoPlayer(BEHAVIOURS)) as llm:
        result = run_cli(eval_args(release, server, llm, out, "--k", str(K), *task_args(CODE_TASKS)))
        requests = list(llm.requests)
    assert result.exit_code == 0, result.output
    return {"out": out, "output": result.output, "requests": requests,
            "summary": json.loads((out / SUMMARY_FILE).read_text())}


def test_pass_at_k_taxonomy_and_means_are_exact(code_run):
    summary = code_run["summary"]
    # complete episodes per task: 4, 4, 2, 0, 1, 1 of 4; pass@k = mean over tasks of 1 - C(4-c, k) / C(4, k)
    assert summary["pass_at"] == {"1": 0.5, "2": round(23 / 36, 6), "3": 0.75, "4": round(5 / 6, 6)}
    assert summary["pass_at"]["2"] == round(sum(1 - comb(4 - c, 2) / comb(4, 2) for c in (4, 4, 2, 0, 1, 1)) / 6, 6)
    assert summary["outcomes"] == {"complete": 12, "partial": 0, "agent_error": 9, "environment_error": 0,
                                   "format_error": 3, "verifier_error": 0}
    assert (summary["tasks"], summary["episodes"], summary["episodes_expected"], summary["finished"]) == (6, 24, 24, True)
    assert summary["per_task"] == {f"{BUNDLE}:{i}": {"episodes": 4, "complete": c, "rate": c / 4}
                                   for i, c in enumerate((4, 4, 2, 0, 1, 1))}
    assert summary["per_environment"][BUNDLE]["pass_at"] == summary["pass_at"]
    player = DemoPlayer(BEHAVIOURS)
    turns = [player.turns(BUNDLE, i, player.behaviour(BUNDLE, i, j)) for i in range(6) for j in range(K)]
    assert summary["mean_turns"] == round(sum(turns) / 24, 6)
    assert summary["mean_prompt_tokens"] == round(USAGE["prompt_tokens"] * sum(turns) / 24, 6)
    assert summary["mean_completion_tokens"] == round(USAGE["completion_tokens"] * sum(turns) / 24, 6)
    assert summary["mean_reward"] == round((12 * 1.0 + 3 * -1.0) / 24, 6)
    assert "pass@1" in code_run["output"] and "50.0%" in code_run["output"]
    assert (code_run["out"] / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pass_at_k_estimator():
    assert [pass_at_k(4, c, 1) for c in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert pass_at_k(5, 2, 3) == pytest.approx(1 - 1 / 10) and pass_at_k(4, 1, 4) == 1.0 and pass_at_k(4, 0, 4) == 0.0
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(2, 1, 3)


def test_every_episode_is_recorded_with_its_run_folder(code_run):
    out = code_run["out"]
    records = [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]
    assert sorted((r["task_idx"], r["sample"]) for r in records) == [(i, j) for i in range(6) for j in range(K)]
    format_errors = {(r["task_idx"], r["sample"]): r["format_error"] for r in records if r["outcome"] == "format_error"}
    assert set(format_errors) == {(4, 0), (4, 1), (4, 2)}
    assert "not valid JSON" in format_errors[4, 0] and "unknown function 'search_practitioners'" in format_errors[4, 1]
    assert "arguments of call_tool are not valid JSON" in format_errors[4, 2]
    booked = next(r for r in records if (r["task_idx"], r["sample"]) == (0, 0))
    assert (booked["outcome"], booked["verdict"], booked["tool_calls"], booked["stop_reason"]) == ("complete", "complete", 5, "final_answer")
    folder = out / booked["episode_dir"]
    assert sorted(p.name for p in folder.iterdir()) == ["final.db", "initial.db", "trajectory.json", "verification.json"]
    assert (folder / "initial.db").read_bytes() != (folder / "final.db").read_bytes()
    assert json.loads((folder / "trajectory.json").read_text())["calls"][-1]["tool"] == "book_appointment"


def test_requests_follow_the_evaluation_protocol(code_run):
    requests = code_run["requests"]
    assert {r["temperature"] for r in requests} == {0.6} and {r["top_p"] for r in requests} == {0.95}
    assert {r["top_k"] for r in requests} == {20} and all(r["chat_template_kwargs"] == {"enable_thinking": True} for r in requests)
    assert {r["seed"] for r in requests} == {0, 1, 2, 3}  # episode j of a task samples with seed + j
    assert all([t["function"]["name"] for t in r["tools"]] == ["list_tools", "call_tool"] for r in requests)
    opening = [r for r in requests if len(r["messages"]) == 4]
    assert len(opening) == 24 and all(r["messages"][2]["tool_calls"][0]["function"]["name"] == "list_tools" for r in opening)


def test_a_resumed_run_gives_the_same_summary(release, server, code_run, tmp_path):
    out = tmp_path / "run"
    outage = {**BEHAVIOURS, (BUNDLE, 3): ["fail"]}
    with ScriptedLLM(DemoPlayer(outage)) as llm:
        failed = run_cli(eval_args(release, server, llm, out, "--k", str(K), "--max-retries", "0", *task_args(CODE_TASKS)))
    assert failed.exit_code == 2 and failed.output.strip().splitlines()[-1].startswith("error: "), failed.output
    assert "failed, also after retries (HTTP 500: scripted outage)" in failed.output
    assert "run the same command again to resume" in failed.output
    done = (out / RESULTS_FILE).read_text().splitlines()
    assert 0 < len(done) < 24 and json.loads((out / SUMMARY_FILE).read_text())["finished"] is False
    with (out / RESULTS_FILE).open("a") as handle:
        handle.write('{"bundle_id": "clinic_booking_1", "task_idx": 3, "sam')  # torn by a crash mid-write

    with ScriptedLLM(DemoPlayer(BEHAVIOURS)) as llm:  # the endpoint is back, on another port
        resumed = run_cli(eval_args(release, server, llm, out, "--k", str(K), "--max-retries", "0", *task_args(CODE_TASKS)))
        assert resumed.exit_code == 0, resumed.output
        assert len({(r["messages"][1]["content"], r["seed"]) for r in llm.requests}) == 24 - len(done)  # only the missing ones
    assert json.loads((out / SUMMARY_FILE).read_text()) == code_run["summary"]
    assert len((out / RESULTS_FILE).read_text().splitlines()) == 24

    with ScriptedLLM(DemoPlayer(BEHAVIOURS)) as llm:
        changed = run_cli(eval_args(release, server, llm, out, "--k", str(K), "--temperature", "0.7", *task_args(CODE_TASKS)))
    assert changed.exit_code == 2 and "holds a run with other settings (sampling:" in changed.output


def test_sql_mode_reports_partial_and_environment_errors(release, server, judge, tmp_path):
    tasks = [f"{BUNDLE}:{i}" for i in JUDGE_VERDICTS]
    with ScriptedLLM(DemoPlayer()) as llm:
        result = run_cli(eval_args(release, server, llm, tmp_path / "sql", "--k", "1", "--verify-mode", "sql", *task_args(tasks)))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "sql" / SUMMARY_FILE).read_text())
    assert summary["outcomes"] == {"complete": 1, "partial": 1, "agent_error": 1, "environment_error": 1,
                                   "format_error": 0, "verifier_error": 0}
    assert summary["pass_at"] == {"1": 0.25} and summary["mean_reward"] == round((1.0 + 0.1) / 4, 6)
    assert any("## Tool calls\n\n1. search_practitioners(" in r["messages"][-1]["content"] for r in judge.requests)


def test_context_overflow_turn_limit_window_and_continued_format_errors(release, server, tmp_path):
    behaviours = {(BUNDLE, 7): ["overflow"], (BUNDLE, 8): ["loop"], (BUNDLE, 9): ["malformed"]}
    tasks = load_demo_bundles()[BUNDLE].tasks
    with ScriptedLLM(DemoPlayer(behaviours)) as llm:
        result = run_cli(eval_args(release, server, llm, tmp_path / "run", "--k", "1", "--max-turns", "12",
                                   "--continue-on-format-error", *task_args([f"{BUNDLE}:{i}" for i in (7, 8, 9)])))
        looping = [len(r["messages"]) for r in llm.requests if r["messages"][1]["content"] == tasks[8]]
    assert result.exit_code == 0, result.output
    records = {r["task_idx"]: r for r in map(json.loads, (tmp_path / "run" / RESULTS_FILE).read_text().splitlines())}
    assert (records[7]["stop_reason"], records[7]["outcome"], records[7]["turns"]) == ("context_length", "agent_error", 1)
    assert "maximum context length" in records[7]["stop_detail"]
    assert (records[8]["stop_reason"], records[8]["outcome"], records[8]["turns"]) == ("max_turns", "agent_error", 12)
    # system, task, list_tools exchange, then one more turn per request until the 10-turn window is full
    assert looping == [4 + 2 * min(t, 10) for t in range(12)]
    # the malformed first turn is fed back; the model goes on (its first step was a read) and completes the task
    assert (records[9]["format_errors"], records[9]["stop_reason"], records[9]["outcome"], records[9]["turns"]) == (
        1, "final_answer", "complete", 5)


def test_unusable_endpoints_and_inputs_fail_on_one_line(release, server, tmp_path):
    cases = [
        (["--base-url", f"http://127.0.0.1:{free_port()}/v1", "--max-retries", "0"], "cannot reach the model endpoint"),
        (["--model", "other-model"], "serves scripted-model, not 'other-model'; pass one of them as --model"),
        (["--split", "holdout"], "has no 'holdout' split; it has: train, validation, test"),
        (["--task", "bookstore_1:0"], "--task bookstore_1:0: not in this split (its bundles: clinic_booking_1)"),
        (["--verify-mode", "sql", "--server", ""], "--verify-mode sql needs an LLM judge"),
    ]
    with ScriptedLLM(DemoPlayer()) as llm:
        for extra, expected in cases:
            result = run_cli(eval_args(release, server, llm, tmp_path / "none", "--k", "1", *extra))
            assert result.exit_code == 2 and expected in result.output and result.output.count("\n") == 1, (extra, result.output)
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep me")
        result = run_cli(eval_args(release, server, llm, tmp_path / "mine", "--k", "1"))
        assert result.exit_code == 2 and "is not empty and holds no evaluation" in result.output
        assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "none").exists()  # nothing is written before the endpoint proved usable


class _NotAnAPI(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._page()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._page()

    def _page(self) -> None:
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_endpoint_answering_garbage_is_named(release, server, tmp_path):
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAnAPI)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        result = run_cli(["eval", "--dataset", str(release), "--model", "m", "--base-url", f"http://127.0.0.1:{web.server_address[1]}/v1",
                          "--server", server.url, "--out", str(tmp_path / "run"), "--k", "1", "--limit", "1"])
    finally:
        web.shutdown()
    assert result.exit_code == 2 and "did not answer like an OpenAI-compatible API" in result.output, result.output


def test_compare_prints_task_differences_and_a_paired_test(release, server, code_run, tmp_path):
    weaker = {**BEHAVIOURS, (BUNDLE, 0): ["solve", "wrong", "wrong", "wrong"], (BUNDLE, 1): ["wrong"],
              (BUNDLE, 3): ["solve", "wrong", "wrong", "wrong"], (BUNDLE, 5): ["wrong", "solve", "wrong", "wrong"]}
    with ScriptedLLM(DemoPlayer(weaker), model="weaker-model") as llm:
        result = run_cli(eval_args(release, server, llm, tmp_path / "weaker", "--k", str(K), *task_args(CODE_TASKS),
                                   "--compare-with", str(code_run["out"])))
    assert result.exit_code == 0, result.output
    assert f"plot: {tmp_path / 'weaker' / 'summary.png'}" in result.output  # this run beside the earlier one
    compared = run_cli(["eval", "compare", str(code_run["out"]), str(tmp_path / "weaker"), "--plot", str(tmp_path / "both.png")])
    assert compared.exit_code == 0, compared.output
    text = " ".join(re.sub("[\u2500-\u257f]", " ", compared.output).split())  # without the table's box drawing
    # per-task B - A: task 0 -75, task 1 -100, task 3 +25 points; tasks 2, 4, 5 equal
    assert "clinic_booking_1:1 4/4 0/4 -100 pts" in text and "clinic_booking_1:0 4/4 1/4 -75 pts" in text
    assert "clinic_booking_1:3 0/4 1/4 +25 pts" in text and "clinic_booking_1:2" not in text
    assert "6 shared task(s): B better on 1, worse on 2, equal on 3" in text
    assert "mean per-task difference (B - A): -25.00 points of pass@1" in text
    assert "Wilcoxon signed-rank test (paired by task, two-sided): statistic 1, p = 0.5" in text  # exact: n=3, W+=1
    assert (tmp_path / "both.png").read_bytes()[:4] == b"\x89PNG"
