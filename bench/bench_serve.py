"""Benchmark awm-serve against the one-uvicorn-process-per-session baseline, in one run.

Measures, per demo bundle: REST session create / reset / tool call and MCP tool call latency (medians),
the baseline's start-to-first-answer time (build the SQLite file from DDL + INSERTs, spawn uvicorn on the
generated code, poll until it answers), and server RSS with 256 open sessions of one bundle.

    python bench/bench_serve.py            # all demo bundles, prints a table, writes bench/results/serve.json
    python bench/bench_serve.py --quick    # fewer repetitions
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from mcp.client.client import Client

from awm_release.bundle import Bundle
from awm_release.database import build_database, build_template_image, open_image
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from env_server.process import ServerProcess, free_port
from env_server.runtime import SessionDatabase, load_environment

RESULTS = Path(__file__).parent / "results"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def read_tools(bundle: Bundle) -> list[tuple[str, str]]:
    """(operation_id, path) of every GET tool without required parameters: a realistic mix of read calls."""
    tools = [
        (e["operation_id"], e["path"])
        for g in bundle.api_spec["api_groups"] for e in g["endpoints"]
        if e["method"] == "GET" and not any(p.get("required") for p in e.get("request_params", {}).values())
    ]
    if not tools:
        raise LookupError(f"{bundle.bundle_id} has no GET tool without required parameters")
    return tools


def in_process_ms(bundle: Bundle, tools: list[str], n: int) -> float:
    """The same calls without HTTP: what the environment's own handlers cost."""
    environment = load_environment(bundle)
    db = SessionDatabase(open_image(build_template_image(bundle)[0]))

    async def run() -> list[float]:
        out = []
        for i in range(n):
            start = time.perf_counter()
            await environment.call(db, tools[i % len(tools)], {})
            out.append(time.perf_counter() - start)
        return out

    return median_ms(asyncio.run(run()))


def bench_awm_serve(client: httpx.Client, url: str, bundle: Bundle, n: int) -> dict[str, float]:
    bundle_id = bundle.bundle_id
    create = timed(lambda: client.post("/sessions", json={"bundle_id": bundle_id}).raise_for_status(), n)
    session_id = client.post("/sessions", json={"bundle_id": bundle_id}).json()["session_id"]
    reset = timed(lambda: client.post(f"/sessions/{session_id}/reset").raise_for_status(), n)
    tools = [name for name, _ in read_tools(bundle)]
    cycle = iter(range(10**9))

    def rest_call() -> None:
        tool = tools[next(cycle) % len(tools)]
        body = client.post(f"/sessions/{session_id}/call", json={"tool": tool, "arguments": {}}).json()
        assert body["ok"], body

    call = timed(rest_call, n)

    async def mcp_calls() -> list[float]:
        async with Client(f"{url}/mcp/{bundle_id}") as mcp:
            await mcp.call_tool(tools[0], {})
            out = []
            for i in range(n):
                start = time.perf_counter()
                result = await mcp.call_tool(tools[i % len(tools)], {})
                out.append(time.perf_counter() - start)
                assert not result.is_error
            return out

    mcp = asyncio.run(mcp_calls())
    return {
        "tools": tools,
        "create_ms": median_ms(create),
        "reset_ms": median_ms(reset),
        "rest_call_ms": median_ms(call),
        "mcp_call_ms": median_ms(mcp),
        "in_process_call_ms": in_process_ms(bundle, tools, n),
    }


def bench_baseline(bundle: Bundle, repeats: int) -> dict[str, float]:
    """What OpenEnv-style servers do per session: DB from DDL + INSERTs, spawn uvicorn, poll until it answers."""
    tool_path = read_tools(bundle)[0][1]
    starts, rss = [], []
    with tempfile.TemporaryDirectory(prefix="awm-baseline-") as tmp:
        module = Path(tmp, f"env_{bundle.bundle_id}.py")
        module.write_text(bundle.env_code, encoding="utf-8")
        for i in range(repeats):
            db_path = Path(tmp, f"{bundle.bundle_id}_{i}.db")
            port = free_port()
            started = time.perf_counter()
            with sqlite3.connect(db_path) as conn:
                build_database(bundle, conn)
            env = {**os.environ, "DATABASE_PATH": f"sqlite:///{db_path}"}
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", module.stem + ":app", "--port", str(port), "--log-level", "warning"],
                cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            try:
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}{tool_path}", timeout=1).status_code < 500:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.01)
                    if proc.poll() is not None:
                        raise RuntimeError("baseline uvicorn exited")
                starts.append(time.perf_counter() - started)
                rss.append(psutil.Process(proc.pid).memory_info().rss)
            finally:
                proc.terminate()
                proc.wait()
    return {"start_ms": median_ms(starts), "rss_mb": statistics.median(rss) / 2**20}


