"""`awm agent`: one episode of one task, written as a run folder like awm-serve's (`runs/BUNDLE/task_IDX/SESSION/`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from awm_release.agent.local_server import awm_serve_url
from awm_release.agent.episode import Episode, check_model, connect, run_episode, run_info
from awm_release.agent.model import Endpoint
from awm_release.agent.protocol import ProtocolConfig, SamplingConfig


def run_agent(bundle_id: str, task_idx: int, endpoint: Endpoint, runs_dir: Path, *, server: str | None = None,
              serve_args: list[str] | None = None, protocol: ProtocolConfig = ProtocolConfig(),
              sampling: SamplingConfig = SamplingConfig(), verify_mode: str = "code") -> tuple[Episode, Path]:
    """Run one episode against `server` (or an awm-serve started with `serve_args`) and write its run folder."""

    async def one(url: str) -> Episode:
        async with connect(url, endpoint, sampling) as (env, model):
            return await run_episode(env, model, bundle_id, task_idx, protocol, verify_mode=verify_mode)

    check_model(endpoint, sampling)
    with awm_serve_url(server, serve_args or [bundle_id], workers=1) as url:
        episode = asyncio.run(one(url))
    folder = runs_dir / bundle_id / f"task_{task_idx}" / episode.session_id
    return episode, episode.write_folder(folder, run_info(endpoint, protocol, sampling, verify_mode))
