"""The public awm-serve client (awm_release.client), sync and async, against a real awm-serve on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from awm_release.client import AsyncAWMClient, AWMClient, AWMServerError
from awm_release.demo import demo_solutions
from env_server.process import free_port
from tests.conftest import RunningServer, run_server

BUNDLE = "bookstore_1"


@pytest.fixture(scope="module")
def demo_server() -> Iterator[RunningServer]:
    yield from run_server([BUNDLE, "--workers", "1"])


def open_sessions(server: RunningServer) -> int:
    return server.client.get("/health").json()["sessions"]


def solution(task_idx: int) -> dict:
    return next(s for s in demo_solutions(BUNDLE) if s["task_idx"] == task_idx)


def test_a_session_lives_for_its_with_block_and_does_what_the_rest_api_does(demo_server: RunningServer) -> None:
    with AWMClient(demo_server.url) as client:
        assert client.health()["bundles"] == [BUNDLE]
        assert [b["bundle_id"] for b in client.bundles()] == [BUNDLE]
        with client.session(task_idx=5) as env:  # the bundle is optional: the server serves one
            assert (env.bundle_id, env.task_idx) == (BUNDLE, 5) and "Piranesi" in (env.task or "")
            assert open_sessions(demo_server) == 1
            assert {"search_books", "cancel_order"} <= {tool["name"] for tool in env.tools()}
            assert env.database().startswith(b"SQLite format 3")

            missing = env.call("no_such_tool", {})
            assert missing["ok"] is False and missing["error"]["type"] == "unknown_tool"
            untouched = env.verify()
            assert (untouched["result"], untouched["reward"]) == ("others", 0.0)

            for step in solution(5)["steps"]:
                assert env.call(step["tool"], step["arguments"])["ok"] is True
            done = env.verify()
            assert (done["result"], done["reward"]) == ("complete", 1.0)

            env.reset()
            assert env.verify()["result"] == "others"  # the seed database again
        assert env.closed and open_sessions(demo_server) == 0
        assert env.close() is None  # closing twice is harmless


def test_an_exception_in_the_block_still_closes_the_session(demo_server: RunningServer) -> None:
    with AWMClient(demo_server.url) as client, pytest.raises(KeyError):
        with client.session(BUNDLE, 0):
            raise KeyError("the agent failed")
    assert open_sessions(demo_server) == 0


def test_refusals_are_errors_that_name_the_problem(demo_server: RunningServer) -> None:
    with AWMClient(demo_server.url) as client:
        with pytest.raises(AWMServerError) as unknown:
            client.session("no_such_bundle", 0)
        assert unknown.value.kind == "unknown_bundle" and unknown.value.status == 404
        with pytest.raises(AWMServerError) as bad_task:
            client.session(BUNDLE, 99)
        assert bad_task.value.kind == "unknown_task" and "tasks 0-9" in str(bad_task.value)
        env = client.session(BUNDLE, 0)
        env.close()
        env.closed = False  # pretend we did not know: the server no longer has it
        with pytest.raises(AWMServerError) as gone:
            env.tools()
        assert gone.value.kind == "unknown_session"

    with AWMClient(f"http://127.0.0.1:{free_port()}", timeout_s=2) as nowhere, pytest.raises(AWMServerError) as down:
        nowhere.health()
    assert down.value.kind == "unreachable" and "start it with `awm-serve" in str(down.value)


def test_the_async_client_does_the_same_over_asyncio(demo_server: RunningServer) -> None:
    async def episode() -> tuple[dict, dict]:
        async with AsyncAWMClient(demo_server.url) as client:
            assert (await client.bundle(BUNDLE))["tasks"][5].startswith("Cancel my order")
            async with await client.session(BUNDLE, 5) as env:
                assert any(tool["name"] == "cancel_order" for tool in await env.tools())
                results = [await env.call(s["tool"], s["arguments"]) for s in solution(5)["steps"]]
                assert all(r["ok"] for r in results) and (await env.database()).startswith(b"SQLite format 3")
                verdict = await env.verify()
                await env.reset()
                return verdict, await env.verify()

    done, after_reset = asyncio.run(episode())
    assert (done["result"], done["reward"], after_reset["result"]) == ("complete", 1.0, "others")
    assert open_sessions(demo_server) == 0
