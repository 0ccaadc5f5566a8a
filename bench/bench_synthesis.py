"""Benchmark `awm gen all` with a scripted model that answers instantly, against the checks alone, in one run.

The model is a ScriptedLLM replaying the demo bundles (awm_release.synthesis.replay), served from a separate
process as a real endpoint would be. Baseline: the stage checks by themselves on the same outputs (SQLite
builds, environment load + probes, twenty sandboxed verifiers): the work any pipeline must do per bundle.
What `awm gen` adds on top of it (LLM client round trips, parsing, self-correction bookkeeping, state and
bundle files, progress, report) is its orchestration overhead: the CPU time of the `awm gen` process itself,
reported per bundle beside the CPU time of the check processes and the wall time.

    python bench/bench_synthesis.py               # 100 bundles; prints a table, writes bench/results/synthesis.json
    python bench/bench_synthesis.py --bundles 12 --reps 1
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from awm_release.cli import app
from awm_release.database import build_template_image
from awm_release.demo import load_demo_bundles
from awm_release.scripted_llm import ScriptedLLM
from awm_release.synthesis.envcheck import EnvironmentChecker
from awm_release.synthesis.replay import ReplayResponder, fenced
from awm_release.synthesis.validation import check_schema, check_seed, check_spec, check_tasks, check_verifier
from awm_release.sandbox.verifier_pool import VerifierPool

RESULTS = Path(__file__).parent / "results"
SEEDS = ["Bookstore", "Task tracker", "Clinic booking"]  # the categories of the demo bundles the model replays
WORKERS = os.cpu_count() or 2


def random_embeddings(texts: list[str]) -> list[list[float]]:
    """One pseudo-random direction per distinct text: every scenario edition counts as distinct."""
    return [np.random.default_rng(int(hashlib.md5(t.encode()).hexdigest()[:8], 16)).normal(size=256).tolist() for t in texts]


def serve_replay() -> None:
    """Child mode: serve the replaying model until stdin closes."""
    with ScriptedLLM(ReplayResponder(load_demo_bundles().values()), embed=random_embeddings) as llm:
        print(llm.base_url, flush=True)
        sys.stdin.read()


async def checks_only(bundle, pool: VerifierPool, envs: EnvironmentChecker) -> float:
    """Seconds for every stage check of one bundle, on its own (already correct) outputs."""
    started = time.perf_counter()
    assert check_tasks(fenced({"tasks": bundle.tasks}), len(bundle.tasks)).ok
    assert check_schema(fenced({"tables": [t.model_dump() for t in bundle.tables]}), 0.1).ok
    assert check_seed(bundle, fenced({"tables": [s.model_dump() for s in bundle.seed]}), 0.1).ok
    assert check_spec(bundle, fenced(bundle.api_spec)).ok
    image, _ = build_template_image(bundle)
    assert (await envs.check(bundle, bundle.env_code, image, deadline_s=120, call_timeout_s=10)).ok
    verdicts = await asyncio.gather(*(
        check_verifier(bundle, idx, mode, fenced(getattr(bundle.verifier_for(idx), mode).code, "python"), image, pool, 30)
        for idx in range(len(bundle.tasks)) for mode in ("code", "sql")))
    assert all(v.ok for v in verdicts)
    return time.perf_counter() - started


async def baseline(reps: int) -> float:
    """Median seconds of the checks alone per bundle, over the demo bundles."""
    envs = EnvironmentChecker(size=WORKERS)
    await envs.start()
    try:
        async with VerifierPool(size=WORKERS) as pool:
            await checks_only(load_demo_bundles()["bookstore_1"], pool, envs)  # warm-up: process start-up is not per bundle
            samples = [await checks_only(bundle, pool, envs) for _ in range(reps) for bundle in load_demo_bundles().values()]
    finally:
        await envs.close()
    return statistics.median(samples)


def generate(base_url: str, run: Path, count: int) -> dict[str, float]:
    """Wall seconds, and CPU seconds of this process and of the (reaped) check processes, for one `awm gen all`."""
    args = ["gen", "all", str(run), "--count", str(count), *sum((["--seed", s] for s in SEEDS), []),
            "--model", "scripted-model", "--base-url", base_url, "--embeddings", "api", "--embedding-model", "random",
            "--concurrency", "32", "--workers", str(WORKERS)]
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.perf_counter()
    result = CliRunner().invoke(app, args)
    elapsed = time.perf_counter() - started
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    if result.exit_code != 0:
        raise SystemExit(f"awm gen all failed:\n{result.output}")
    report = json.loads((run / "report.json").read_text())
    if report["totals"]["complete_bundles"] != count:
        raise SystemExit(f"only {report['totals']['complete_bundles']} of {count} bundles complete; see {run}")
    cpu = [(a.ru_utime + a.ru_stime) - (b.ru_utime + b.ru_stime) for a, b in zip(after, before)]
    return {"wall": elapsed, "own_cpu": cpu[0], "checks_cpu": cpu[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=100, help="bundles in the throughput run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the one-bundle run and of the baseline")
    parser.add_argument("--serve-replay", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_replay:
        return serve_replay()

    server = subprocess.Popen([sys.executable, __file__, "--serve-replay"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip()
        checks = asyncio.run(baseline(args.reps))
        with tempfile.TemporaryDirectory(prefix="awm-bench-gen-") as tmp:
            one = statistics.median(generate(base_url, Path(tmp, f"one{i}"), 1)["wall"] for i in range(args.reps))
            many = generate(base_url, Path(tmp, "many"), args.bundles)
    finally:
        server.stdin.close()
        server.wait(30)

    n = args.bundles
    per_bundle, own, children = many["wall"] / n, many["own_cpu"] / n, many["checks_cpu"] / n
    results = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average_1m": os.getloadavg()[0]},
        "checks_only_s_per_bundle": round(checks, 3),
        "bundles": n,
        "total_wall_s": round(many["wall"], 1),
        "wall_s_per_bundle": round(per_bundle, 3),
        "orchestration_cpu_s_per_bundle": round(own, 3),
        "check_processes_cpu_s_per_bundle": round(children, 3),
        "one_bundle_wall_s": round(one, 3),
        "targets": {"orchestration_s_per_bundle": 1.0, "hundred_bundles_s": 120.0},
    }
    rows = [
        ("checks alone, per bundle (baseline: serial, median)", f"{checks:8.3f} s", ""),
        (f"awm gen all, {n} bundles, total wall", f"{many['wall']:8.1f} s", "target for 100 bundles: < 120 s"),
        ("  wall per bundle", f"{per_bundle:8.3f} s", f"{per_bundle / checks:5.2f}x baseline"),
        ("  orchestration: awm gen's own CPU per bundle", f"{own:8.3f} s", "target < 1 s"),
        ("  check processes' CPU per bundle", f"{children:8.3f} s", ""),
        (f"awm gen all, 1 bundle, wall (median of {args.reps})", f"{one:8.3f} s", "includes starting the check servers"),
    ]
    for label, value, note in rows:
        print(f"{label:<52} {value}   {note}")
    print(f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "synthesis.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
