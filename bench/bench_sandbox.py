"""Benchmark what the sandbox costs, in one run.

1. Start-up of one process: plain `python -c pass`, the same inside bubblewrap (namespaces, mounts, seccomp),
   and the serving stack's imports (what the zygote pays once so that workers do not).
2. 100 bundles (renamed copies of the demo bundles) served by one awm-serve, one live session each: the cold
   start of each bundle's worker (its first POST /sessions: the zygote's fork, the worker's confinement, building
   the database and loading the code), and the memory of the whole process tree (PSS, which counts pages shared
   copy-on-write once, and the RSS sum, which counts them per process).

    python bench/bench_sandbox.py            # prints a table, writes bench/results/sandbox.json
    python bench/bench_sandbox.py --quick    # 20 bundles
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from awm_release.bundle_io import write_bundle
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.sandbox.launch import Sandbox
from bench_serve import save_results, server_pss, server_rss  # run as `python bench/bench_sandbox.py`
from env_server.process import ServerProcess



def median_start_ms(argv: list[str], repeats: int, sandbox: Sandbox | None = None) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        if sandbox is None:
            subprocess.run(argv, check=True)
        else:
            process = sandbox.popen(argv)
            assert process.wait() == 0
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def many_bundles(folder: Path, count: int) -> list[str]:
    demos = demo_bundle_ids()
    ids = []
    for i in range(count):
        base = load_demo_bundle(demos[i % len(demos)])
        bundle_id = f"{base.bundle_id.rsplit('_', 1)[0]}_{100 + i}"
        write_bundle(base.model_copy(update={"bundle_id": bundle_id}), folder)
        ids.append(bundle_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 bundles instead of 100")
    args = parser.parse_args()
    count, repeats = (20, 5) if args.quick else (100, 15)
    sandbox = Sandbox()
    info = sandbox.check()
    results: dict[str, object] = {"sandbox": info}
    plain = [sys.executable, "-I", "-c", "pass"]
    stack = [sys.executable, "-I", "-c", "import fastapi, sqlalchemy, pydantic, uvloop, env_server.runtime"]
    results["start_ms"] = {"python": median_start_ms(plain, repeats), "python_in_bwrap": median_start_ms(plain, repeats, sandbox),
                           "serving_stack_imports": median_start_ms(stack, max(3, repeats // 3))}
    with tempfile.TemporaryDirectory() as tmp:
        ids = many_bundles(Path(tmp), count)
        with ServerProcess(["--bundles", tmp, "--workers", "1"], startup_timeout_s=300) as server:
            client = httpx.Client(base_url=server.url, timeout=120)
            idle = {"pss_mb": server_pss(server.pid) / 2**20, "rss_mb": server_rss(server.pid) / 2**20}
            cold = []
            for bundle_id in ids:
                started = time.perf_counter()
                client.post("/sessions", json={"bundle_id": bundle_id}).raise_for_status()
                cold.append(time.perf_counter() - started)
            warm = []
            for bundle_id in ids[:20]:
                started = time.perf_counter()
                client.post("/sessions", json={"bundle_id": bundle_id}).raise_for_status()
                warm.append(time.perf_counter() - started)
            results["bundles"] = {"count": count, "cold_start_ms": statistics.median(cold) * 1000,
                                  "cold_start_p90_ms": sorted(cold)[int(0.9 * (len(cold) - 1))] * 1000,
                                  "warm_create_ms": statistics.median(warm) * 1000, "idle": idle,
                                  "pss_mb": server_pss(server.pid) / 2**20, "rss_mb": server_rss(server.pid) / 2**20}
    s, b = results["start_ms"], results["bundles"]
    print(f"sandbox: {info.get('mechanism')}, uid {info.get('uid_inside')} inside / {info.get('uid_outside')} outside, "
          f"Landlock ABI {info.get('landlock_abi')}")
    print(f"start-up (median): python {s['python']:.0f} ms; python in bubblewrap {s['python_in_bwrap']:.0f} ms "
          f"(+{s['python_in_bwrap'] - s['python']:.0f} ms per sandbox); serving-stack imports {s['serving_stack_imports']:.0f} ms "
          "(paid once by the zygote, not per worker)")
    print(f"{b['count']} bundles, one live session each: worker cold start (fork + confine + hydrate, at the REST API) "
          f"median {b['cold_start_ms']:.0f} ms, p90 {b['cold_start_p90_ms']:.0f} ms; next session {b['warm_create_ms']:.1f} ms")
    print(f"process tree: PSS {b['pss_mb']:.0f} MB (RSS sum {b['rss_mb']:.0f} MB); before the first session PSS {b['idle']['pss_mb']:.0f} MB")
    save_results("sandbox", results)


if __name__ == "__main__":
    main()
