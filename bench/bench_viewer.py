"""Benchmark the viewer: time to first render of an evaluation of 1,000 episodes and of one 20-turn trajectory.

Real episodes first: a scripted model plays clinic_booking_1 through `awm agent` against a real awm-serve, once
for 20 turns (19 tool calls with a 1,500-character thinking each, the task's booking among them, then a final
answer) and a few times for short episodes. The evaluation is a real `awm eval` folder scaled to 1,000 episodes
(250 tasks x k=4 over 25 environments): its results.jsonl, config.json, summary.json and summary.png are written
by the project's own code, and every episode folder is a hard-linked copy of a real one.

Then `awm view` is started on it (a fresh process per cold sample) and, in the same run:

- server:   the page's HTTP response (full body) for the evaluation's first page, a filtered page, and the
            20-turn trajectory (with its database diff); cold (first request of a fresh `awm view`) and warm;
- browser:  headless Chromium (Debian's, through Playwright), a fresh page per sample: first contentful paint
            and the load event, from navigation start;
- baseline: the same browser opening the raw files a user reads today, results.jsonl and trajectory.json,
            from a static file server (Python's http.server) on the same machine.

    python bench/bench_viewer.py                  # prints a table, writes bench/results/viewer.json
    python bench/bench_viewer.py --repeats 5      # quicker
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from awm_release.agent.episode import run_info
from awm_release.agent.eval import write_summary
from awm_release.agent.model import Endpoint
from awm_release.agent.protocol import CALL_TOOL, ProtocolConfig, SamplingConfig
from awm_release.agent.results import CONFIG_FILE, RESULTS_FILE, episode_folder
from awm_release.agent.single import run_agent
from awm_release.demo import demo_solutions
from awm_release.scripted_llm import ScriptedLLM
from env_server.process import ServerProcess

RESULTS = Path(__file__).parent / "results"
BUNDLE = "clinic_booking_1"
ENVIRONMENTS, TASKS_PER_ENV, K = 25, 10, 4  # 1,000 episodes
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
READS = [("list_specialties", {}), ("list_clinics", {}), ("search_practitioners", {"specialty_id": 2}),
         ("get_practitioner", {"practitioner_id": 3}), ("list_practitioner_slots", {"practitioner_id": 3}),
         ("list_my_appointments", {}), ("list_visit_reasons", {"specialty_id": 2})]
THINKING = ("Let me look at what the tools returned so far and decide on the next call. " * 20)[:1500]


class TwentyTurns:
    """A scripted model for task 0: 14 read calls, the 5 calls of the demo solution, then the final answer."""

    def __init__(self) -> None:
        solution = demo_solutions(BUNDLE)[0]
        self.steps = [READS[i % len(READS)] for i in range(14)] + [(s["tool"], s["arguments"]) for s in solution["steps"]]
        self.answer = solution["final_answer"] or "Booked."

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        turn = sum(m["role"] == "assistant" for m in request["messages"][2:]) - 1  # the opening list_tools is not a turn
        usage = {"prompt_tokens": 3000 + 400 * turn, "completion_tokens": 450}
        if turn >= len(self.steps):
            return {"reasoning_content": THINKING, "content": self.answer, "usage": usage}
        tool, arguments = self.steps[turn]
        call = {"id": f"call_{turn}", "type": "function",
                "function": {"name": CALL_TOOL, "arguments": json.dumps({"tool_name": tool, "arguments": arguments})}}
        return {"reasoning_content": f"{THINKING} (turn {turn})", "tool_calls": [call], "usage": usage}


def real_episodes(work: Path) -> tuple[Path, list[Path]]:
    """(the 20-turn episode's run folder, short episodes' run folders), all played through awm agent."""
    protocol = ProtocolConfig(history_window=0)
    short_protocol = ProtocolConfig(max_turns=3, history_window=0)
    with ServerProcess([BUNDLE, "--workers", "1"]) as server, ScriptedLLM(TwentyTurns()) as llm:
        endpoint = Endpoint(llm.model, llm.base_url)
        long_episode, long_folder = run_agent(BUNDLE, 0, endpoint, work / "agent", server=server.url, protocol=protocol)
        assert len(long_episode.turns) == 20 and long_episode.outcome == "complete", long_episode.record()
        shorts = [run_agent(BUNDLE, 0, endpoint, work / "agent-short", server=server.url, protocol=short_protocol)
                  for _ in range(3)]
    return long_folder, [folder for _, folder in shorts] + [long_folder]


def scaled_evaluation(out: Path, sources: list[Path]) -> dict[str, Any]:
    """A 1,000-episode evaluation folder from real episodes; returns its summary."""
    records, tasks = [], []
    for env in range(ENVIRONMENTS):
        bundle_id = f"environment_{env:02d}"
        for task_idx in range(TASKS_PER_ENV):
            tasks.append(f"{bundle_id}:{task_idx}")
            for sample in range(K):
                source = sources[(env + task_idx + sample) % len(sources)]
                trajectory = json.loads((source / "trajectory.json").read_text())
                folder = episode_folder(out, bundle_id, task_idx, sample)
                folder.mkdir(parents=True)
                for item in source.iterdir():
                    os.link(item, folder / item.name)
                record = {k: trajectory[k] for k in ("outcome", "stop_reason", "reward", "verdict", "final_answer", "format_error",
                                                     "format_errors", "stop_detail", "tool_calls", "tool_errors",
                                                     "prompt_tokens", "completion_tokens", "elapsed_s", "session_id")}
                record["turns"] = len(trajectory["turns"])  # the trajectory holds the turns themselves
                if (env * 7 + task_idx * 3 + sample) % 5 == 0:  # a realistic mix of outcomes
                    record.update(outcome="agent_error", verdict="others", reward=0.0)
                records.append({**record, "bundle_id": bundle_id, "task_idx": task_idx, "sample": sample,
                                "episode_dir": str(folder.relative_to(out))})
    info = run_info(Endpoint("scripted-model", "http://127.0.0.1:1/v1"), ProtocolConfig(), SamplingConfig(), "code")
    config = {"format": "awm-eval-v1", "dataset": "awm-envs/", "revision": None, "split": "test", "tasks": tasks, "k": K,
              "model": info["model"], "protocol": info["protocol"], "sampling": info["sampling"], "verify_mode": "code",
              "judge_model": None, "base_url": None, "server": None, "concurrency": 8, "request_timeout_s": 600.0,
              "max_retries": 3, "save_episodes": True}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True))
    (out / RESULTS_FILE).write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return write_summary(out, config)


class AwmView:
    def __init__(self, folder: Path):
        started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "awm_release.cli", "view", str(folder), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"(http://127\.0\.0\.1:\d+)/ui/", line)
        if match is None:
            self.stop()
            raise RuntimeError(f"awm view printed no URL: {line}")
        self.url = match.group(1)
        self.startup_s = time.perf_counter() - started

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def fetch_s(url: str) -> float:
    started = time.perf_counter()
    response = httpx.get(url, timeout=60)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def browser_render(browser: Any, url: str) -> dict[str, float]:
    """First contentful paint and load event of a fresh page, in seconds from navigation start."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="load")
    timing = page.evaluate("""() => new Promise(resolve => {
        const read = () => {
            const nav = performance.getEntriesByType('navigation')[0];
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            if (paint && nav.loadEventEnd > 0) {
                resolve({fcp: paint.startTime, load: nav.loadEventEnd, response_end: nav.responseEnd});
            } else {
                setTimeout(read, 5);
            }
        };
        read();
    })""")
    page.close()
    return {k: (v / 1000 if v is not None else float("nan")) for k, v in timing.items()}


