"""The env-server fleet: one `awm-serve` per Ray node, started on demand on the cluster verl already runs.

The first rollout on a node asks for the node's server: a named Ray actor (`awm-serve-<node id>`, created with
`get_if_exists`, so concurrent askers share one) pinned to the node starts `awm-serve` as a subprocess on
loopback and reports its URL. Every later rollout on the node gets the same URL, so tool calls never leave the
node. The actor is owned by the worker that created it and goes away with the Ray job, stopping its server.

Each server reads the release from `awm.release_dir`, the local copy `awm train data` made before training on a
file system every node sees, so no node downloads anything while training; it runs `awm.server_workers` worker
processes (tool calls take milliseconds: a few workers serve a node's rollouts, and a GPU node's cores are
needed elsewhere), and, for sql-mode rewards, talks to the judge at `awm.judge_base_url`.
"""

from __future__ import annotations

import atexit
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from awm_release.agent.local_server import start_failure_reason
from awm_release.client import AWMServerError
from awm_release.training.settings import AWMSettings
from env_server.process import ServerProcess

FLEET_NAMESPACE = "awm"
STARTUP_TIMEOUT_S = 1800.0  # a node's first server downloads and hydrates the release


@ray.remote(num_cpus=0)
class NodeEnvServer:
    """Owns one node's `awm-serve` process for the lifetime of the Ray job."""

    def __init__(self, args: list[str]):
        self._server = ServerProcess(args, startup_timeout_s=STARTUP_TIMEOUT_S, log_level="warning").start()
        atexit.register(self._server.stop)  # the actor's process exits with the Ray job: its server goes too

    def url(self) -> str:
        return self._server.url

    def stop(self) -> None:
        self._server.stop()


def node_server(args: list[str], node_id: str | None = None) -> Any:
    """The actor handle of `node_id`'s server (this node's by default), created if it does not exist yet."""
    node_id = node_id or ray.get_runtime_context().get_node_id()
    return NodeEnvServer.options(
        name=f"awm-serve-{node_id}", namespace=FLEET_NAMESPACE, get_if_exists=True,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
    ).remote(args)


async def node_server_url(settings: AWMSettings) -> str:
    """The URL of this node's `awm-serve`, starting it on first use; AWMServerError says why it could not start."""
    try:
        return await node_server(settings.serve_args()).url.remote()
    except ray.exceptions.RayActorError as exc:
        raise AWMServerError("server_start_failed", f"awm-serve did not start on this Ray node "
                             f"({ray.get_runtime_context().get_node_id()[:12]}): {start_failure_reason(str(exc))}") from None
