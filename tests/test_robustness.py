"""The host itself never answers 5xx to anything its own OpenAPI allows (schemathesis), and a soak stays clean."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from awm_release.demo import load_demo_bundle


def test_schemathesis_finds_no_server_errors(server, tmp_path):
    st = Path(sys.executable).with_name("st")
    command = [str(st if st.exists() else shutil.which("st")), "run", f"{server.url}/openapi.json",
               "--checks", "not_a_server_error", "--max-examples", "30", "--seed", "1", "--workers", "1",
               "--phases", "examples,coverage,fuzzing", "--generation-database", "none"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts and counts.group(1) == counts.group(2) and int(counts.group(1)) >= 200, run.stdout[-2000:]
    assert "Tested: 20" in run.stdout  # 13 REST operations + 7 of OpenEnv (/openenv/reset, step, state, schema, ...)


def read_tools_without_arguments(bundle_id: str) -> list[str]:
    spec = load_demo_bundle(bundle_id).api_spec
    return [e["operation_id"] for g in spec["api_groups"] for e in g["endpoints"]
            if e["method"] == "GET" and not any(p.get("required") for p in e.get("request_params", {}).values())]


def test_soak_1024_open_sessions_three_calls_each(server):
    """1,024 sessions open at once over three bundles, three calls each, on the default worker pool: no error at all.

    Three calls reach every read tool of every bundle across the sessions while all 1,024 are open; more calls
    per session measure throughput, which is bench/bench_scale.py's job, not a test's (it kept the suite long).
    """
    bundles = ["bookstore_1", "task_tracker_1", "clinic_booking_1"]
    tools = {b: read_tools_without_arguments(b) for b in bundles}

    async def soak() -> list[str]:
        failures: list[str] = []
        # All 1,024 sessions are open at once; their calls go through 16 connections, because the Python client,
        # not the server, is the bottleneck on this machine (see bench/bench_scale.py for the server's numbers).
        limits = httpx.Limits(max_connections=16)
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            async def episode(i: int) -> str:
                bundle_id = bundles[i % len(bundles)]
                async with gate:
                    created = await client.post("/sessions", json={"bundle_id": bundle_id})
                if created.status_code != 201:
                    failures.append(f"create {i}: {created.status_code} {created.text[:200]}")
                    return ""
                return created.json()["session_id"]

            session_ids = await asyncio.gather(*(episode(i) for i in range(1024)))

            async def calls(i: int, session_id: str) -> None:
                bundle_tools = tools[bundles[i % len(bundles)]]
                for k in range(3):
                    tool = bundle_tools[(i + k) % len(bundle_tools)]
                    async with gate:
                        response = await client.post(f"/sessions/{session_id}/call", json={"tool": tool, "arguments": {}})
                    if response.status_code != 200 or not response.json()["ok"]:
                        failures.append(f"session {i} call {k} {tool}: {response.status_code} {response.text[:200]}")
                async with gate:
                    await client.delete(f"/sessions/{session_id}")

            await asyncio.gather(*(calls(i, s) for i, s in enumerate(session_ids) if s))
        return failures

    failures = asyncio.run(soak())
    assert failures == [], failures[:5]
    assert httpx.get(f"{server.url}/health").json()["sessions"] <= 10  # everything the soak opened was closed