class StaticFiles:
    """The baseline's file server: what opening the raw files in a browser costs."""

    def __init__(self, root: Path):
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".jsonl": "text/plain", ".json": "text/plain"}

    def log_message(self, *_args: Any) -> None:
        pass


def median_of(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="Samples per measurement (cold server samples: 3).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="awm-bench-viewer-"))
    try:
        started = time.perf_counter()
        long_folder, sources = real_episodes(work)
        evaluation = work / "eval"
        summary = scaled_evaluation(evaluation, sources)
        assert summary["episodes"] == ENVIRONMENTS * TASKS_PER_ENV * K == 1000
        long_in_eval = next(p for p in (evaluation / "episodes").rglob("trajectory.json")
                            if os.path.samefile(p, long_folder / "trajectory.json")).parent
        trajectory_path = f"/ui/runs/0/{long_in_eval.relative_to(evaluation)}"
        pages = {"evaluation (1,000 episodes)": "/ui/runs/0/", "evaluation, filtered": "/ui/runs/0/?outcome=agent_error&page=2",
                 "20-turn trajectory": trajectory_path}
        print(f"prepared 1,000 episodes and a 20-turn trajectory in {time.perf_counter() - started:.1f} s ({work})", flush=True)

        cold: dict[str, list[float]] = {name: [] for name in pages}
        startups = []
        for _ in range(3):
            for name, path in pages.items():  # each page's first request in a fresh `awm view`
                viewer = AwmView(evaluation)
                startups.append(viewer.startup_s)
                cold[name].append(fetch_s(viewer.url + path))
                viewer.stop()

        viewer, files = AwmView(evaluation), StaticFiles(evaluation)
        try:
            warm = {name: [fetch_s(viewer.url + path) for _ in range(args.repeats)] for name, path in pages.items()}
            raw = {"results.jsonl (raw)": f"{files.url}/{RESULTS_FILE}",
                   "trajectory.json (raw)": f"{files.url}/{long_in_eval.relative_to(evaluation)}/trajectory.json"}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
                targets = {**{name: viewer.url + path for name, path in pages.items()}, **raw}
                for url in targets.values():  # one unmeasured visit each: the browser's own first-use costs
                    browser_render(browser, url)
                rendered = {name: [browser_render(browser, url) for _ in range(args.repeats)] for name, url in targets.items()}
                browser.close()
        finally:
            viewer.stop()
            files.stop()

        report: dict[str, Any] = {"repeats": args.repeats, "episodes": 1000, "trajectory_turns": 20,
                                  "awm_view_startup_s": statistics.median(startups), "pages": {}}
        for name in pages:
            report["pages"][name] = {"server_cold_s": statistics.median(cold[name]), "server_warm_s": statistics.median(warm[name]),
                                     "fcp_s": median_of(rendered[name], "fcp"), "load_s": median_of(rendered[name], "load")}
        for name in raw:
            report["pages"][name] = {"fcp_s": median_of(rendered[name], "fcp"), "load_s": median_of(rendered[name], "load")}
        baselines = {"evaluation (1,000 episodes)": "results.jsonl (raw)", "evaluation, filtered": "results.jsonl (raw)",
                     "20-turn trajectory": "trajectory.json (raw)"}
        for name, baseline in baselines.items():
            report["pages"][name]["fcp_vs_raw"] = report["pages"][name]["fcp_s"] / report["pages"][baseline]["fcp_s"]

        print(f"\nawm view start-up (to URL printed): {report['awm_view_startup_s'] * 1000:.0f} ms (median)")
        print(f"{'page':32} {'server cold':>12} {'server warm':>12} {'first paint':>12} {'load':>10} {'paint vs raw':>13}")
        for name, row in report["pages"].items():
            cells = [f"{row[k] * 1000:.1f} ms" if k in row else "-" for k in ("server_cold_s", "server_warm_s", "fcp_s", "load_s")]
            ratio = f"{row['fcp_vs_raw']:.2f}x" if "fcp_vs_raw" in row else "-"
            print(f"{name:32} {cells[0]:>12} {cells[1]:>12} {cells[2]:>12} {cells[3]:>10} {ratio:>13}")
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "viewer.json").write_text(json.dumps(report, indent=1))
        print(f"\nwritten to {RESULTS / 'viewer.json'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
