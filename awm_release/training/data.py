"""Training data from the release's `tasks` config: one parquet file per split, one row per task, for verl or TRL.

A verl row is what verl's RLHFDataset and the AWM agent loop read: the chat `prompt` (the agent protocol's system
prompt, then the task; the meta-tools are added by the chat template from the agent loop's tool list),
`agent_name` (which agent loop runs it), `data_source` (how verl groups validation metrics) and `extra_info`
(bundle_id and task_idx for the session, the split, and a per-split `index`).

A TRL row is what `GRPOTrainer(environment_factory=AWMEnvironment...)` reads: the same chat `prompt`, and
`bundle_id` / `task_idx` columns, which TRL hands to the environment's `reset` to open the task's session.

Before training on a Hub release, `prepare_release` downloads the whole release once into a folder every node
sees, so the training servers read it from there and nothing is fetched while training.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from awm_release.agent.protocol import SYSTEM_PROMPT
from awm_release.agent.tasks import TaskRef, TaskSourceError, load_split_tasks
from awm_release.atomic import umask_mode
from awm_release.training import AGENT_NAME

DEFAULT_SPLITS = ("train", "validation")
FORMATS = ("verl", "trl")


def chat_prompt(task: TaskRef) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task.task}]


def verl_rows(tasks: list[TaskRef], split: str, data_source: str) -> list[dict[str, Any]]:
    """The verl rows of one split's tasks, in order."""
    return [{
        "data_source": data_source,
        "agent_name": AGENT_NAME,
        "prompt": chat_prompt(task),
        "extra_info": {"bundle_id": task.bundle_id, "task_idx": task.task_idx, "split": split, "index": index},
    } for index, task in enumerate(tasks)]


def trl_rows(tasks: list[TaskRef]) -> list[dict[str, Any]]:
    """The TRL rows of one split's tasks, in order: the prompt, and the task for the environment's reset."""
    return [{"prompt": chat_prompt(task), "bundle_id": task.bundle_id, "task_idx": task.task_idx} for task in tasks]


def prepare_release(source: str, revision: str | None, release_dir: Path | None, *,
                    trust_remote_code: bool = False) -> tuple[str, str | None]:
    """Where to read the release from: `release_dir` after downloading a Hub `source` into it, else `source`.

    The copy in `release_dir` is what the training servers execute, and a local folder needs no consent there,
    so a Hub release is downloaded for serving only with `trust_remote_code` (the consent `awm-serve` asks for)."""
    from awm_release.release.errors import ReleaseError  # noqa: PLC0415
    from awm_release.release.load import download_release  # noqa: PLC0415

    if release_dir is None:
        return source, revision
    if Path(source).exists():
        if Path(source).resolve() != release_dir.resolve():
            raise TaskSourceError(f"--dataset {source} is already a local release; serve it from there and drop "
                                  f"--release-dir {release_dir}")
        return source, revision
    if not trust_remote_code:
        raise TaskSourceError(f"{source} is a Hub dataset: its bundles hold code written by someone else, which the "
                              f"training servers will execute (inside awm-serve's sandbox) from {release_dir}. Pass "
                              "--trust-remote-code (TRUST_REMOTE_CODE=1 for the recipes) once you trust the repo; "
                              "`awm release unpack` lets you read the code first")
    try:
        download_release(source, revision, release_dir)
    except ReleaseError as exc:
        raise TaskSourceError(str(exc)) from None
    return str(release_dir), None


def write_training_data(source: str | os.PathLike, out: Path, *, revision: str | None = None,
                        splits: tuple[str, ...] = DEFAULT_SPLITS, data_format: str = "verl",
                        release_dir: Path | None = None, trust_remote_code: bool = False) -> dict[str, tuple[Path, int]]:
    """Write `<out>/<split>.parquet` for each split; returns each file and its row count. Files are replaced atomically.

    With `release_dir`, a Hub release is first downloaded there (with `trust_remote_code` only) and the tasks are
    read from that copy.
    """
    import datasets  # noqa: PLC0415 - heavy import, only for this command

    if data_format not in FORMATS:
        raise TaskSourceError(f"--format {data_format}: use one of {', '.join(FORMATS)}")
    data_source = f"awm:{Path(str(source)).name if Path(str(source)).exists() else source}"
    read_from, read_revision = prepare_release(str(source), revision, release_dir, trust_remote_code=trust_remote_code)
    tasks_by_split = {split: load_split_tasks(read_from, split, read_revision) for split in splits}  # all, then write
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, tasks in tasks_by_split.items():
        rows = verl_rows(tasks, split, data_source) if data_format == "verl" else trl_rows(tasks)
        path = out / f"{split}.parquet"
        handle, tmp = tempfile.mkstemp(prefix=f".{split}.", suffix=".parquet", dir=out)
        os.close(handle)
        try:
            datasets.Dataset.from_list(rows).to_parquet(tmp)
            os.chmod(tmp, umask_mode(0o666))  # mkstemp makes 0600
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        written[split] = (path, len(rows))
    return written
