"""OpenEnv target: one short episode (reset to a task + one tool call + close) through openenv-core's own clients,
against the same episode over REST and over MCP (official SDK), on one awm-serve, in one run.

Each round runs every path once, in rotating order (so drift in machine load spreads over all of them):
- openenv GenericEnvClient: connect the WebSocket, reset(bundle_id, task_idx), step(call_tool), close;
- openenv MCPToolClient: the same through its tool-calling API;
- REST (httpx, keep-alive): POST /sessions, POST /sessions/{id}/call, DELETE /sessions/{id};
- MCP (mcp SDK): initialize on /mcp/{bundle_id}, call_tool, close.
Also the steady-state cost of one more tool call inside an open episode (OpenEnv step vs REST call).

    python bench/bench_openenv.py            # 300 rounds; prints medians, writes bench/results/openenv.json
    python bench/bench_openenv.py --quick    # 40 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from mcp.client.client import Client
from openenv.core.generic_client import GenericEnvClient
from openenv.core.mcp_client import MCPToolClient

from env_server.process import ServerProcess

RESULTS = Path(__file__).parent / "results"
BUNDLE, TASK, TOOL, ARGUMENTS = "bookstore_1", 0, "search_books", {"query": "Le Guin"}


def episodes(url: str, http: httpx.AsyncClient) -> dict[str, Callable[[], Awaitable[None]]]:
    async def openenv_generic() -> None:
        async with GenericEnvClient(base_url=f"{url}/openenv") as env:
            await env.reset(bundle_id=BUNDLE, task_idx=TASK)
            result = await env.step({"type": "call_tool", "tool_name": TOOL, "arguments": ARGUMENTS})
            assert result.observation["error"] is None, result.observation

    async def openenv_mcp_tool_client() -> None:
        async with MCPToolClient(base_url=f"{url}/openenv") as env:
            await env.reset(bundle_id=BUNDLE, task_idx=TASK)
            await env.call_tool(TOOL, **ARGUMENTS)

    async def rest() -> None:
        created = await http.post("/sessions", json={"bundle_id": BUNDLE, "task_idx": TASK})
        session_id = created.json()["session_id"]
        called = await http.post(f"/sessions/{session_id}/call", json={"tool": TOOL, "arguments": ARGUMENTS})
        assert called.json()["ok"], called.text
        (await http.delete(f"/sessions/{session_id}")).raise_for_status()

    async def mcp() -> None:
        async with Client(f"{url}/mcp/{BUNDLE}") as client:
            result = await client.call_tool(TOOL, ARGUMENTS)
            assert not result.is_error

    return {"openenv GenericEnvClient": openenv_generic, "openenv MCPToolClient": openenv_mcp_tool_client,
            "REST (httpx)": rest, "MCP (mcp SDK)": mcp}


async def steady_calls(url: str, rest: httpx.AsyncClient, n: int) -> dict[str, float]:
    """One more tool call inside an open episode: OpenEnv step over its WebSocket vs a REST call (medians, ms)."""
    samples: dict[str, list[float]] = {"openenv step": [], "REST call": []}
    session_id = (await rest.post("/sessions", json={"bundle_id": BUNDLE, "task_idx": TASK})).json()["session_id"]
    async with GenericEnvClient(base_url=f"{url}/openenv") as env:
        await env.reset(bundle_id=BUNDLE, task_idx=TASK)
        for _ in range(n):
            start = time.perf_counter()
            await env.step({"type": "call_tool", "tool_name": TOOL, "arguments": ARGUMENTS})
            samples["openenv step"].append(time.perf_counter() - start)
            start = time.perf_counter()
            await rest.post(f"/sessions/{session_id}/call", json={"tool": TOOL, "arguments": ARGUMENTS})
            samples["REST call"].append(time.perf_counter() - start)
    await rest.delete(f"/sessions/{session_id}")
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


async def measure(url: str, rounds: int) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=60) as rest:
        paths = episodes(url, rest)
        for run in paths.values():  # warm up: connections, hydration, imports
            await run()
        samples: dict[str, list[float]] = {name: [] for name in paths}
        names = list(paths)
        for i in range(rounds):
            for name in names[i % len(names):] + names[:i % len(names)]:
                start = time.perf_counter()
                await paths[name]()
                samples[name].append(time.perf_counter() - start)
        steady = await steady_calls(url, rest, rounds)
        left = (await rest.get("/health")).json()["sessions"]
    return {"episode_ms": {name: statistics.median(values) * 1000 for name, values in samples.items()},
            "episode_p90_ms": {name: statistics.quantiles(values, n=10)[-1] * 1000 for name, values in samples.items()},
            "steady_call_ms": steady, "sessions_left_open": left, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 rounds (smoke run)")
    parser.add_argument("--workers", type=int, default=1, help="awm-serve worker processes (default 1)")
    args = parser.parse_args()
    rounds = 40 if args.quick else 300
    with ServerProcess([BUNDLE, "--workers", str(args.workers)], startup_timeout_s=120) as server:
        result = asyncio.run(measure(server.url, rounds))
    rest_ms = result["episode_ms"]["REST (httpx)"]
    print(f"one episode = reset to {BUNDLE} task {TASK} + one {TOOL} call + close; medians over {rounds} rounds")
    print(f"{'path':<28}{'median':>10}{'p90':>10}{'vs REST':>10}")
    for name, ms in result["episode_ms"].items():
        print(f"{name:<28}{ms:>8.2f}ms{result['episode_p90_ms'][name]:>8.2f}ms{ms / rest_ms:>9.2f}x")
    steady = result["steady_call_ms"]
    print(f"one more call in an open episode: openenv step {steady['openenv step']:.2f} ms, REST call {steady['REST call']:.2f} ms")
    print(f"sessions left open after all episodes: {result['sessions_left_open']}")
    result["ratio_openenv_to_rest"] = result["episode_ms"]["openenv GenericEnvClient"] / rest_ms
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "openenv.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
