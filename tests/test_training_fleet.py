"""The env-server fleet on a real (local, one-node) Ray cluster: one awm-serve per node, shared by every asker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import ray

from awm_release.agent.env_client import EnvServerError
from awm_release.training.env_fleet import node_server, node_server_url, serve_args


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_one_server_per_node_shared_by_all_askers_and_stopped_with_its_actor(local_ray: None) -> None:
    args = ["bookstore_1", "--workers", "1"]
    first, second = node_server(args), node_server(args)  # the second asker gets the same named actor
    url = ray.get(first.url.remote())
    assert ray.get(second.url.remote()) == url and url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{url}/health").json()["bundles"] == ["bookstore_1"]

    ray.get(first.stop.remote())
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)
    ray.kill(first)


def test_the_agent_loop_asks_for_its_node_server_by_dataset(local_ray: None) -> None:
    assert serve_args("awm/envs", "v1.0.0", workers=4) == ["--dataset", "awm/envs", "--workers", "4", "--revision", "v1.0.0"]
    with pytest.raises(EnvServerError) as failure:  # a release that is not there: one clear line, not a traceback
        asyncio.run(node_server_url("/nonexistent/release", None))
    assert "did not start on this Ray node" in str(failure.value) and "/nonexistent/release: no such folder" in str(failure.value)
    assert "Traceback" not in str(failure.value) and "\n" not in str(failure.value)
