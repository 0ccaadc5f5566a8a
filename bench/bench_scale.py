"""Benchmark awm-serve at RL scale, against the one-uvicorn-process-per-session baseline, in one run.

1. 1,024 concurrent sessions over 8 bundles: time to create them all, and the server's total RSS
   (front + workers). The baseline (one uvicorn process per session, as OpenEnv/strands-env do) cannot
   start 1,024 processes here: its per-session start time and RSS are measured and projected.
2. Tool-call throughput over REST with `--workers 2`, driven by `wrk` (a C load generator, so the
   client does not eat the server's CPU): calls/s and latency percentiles, calling each bundle's
   lightest read tool (so the number measures the serving path; the handler's own in-process cost is
   printed beside it). Falls back to a Python client when wrk is missing (apt-get install wrk).
3. Code-mode verifications per second through the warm verifier pool.

    python bench/bench_scale.py            # prints a table, writes bench/results/scale.json
    python bench/bench_scale.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from awm_release.bundle_io import write_bundle
from awm_release.demo import demo_bundle_ids, demo_solutions, load_demo_bundle
from bench_serve import bench_baseline, in_process_ms, read_tools, save_results, server_pss, server_rss  # run as `python bench/bench_scale.py`
from env_server.process import ServerProcess

WRK_SCRIPT = """
local bodies = {}
local paths = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    local sid, tool = line:match("([^ ]+) ([^ ]+)")
    n = n + 1
    paths[n] = "/sessions/" .. sid .. "/call"
    bodies[n] = '{"tool": "' .. tool .. '", "arguments": {}}'
  end
  math.randomseed(tonumber(args[2]) or 1)
end
request = function()
  local i = math.random(n)
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def eight_bundles(folder: Path) -> dict[str, str]:
    """The three demo bundles plus renamed copies: eight bundles, each loaded as its own environment.

    Returns bundle id -> the demo bundle it copies."""
    copies = {}
    demos = demo_bundle_ids()
    for i in range(8):
        base = load_demo_bundle(demos[i % len(demos)])
        bundle_id = base.bundle_id if i < len(demos) else f"{base.bundle_id.rsplit('_', 1)[0]}_{i + 1}"
        write_bundle(base.model_copy(update={"bundle_id": bundle_id}), folder)
        copies[bundle_id] = base.bundle_id
    return copies


def lightest_read_tool(bundle_id: str) -> tuple[str, float]:
    """(tool, in-process ms) of the demo bundle's cheapest GET tool without required arguments."""
    bundle = load_demo_bundle(bundle_id)
    return min(((name, in_process_ms(bundle, [name], 100)) for name, _ in read_tools(bundle)), key=lambda pair: pair[1])


def create_sessions(url: str, bundle_ids: list[str], count: int) -> tuple[list[tuple[str, str]], float]:
    """Open `count` sessions round-robin over the bundles, all kept open; one keep-alive client, one after another
    (a Python client opening them concurrently spends more CPU than the server does)."""
    with httpx.Client(base_url=url, timeout=120) as client:
        started = time.perf_counter()
        sessions = []
        for i in range(count):
            bundle_id = bundle_ids[i % len(bundle_ids)]
            response = client.post("/sessions", json={"bundle_id": bundle_id})
            response.raise_for_status()
            sessions.append((response.json()["session_id"], bundle_id))
        return sessions, time.perf_counter() - started


def wrk_throughput(url: str, sessions: list[tuple[str, str]], tools: dict[str, list[str]], seconds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        script, targets = Path(tmp, "calls.lua"), Path(tmp, "targets.txt")
        script.write_text(WRK_SCRIPT)
        targets.write_text("".join(f"{sid} {tool}\n" for sid, bundle_id in sessions for tool in tools[bundle_id]))
        run = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url, "--", str(targets), "7"],
                             capture_output=True, text=True, check=True)
    out = run.stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")

    def latency_ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"calls_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": latency_ms("50%"), "p90_ms": latency_ms("90%"), "p99_ms": latency_ms("99%")}


async def python_throughput(url: str, sessions: list[tuple[str, str]], tools: dict[str, list[str]], seconds: int) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        async def loop(k: int) -> None:
            i = k
            while time.perf_counter() < deadline:
                sid, bundle_id = sessions[i % len(sessions)]
                tool = tools[bundle_id][i % len(tools[bundle_id])]
                started = time.perf_counter()
                (await client.post(f"/sessions/{sid}/call", json={"tool": tool, "arguments": {}})).raise_for_status()
                latencies.append(time.perf_counter() - started)
                i += 16

        await asyncio.gather(*(loop(k) for k in range(16)))
    latencies.sort()
    pick = lambda q: latencies[int(q * (len(latencies) - 1))] * 1000  # noqa: E731
    return {"calls_per_s": len(latencies) / seconds, "p50_ms": pick(0.5), "p90_ms": pick(0.9), "p99_ms": pick(0.99)}


