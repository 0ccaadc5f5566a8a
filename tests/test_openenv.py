"""openenv-core's own clients (GenericEnvClient, MCPToolClient, their sync wrappers, production-mode MCP) against a
real awm-serve on loopback: reset to a task, list and call tools, the reward at the end, one environment per client."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from openenv.core.env_server.mcp_types import CallToolAction, CallToolObservation
from openenv.core.generic_client import GenericEnvClient
from openenv.core.mcp_client import MCPToolClient

from awm_release.demo import demo_solutions, load_demo_bundle
from tests.conftest import RunningServer, run_server


def session_exists(server: RunningServer, session_id: str) -> bool:
    return server.client.get(f"/sessions/{session_id}").status_code == 200


async def _generic_episode(server: RunningServer) -> str:
    solution = demo_solutions("bookstore_1")[0]
    async with GenericEnvClient(base_url=f"{server.url}/openenv") as env:
        reset = await env.reset(bundle_id="bookstore_1", task_idx=0)
        assert reset.observation["task"] == load_demo_bundle("bookstore_1").tasks[0]
        assert reset.reward is None and not reset.done
        session_id = reset.observation["session_id"]
        listed = await env.step({"type": "list_tools"})
        rest_tools = server.client.get(f"/sessions/{session_id}/tools").json()["tools"]
        assert [t["name"] for t in listed.observation["tools"]] == [t["name"] for t in rest_tools]
        assert listed.observation["tools"][0]["input_schema"] == rest_tools[0]["inputSchema"]
        for step in solution["steps"]:
            called = await env.step({"type": "call_tool", "tool_name": step["tool"], "arguments": step["arguments"]})
            assert called.observation["error"] is None, called.observation
        assert called.observation["result"]["data"] == called.observation["result"]["structured_content"]
        verified = await env.step({"type": "verify", "final_answer": solution["final_answer"]})
        assert (verified.reward, verified.done, verified.observation["verification"]["result"]) == (1.0, True, "complete")
        state = await env.state()
        assert state["step_count"] == len(solution["steps"]) + 2 and state["bundle_id"] == "bookstore_1"
        again = await env.reset(bundle_id="bookstore_1", task_idx=0)  # the same task: the same session, back to the seed
        assert again.observation["session_id"] == session_id
        undone = await env.step({"type": "verify"})
        assert (undone.reward, undone.observation["verification"]["result"]) == (0.0, "others")
        assert session_exists(server, session_id)
    return session_id


def test_generic_client_runs_an_episode_to_its_reward_and_disconnecting_closes_it(server):
    session_id = asyncio.run(_generic_episode(server))
    assert not session_exists(server, session_id)


async def _mcp_tool_episode(url: str) -> tuple[str, list]:
    async with MCPToolClient(base_url=url) as env:
        reset = await env.reset(bundle_id="bookstore_1", task_idx=0)
        assert reset.observation.metadata["task"] == load_demo_bundle("bookstore_1").tasks[0]
        tools = await env.list_tools()
        assert "search_books" in {t.name for t in tools} and "verify" not in {t.name for t in tools}
        found = await env.call_tool("search_books", query="Le Guin")
        assert {b["title"] for b in found["books"]} >= {"The Left Hand of Darkness"}
        with pytest.raises(RuntimeError, match=r"Tool 'teleport' failed: no tool named 'teleport' in bookstore_1.*\(type: tool_not_found\)"):
            await env.call_tool("teleport")
        with pytest.raises(RuntimeError, match=r"invalid arguments for get_book_details: book_id: .*\(type: invalid_args\)"):
            await env.call_tool("get_book_details", book_id="seven")
        wrong = await env.step(CallToolAction(tool_name="get_book_details", arguments={"book_id": 99999}))
        assert isinstance(wrong.observation, CallToolObservation) and wrong.observation.error.error_type.value == "execution_error"
        for step in demo_solutions("bookstore_1")[0]["steps"]:
            await env.call_tool(step["tool"], **step["arguments"])
        verified = await env.step(CallToolAction(tool_name="verify", arguments={"mode": "code"}))
        assert (verified.reward, verified.done) == (1.0, True)
        assert (await env.call_tool("verify"))["result"] == "complete"
        state = await env.state()
        return reset.observation.metadata["session_id"], [state.episode_id, state.step_count]


def test_mcp_tool_client_lists_and_calls_tools_and_verifies_as_a_tool(server):
    session_id, (episode_id, steps) = asyncio.run(_mcp_tool_episode(f"{server.url}/openenv"))
    assert episode_id and steps == 10
    assert not session_exists(server, session_id)


def test_sync_clients_at_the_bare_server_address_and_per_bundle_urls(server):
    with GenericEnvClient(base_url=server.url).sync() as env:  # /ws at the root
        first = env.reset(bundle_id="task_tracker_1", task_idx=2)
        assert first.observation["bundle_id"] == "task_tracker_1"
        other = env.reset(bundle_id="clinic_booking_1")  # another bundle: a new session, the old one closed
        assert other.observation["task_idx"] is None and not session_exists(server, first.observation["session_id"])
    with MCPToolClient(base_url=f"{server.url}/openenv/clinic_booking_1").sync() as env:
        reset = env.reset(task_idx=1)
        assert reset.observation.metadata["bundle_id"] == "clinic_booking_1"
        assert isinstance(env.step(CallToolAction(tool_name="list_doctors", arguments={})).observation, CallToolObservation)
        with pytest.raises(RuntimeError, match="this endpoint serves clinic_booking_1; reset asked for bookstore_1"):
            env.reset(bundle_id="bookstore_1")
    assert not session_exists(server, reset.observation.metadata["session_id"])


async def _isolated_pair(url: str) -> tuple[float, float]:
    steps = demo_solutions("bookstore_1")[0]["steps"]
    async with GenericEnvClient(base_url=url) as one, GenericEnvClient(base_url=url) as two:
        await asyncio.gather(one.reset(bundle_id="bookstore_1", task_idx=0), two.reset(bundle_id="bookstore_1", task_idx=0))
        for step in steps:
            await one.step({"type": "call_tool", "tool_name": step["tool"], "arguments": step["arguments"]})
        first, second = await asyncio.gather(one.step({"type": "verify"}), two.step({"type": "verify"}))
        return first.reward, second.reward


def test_every_client_session_has_its_own_environment(server):
    assert asyncio.run(_isolated_pair(f"{server.url}/openenv")) == (1.0, 0.0)


async def _errors(url: str) -> list[str]:
    messages = []
    async with GenericEnvClient(base_url=url) as env:
        for attempt in (lambda: env.reset(bundle_id="atlantis_1"), lambda: env.reset(),
                        lambda: env.reset(bundle_id="bookstore_1", task_idx="zero"), lambda: env.step({"type": "dance"})):
            with pytest.raises(RuntimeError) as caught:
                await attempt()
            messages.append(str(caught.value))
        assert (await env.reset(bundle_id="bookstore_1")).observation["bundle_id"] == "bookstore_1"  # still usable
        with pytest.raises(RuntimeError) as caught:
            await env.step({"type": "verify"})
        messages.append(str(caught.value))
    return messages


def test_refusals_name_the_problem_and_keep_the_connection(server):
    unknown, unnamed, bad_task, bad_action, no_task = asyncio.run(_errors(f"{server.url}/openenv"))
    assert "unknown bundle 'atlantis_1'; this server serves: bookstore_1, task_tracker_1" in unknown
    assert "name one of: bookstore_1" in unnamed and "pass bundle_id to reset" in unnamed
    assert "invalid reset: task_idx: Input should be a valid integer" in bad_task and "VALIDATION_ERROR" in bad_task
    assert "invalid action" in bad_action and "'list_tools', 'call_tool', 'verify'" in bad_action
    assert "created without a task" in no_task


async def _production(url: str) -> tuple[str, dict]:
    env = MCPToolClient(base_url=url)
    env.use_production_mode = True  # JSON-RPC over HTTP POST {url}/mcp, sessions created and closed explicitly
    try:
        tools = await env.list_tools()
        assert len(tools) >= 12 and tools[0].input_schema["type"] == "object"
        added = await env.call_tool("add_cart_item", edition_id=2, quantity=2)
        with pytest.raises(RuntimeError, match="Tool 'teleport' failed: no tool named 'teleport'"):
            await env.call_tool("teleport")
        return env._production_session_id, added
    finally:
        await env.close()


def test_mcp_tool_client_production_mode(server):
    session_key, added = asyncio.run(_production(f"{server.url}/openenv/bookstore_1"))
    assert session_key and added["item"]["quantity"] == 2
    closed = server.client.post("/openenv/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                                                      "params": {"session_id": session_key}}).json()
    assert "unknown session_id" in closed["error"]["message"]


def test_stateless_http_api_schema_and_health(server):
    client = server.client
    before = client.get("/health").json()["sessions"]
    reset = client.post("/openenv/bookstore_1/reset", json={"task_idx": 3}).json()
    assert reset["observation"]["task"] == load_demo_bundle("bookstore_1").tasks[3] and reset["done"] is False
    listed = client.post("/openenv/step", json={"action": {"type": "list_tools"}}).json()
    assert listed == {"error": {"type": "bundle_required", "message": listed["error"]["message"]}}
    step = client.post("/openenv/bookstore_1/step", json={"action": {"type": "list_tools"}}).json()
    assert "search_books" in {t["name"] for t in step["observation"]["tools"]}
    assert client.get("/health").json()["sessions"] == before  # each stateless request closed its environment
    schema = client.get("/openenv/schema").json()
    assert {v["properties"]["type"]["const"] for v in schema["action"]["$defs"].values()} == {"list_tools", "call_tool", "verify"}
    assert client.get("/openenv/health").json() == {"status": "healthy"}
    assert client.get("/openenv/bookstore_1/metadata").json()["name"] == "bookstore_1"
    assert client.get("/openenv/atlantis_1/metadata").json()["error"]["type"] == "unknown_bundle"


def test_single_bundle_server_needs_no_bundle_id():
    async def run(url: str) -> float:
        async with GenericEnvClient(base_url=url) as env:
            assert (await env.reset(task_idx=0)).observation["bundle_id"] == "bookstore_1"
            return (await env.step({"type": "verify"})).reward

    for server in run_server(["bookstore_1", "--workers", "1"]):
        assert asyncio.run(run(server.url)) == 0.0
        assert httpx.get(f"{server.url}/openenv/state").json()["step_count"] == 0