def save_results(name: str, results: dict) -> None:
    """bench/results/NAME.json, which the lead's quiet-machine reruns compare."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))


def server_rss(pid: int) -> int:
    """RSS of the server: the front process and every process below it (zygote, workers, verifier servers)."""
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def server_pss(pid: int) -> int:
    """PSS of the same tree: pages shared copy-on-write by the zygote's workers are counted once, not per worker."""
    root = psutil.Process(pid)
    return sum(p.memory_full_info().pss for p in [root, *root.children(recursive=True)])


def bench_memory(client: httpx.Client, pid: int, bundle_id: str, sessions: int) -> dict[str, float]:
    for _ in range(4):  # hydrated in every worker before the baseline reading
        client.post("/sessions", json={"bundle_id": bundle_id}).raise_for_status()
    before = server_rss(pid)
    for _ in range(sessions):
        client.post("/sessions", json={"bundle_id": bundle_id}).raise_for_status()
    after = server_rss(pid)
    return {"sessions": sessions, "rss_mb": after / 2**20, "per_session_kb": (after - before) / sessions / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--bundles", nargs="*", default=demo_bundle_ids(), help="demo bundles to measure")
    args = parser.parse_args()
    n, repeats = (30, 2) if args.quick else (300, 5)
    bundles = [load_demo_bundle(b) for b in args.bundles]
    rows = {}
    with ServerProcess([b.bundle_id for b in bundles], startup_timeout_s=120) as server:
        client = httpx.Client(base_url=server.url, timeout=60)
        for bundle in bundles:
            rows[bundle.bundle_id] = bench_awm_serve(client, server.url, bundle, n)
            rows[bundle.bundle_id]["baseline"] = bench_baseline(bundle, repeats)
    with ServerProcess([bundles[0].bundle_id], startup_timeout_s=120) as server:
        memory = bench_memory(httpx.Client(base_url=server.url, timeout=60), server.pid, bundles[0].bundle_id, 256)

    print("medians; calls cycle through each bundle's GET tools without required arguments; "
          "'handler' is the same calls in-process, without HTTP")
    print(f"{'bundle':<18}{'create':>9}{'reset':>9}{'REST call':>11}{'MCP call':>10}{'handler':>9}"
          f"{'baseline start':>16}{'create ratio':>14}")
    for bundle_id, row in rows.items():
        row["start_ratio"] = row["baseline"]["start_ms"] / row["create_ms"]
        print(f"{bundle_id:<18}{row['create_ms']:>7.2f}ms{row['reset_ms']:>7.2f}ms{row['rest_call_ms']:>9.2f}ms"
              f"{row['mcp_call_ms']:>8.2f}ms{row['in_process_call_ms']:>7.2f}ms"
              f"{row['baseline']['start_ms']:>14.0f}ms{row['start_ratio']:>13.0f}x")
    print(f"{memory['sessions']} sessions of {bundles[0].bundle_id}: server RSS (front + workers) {memory['rss_mb']:.0f} MB "
          f"({memory['per_session_kb']:.0f} KB per session; baseline: {rows[bundles[0].bundle_id]['baseline']['rss_mb']:.0f} MB per session process)")
    print("targets: create/reset median < 5 ms and >= 200x the baseline; REST call < 5 ms; MCP call < 15 ms; 256 sessions < 500 MB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps({"bundles": rows, "memory": memory, "repetitions": n}, indent=1))


if __name__ == "__main__":
    main()
