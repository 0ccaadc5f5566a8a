"""Benchmark `awm bundle check` on the three demo bundles and the real AWM-1K sample's servable bundle.

Measures, in one run: the checker over the four bundles with one job and with one job per core (divergences
must be 0), tools checked and calls made per second, and, as the baseline, the same calls made against
the original runtime alone (start its server, call each case once: no awm-serve, no reset, no comparison),
which is the cost of merely exercising the tools. Every job keeps about four processes busy (the checker,
the original server, awm-serve's front and a worker), so the work is CPU-bound already at one job per two
cores: the projection for 1,000 bundles of AWM-1K size (35 tools each) on 2 and on 64 cores divides the
CPU-seconds spent per tool checked (all processes, measured) by the cores. At 64 cores that assumes
enough awm-serve fronts (one front serves about 16 jobs before its own core saturates).

    python bench/bench_check.py            # prints a table, writes bench/results/check.json
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path

from awm_release.awm1k import read_awm1k
from awm_release.bundle import Bundle
from awm_release.check.cases import SeedValues, build_cases
from awm_release.check.original import OriginalServer
from awm_release.check.routing import RouteTable
from awm_release.check.runner import check_bundles, checked_sandbox
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.routes import declared_routes
from env_server.registry import hydrate_bundle

RESULTS = Path(__file__).parent / "results"
SAMPLE = Path(__file__).parents[1] / "tests" / "data" / "awm1k-sample"
AWM1K_TOOLS_PER_BUNDLE = 35  # the dataset card's figure for AgentWorldModel-1K


def bundles() -> list[Bundle]:
    sample = [b for b in read_awm1k(SAMPLE).bundles if b.env_code is not None]
    return [load_demo_bundle(b) for b in demo_bundle_ids()] + sample


def original_alone(bundle: Bundle, work: Path) -> tuple[float, int]:
    """The baseline: the original server started and every case's calls made once (seconds, calls)."""
    environment, _, _ = hydrate_bundle(bundle)  # only to list the tools as awm-serve would
    tools = [t.public() for t in environment.tools.values()]
    start = time.perf_counter()
    with OriginalServer(bundle, work / bundle.bundle_id, checked_sandbox(True)) as server:
        seeds = server.database()
        cases = build_cases(tools, bundle.api_spec, SeedValues(seeds), RouteTable(declared_routes(bundle.env_code) or []))
        seeds.close()
        calls = 0
        for case in cases:
            for tool, arguments in case.steps:
                server.call(tool, {k: v for k, v in arguments.items() if not hasattr(v, "step")})
                calls += 1
    return time.perf_counter() - start, calls


def cpu_seconds() -> float:
    """This process and every finished descendant: the checker's workers, awm-serve and the original servers."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(jobs: int, selected: list[Bundle]) -> dict:
    start, cpu = time.perf_counter(), cpu_seconds()
    reports = check_bundles(selected, jobs=jobs)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    tools = sum(r.tools["here"] or 0 for r in reports)
    calls = sum(r.calls for r in reports)
    return {"jobs": jobs, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "tools": tools, "calls": calls, "cases": sum(sum(r.counts.values()) for r in reports),
            "divergences": sum(r.counts["divergence"] for r in reports), "tools_per_s": round(tools / wall, 3),
            "calls_per_s": round(calls / wall, 1), "per_bundle_s": {r.bundle_id: round(r.seconds, 2) for r in reports},
            "counts": {c: sum(r.counts[c] for r in reports) for c in ("agreement", "divergence", "fault_in_both", "improvement")}}


def main() -> None:
    selected = bundles()
    cores = len(os.sched_getaffinity(0))
    one = run(1, selected)
    many = run(cores, selected)
    with tempfile.TemporaryDirectory(prefix="awm-bench-check-") as tmp:
        baseline = [original_alone(b, Path(tmp)) for b in selected]
    baseline_s = sum(s for s, _ in baseline)
    cpu_per_tool = min(one["cpu_s"], many["cpu_s"]) / one["tools"]  # CPU-seconds (all processes) per tool checked
    projection = {f"{c}_cores_h": round(1000 * AWM1K_TOOLS_PER_BUNDLE * cpu_per_tool / c / 3600, 2) for c in (2, 64)}
    results = {"bundles": [b.bundle_id for b in selected], "cores": cores, "cpu_s_per_tool": round(cpu_per_tool, 3), "load_average_1min": os.getloadavg()[0],
               "one_job": one, "all_cores": many, "speedup": round(one["wall_s"] / many["wall_s"], 2),
               "baseline_original_alone_s": round(baseline_s, 2), "baseline_calls": sum(c for _, c in baseline),
               "checker_over_baseline": round(one["wall_s"] / baseline_s, 2),
               "projection_1000_awm1k_bundles": projection}
    print(f"{'run':<24}{'wall s':>8}{'CPU s':>8}{'tools':>7}{'calls':>7}{'tools/s':>9}{'calls/s':>9}{'diverge':>9}")
    for name, r in (("checker, 1 job", one), (f"checker, {cores} jobs", many)):
        print(f"{name:<24}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['tools']:>7}{r['calls']:>7}{r['tools_per_s']:>9.2f}"
              f"{r['calls_per_s']:>9.1f}{r['divergences']:>9}")
    print(f"{'original alone (base)':<24}{baseline_s:>8.1f}{'':>7}{results['baseline_calls']:>7}")
    print(f"\nchecker / baseline: {results['checker_over_baseline']}x; speedup on {cores} cores: {results['speedup']}x; "
          f"load average {results['load_average_1min']:.1f}")
    print(f"projected for 1,000 AWM-1K bundles ({AWM1K_TOOLS_PER_BUNDLE} tools each): {projection['2_cores_h']} h on 2 cores, "
          f"{projection['64_cores_h']} h on 64 cores ({cpu_per_tool:.2f} CPU-s per tool, divided by the cores)")
    print(f"cases: {one['counts']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "check.json").write_text(json.dumps(results, indent=1) + "\n")
    if one["divergences"] or many["divergences"]:
        raise SystemExit("divergences found: see `awm bundle check` on these bundles")


if __name__ == "__main__":
    main()
