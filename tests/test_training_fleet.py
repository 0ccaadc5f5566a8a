"""The Ray side of the verl recipe on a real (local, one-node) Ray cluster started as the launcher has verl start it:
one awm-serve per node shared by every asker, and the AWM trainer installed in every worker by the setup hook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import ray

from awm_release.client import AWMServerError
from awm_release.training.env_fleet import node_server, node_server_url
from awm_release.training.settings import AWMSettings
from tests.test_verl_config import compose_trainer, dry_run


HOOK = "awm_release.training.verl_setup.install"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"worker_process_setup_hook": HOOK})  # what the launcher's ray_kwargs override passes
    yield
    ray.shutdown()


@ray.remote(num_cpus=0)
def sync_trainer_name() -> str:
    from verl.trainer.ppo.v1 import get_trainer_cls  # noqa: PLC0415 - as TaskRunnerV1 looks it up, in a worker

    return get_trainer_cls("sync").__name__


def test_every_ray_worker_of_the_job_trains_with_the_awm_trainer(local_ray: None) -> None:
    assert ray.get(sync_trainer_name.remote()) == "AWMSyncTrainer"
    overrides = dry_run("8b")
    assert f"+ray_kwargs.ray_init.runtime_env.worker_process_setup_hook={HOOK}" in overrides
    assert compose_trainer(overrides).trainer.v1.trainer_mode == "sync"  # verl's own sync path, checks and all


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


def test_a_node_server_that_cannot_start_is_one_line(local_ray: None) -> None:
    with pytest.raises(AWMServerError) as failure:  # a release that is not there: one clear line, not a traceback
        asyncio.run(node_server_url(AWMSettings(release_dir="/nonexistent/release", server_workers=1)))
    assert "did not start on this Ray node" in str(failure.value) and "/nonexistent/release: no such folder" in str(failure.value)
    assert "Traceback" not in str(failure.value) and "\n" not in str(failure.value)