async def verifications_per_second(url: str, count: int) -> dict[str, float]:
    solution = demo_solutions("bookstore_1")[0]
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=16)) as client:
        session_ids = []
        for _ in range(16):
            sid = (await client.post("/sessions", json={"bundle_id": "bookstore_1", "task_idx": 0})).json()["session_id"]
            for step in solution["steps"]:
                await client.post(f"/sessions/{sid}/call", json={"tool": step["tool"], "arguments": step["arguments"]})
            session_ids.append(sid)
        verdicts: list[str] = []

        async def loop(sid: str) -> None:
            for _ in range(count // 16):
                verdicts.append((await client.post(f"/sessions/{sid}/verify", json={})).json()["result"])

        started = time.perf_counter()
        await asyncio.gather(*(loop(s) for s in session_ids))
        elapsed = time.perf_counter() - started
    assert set(verdicts) == {"complete"}, set(verdicts)
    return {"verifications": len(verdicts), "per_s": len(verdicts) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    args = parser.parse_args()
    seconds, verifications, baseline_repeats = (4, 160, 2) if args.quick else (10, 640, 5)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        copies = eight_bundles(Path(tmp))
        bundle_ids = list(copies)
        lightest = {base: lightest_read_tool(base) for base in set(copies.values())}
        tools = {b: [lightest[base][0]] for b, base in copies.items()}
        results["handler_ms"] = {f"{base}.{tool}": ms for base, (tool, ms) in lightest.items()}
        with ServerProcess([*bundle_ids, "--bundles", tmp, "--workers", "2"], startup_timeout_s=300) as server:
            idle_rss = server_rss(server.pid)
            sessions, created_in = create_sessions(server.url, bundle_ids, 1024)
            results["sessions"] = {"count": len(sessions), "create_all_s": created_in, "idle_rss_mb": idle_rss / 2**20,
                                   "rss_mb": server_rss(server.pid) / 2**20, "pss_mb": server_pss(server.pid) / 2**20}
            cheapest_base = min(lightest, key=lambda base: lightest[base][1])
            cheapest = [(sid, b) for sid, b in sessions if copies[b] == cheapest_base]
            for label, chosen in (("mix", sessions), ("cheapest", cheapest)):
                if shutil.which("wrk"):
                    results[f"throughput_{label}"] = {"client": "wrk", **wrk_throughput(server.url, chosen, tools, seconds)}
                else:
                    results[f"throughput_{label}"] = {"client": "python",
                                                      **asyncio.run(python_throughput(server.url, chosen, tools, seconds))}
            results["verify"] = asyncio.run(verifications_per_second(server.url, verifications))
    baseline = bench_baseline(load_demo_bundle("bookstore_1"), baseline_repeats)
    results["baseline"] = {**baseline, "projected_1024_rss_gb": baseline["rss_mb"] * 1024 / 1024,
                           "projected_1024_serial_start_s": baseline["start_ms"] * 1024 / 1000}

    s, v, b = results["sessions"], results["verify"], results["baseline"]
    print(f"1,024 sessions over 8 bundles: created in {s['create_all_s']:.1f} s; process tree PSS {s['pss_mb']:.0f} MB, "
          f"RSS sum {s['rss_mb']:.0f} MB (idle {s['idle_rss_mb']:.0f} MB)   targets: < 10 s, < 2,048 MB")
    print(f"baseline (uvicorn per session): {b['start_ms']:.0f} ms and {b['rss_mb']:.0f} MB per session -> 1,024 sessions "
          f"would need {b['projected_1024_rss_gb']:.0f} GB and {b['projected_1024_serial_start_s']:.0f} s of serial start-up "
          f"({b['rss_mb'] * 1024 / s['rss_mb']:.0f}x the memory)")
    handlers = ", ".join(f"{name} {ms:.2f} ms" for name, ms in results["handler_ms"].items())
    print(f"REST tool calls, 2 workers; each bundle's lightest read tool (in-process cost: {handlers})")
    for label, meaning in (("mix", "all 1,024 sessions"), ("cheapest", "sessions of the bundle with the cheapest tool")):
        t = results[f"throughput_{label}"]
        print(f"  {meaning} ({t['client']}): {t['calls_per_s']:.0f} calls/s, p50 {t['p50_ms']:.1f} ms, "
              f"p90 {t['p90_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms   targets: >= 1,500 calls/s, p99 < 50 ms")
    print(f"code-mode verifications: {v['per_s']:.0f}/s over {v['verifications']}   target: >= 100/s")
    save_results("scale", results)


if __name__ == "__main__":
    main()
