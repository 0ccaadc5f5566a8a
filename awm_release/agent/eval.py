"""`awm eval`: k episodes per task of a dataset split, verified, recorded, summarized; resumable.

Episodes run concurrently (at most `concurrency` at once) against one awm-serve: the one given, or one
started for the run's bundles from the same dataset. Every finished episode is appended to results.jsonl
before it counts, so an interrupted run (Ctrl-C, a crash, an endpoint that went away) resumes where it
stopped when the same command is run again. Failures no episode can get past (the model endpoint is
unreachable or answers garbage, awm-serve refuses the setup) stop the run with one line saying what to fix.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from awm_release.agent.episode import check_model, connect, run_episode, run_info
from awm_release.agent.local_server import awm_serve_url
from awm_release.agent.model import Endpoint, ModelEndpointError
from awm_release.agent.outcomes import SUCCESS
from awm_release.agent.plot import plot_runs
from awm_release.agent.protocol import ProtocolConfig, SamplingConfig
from awm_release.agent.results import (
    PLOT_FILE, SUMMARY_FILE, ResultsWriter, clear_orphan_folder, episode_folder, episode_key, finished_episodes,
    read_config, read_results, write_config)
from awm_release.agent.summary import summarize
from awm_release.agent.tasks import TaskRef
from awm_release.atomic import write_atomic
from awm_release.client import AWMServerError

EVAL_FORMAT = "awm-eval-v1"


class EvalError(RuntimeError):
    """The run stopped; the message says why and what to do (finished episodes are kept for resuming)."""


@dataclass(frozen=True)
class EvalSettings:
    dataset: str
    split: str
    endpoint: Endpoint
    out: Path
    revision: str | None = None
    k: int = 4
    concurrency: int = 8
    protocol: ProtocolConfig = ProtocolConfig()
    sampling: SamplingConfig = SamplingConfig()
    verify_mode: str = "code"
    server: str | None = None  # an awm-serve URL; None starts one for the run
    judge_base_url: str | None = None  # for the server started for the run (sql mode)
    judge_model: str | None = None
    save_episodes: bool = True
    trust_remote_code: bool = False  # consent for the awm-serve started here to run a Hub dataset's code (not part of config.json)

    def config(self, tasks: list[TaskRef]) -> dict[str, Any]:
        """config.json: what this run measures (a resumed run must match it) and how it reached the model."""
        return {
            "format": EVAL_FORMAT, "dataset": self.dataset, "revision": self.revision, "split": self.split,
            "tasks": [t.key for t in tasks], "k": self.k, "model": self.endpoint.model,
            "protocol": self.protocol.to_json(), "sampling": self.sampling.to_json(), "verify_mode": self.verify_mode,
            "judge_model": self.judge_model, "base_url": self.endpoint.base_url, "server": self.server,
            "concurrency": self.concurrency, "request_timeout_s": self.endpoint.timeout_s,
            "max_retries": self.endpoint.max_retries, "save_episodes": self.save_episodes,
        }

    def serve_args(self, tasks: list[TaskRef]) -> list[str]:
        """awm-serve arguments for a server of exactly these tasks' bundles, from the same dataset."""
        args = [*sorted({t.bundle_id for t in tasks}), "--dataset", self.dataset]
        if self.revision:
            args += ["--revision", self.revision]
        if self.trust_remote_code:
            args.append("--trust-remote-code")
        if self.judge_base_url and self.judge_model:
            args += ["--judge-base-url", self.judge_base_url, "--judge-model", self.judge_model]
        return args


def run_eval(settings: EvalSettings, tasks: list[TaskRef], console: Console | None = None) -> dict[str, Any]:
    """Run what is missing of the evaluation in `settings.out`, then write and return its summary.

    Nothing is written when the folder holds another run or the model endpoint is unusable; once episodes
    have started, a failure still leaves every finished episode and a summary of them.
    """
    config = settings.config(tasks)
    done = {episode_key(r) for r in finished_episodes(settings.out, config)}
    pending = [(task, sample) for task in tasks for sample in range(settings.k)
               if (task.bundle_id, task.task_idx, sample) not in done]
    if pending:
        check_model(settings.endpoint, settings.sampling)
        write_config(settings.out, config)
        if console is not None:
            console.print(f"{len(tasks)} task(s) x {settings.k} episode(s) of {settings.dataset} ({settings.split}): "
                          f"{len(pending)} to run, {len(done)} done -> {settings.out}", highlight=False)
        try:
            with awm_serve_url(settings.server, settings.serve_args(tasks), workers=min(os.cpu_count() or 1, settings.concurrency)) as url:
                asyncio.run(_run_pending(settings, url, pending, console))
        except (ModelEndpointError, AWMServerError, KeyboardInterrupt) as exc:
            summary = write_summary(settings.out, config)
            reason = str(exc) if not isinstance(exc, KeyboardInterrupt) else "interrupted"
            raise EvalError(f"{reason}; {summary['episodes']} of {summary['episodes_expected']} episodes are saved in "
                            f"{settings.out}: run the same command again to resume") from None
    return write_summary(settings.out, config)


def load_summary(out: Path) -> dict[str, Any]:
    """The summary of a run folder, computed from its results (an interrupted run's too)."""
    return summarize(read_results(out), read_config(out))


def write_summary(out: Path, config: dict[str, Any]) -> dict[str, Any]:
    """summary.json and summary.png of the run folder, from its results; returns the summary."""
    summary = summarize(read_results(out), config)
    write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=1).encode("utf-8"))
    plot_runs([(config["model"], summary)], out / PLOT_FILE)
    return summary


async def _run_pending(settings: EvalSettings, url: str, pending: list[tuple[TaskRef, int]], console: Console | None) -> None:
    info = run_info(settings.endpoint, settings.protocol, settings.sampling, settings.verify_mode)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=console, disable=console is None)
    async with connect(url, settings.endpoint, settings.sampling) as (env, model):
        writer = ResultsWriter(settings.out)
        limit = asyncio.Semaphore(settings.concurrency)
        completed = 0

        async def one(task: TaskRef, sample: int) -> None:
            nonlocal completed
            async with limit:
                episode = await run_episode(env, model, task.bundle_id, task.task_idx, settings.protocol,
                                            verify_mode=settings.verify_mode, sample=sample, expected_task=task.task)
            record = episode.record()
            if settings.save_episodes:
                folder = episode_folder(settings.out, task.bundle_id, task.task_idx, sample)
                clear_orphan_folder(folder)
                episode.write_folder(folder, info)
                record["episode_dir"] = str(folder.relative_to(settings.out))
            writer.append(record)
            completed += record["outcome"] == SUCCESS
            progress.update(bar, advance=1, description=f"episodes ({settings.endpoint.model}, {completed} complete)")

        try:
            with progress:
                bar = progress.add_task(f"episodes ({settings.endpoint.model})", total=len(pending))
                async with asyncio.TaskGroup() as group:
                    for task, sample in pending:
                        group.create_task(one(task, sample))
        except* (ModelEndpointError, AWMServerError) as failures:
            raise failures.exceptions[0] from None
        finally:
            writer.close()
