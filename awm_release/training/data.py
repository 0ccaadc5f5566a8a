"""verl training data from the release's `tasks` config: one parquet file per split, one row per task.

A row is what verl's RLHFDataset and the AWM agent loop read: the chat `prompt` (the agent protocol's system
prompt, then the task; the meta-tools are added by the chat template from the agent loop's tool list),
`agent_name` (which agent loop runs it), `data_source` (how verl groups validation metrics) and `extra_info`
(bundle_id and task_idx for the session, the split, and a per-split `index`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from awm_release.agent.protocol import SYSTEM_PROMPT
from awm_release.agent.tasks import TaskRef, load_split_tasks
from awm_release.atomic import umask_mode
from awm_release.training import AGENT_NAME

DEFAULT_SPLITS = ("train", "validation")


def verl_rows(tasks: list[TaskRef], split: str, data_source: str) -> list[dict[str, Any]]:
    """The verl rows of one split's tasks, in order."""
    return [{
        "data_source": data_source,
        "agent_name": AGENT_NAME,
        "prompt": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task.task}],
        "extra_info": {"bundle_id": task.bundle_id, "task_idx": task.task_idx, "split": split, "index": index},
    } for index, task in enumerate(tasks)]


def write_verl_data(source: str | os.PathLike, out: Path, *, revision: str | None = None,
                    splits: tuple[str, ...] = DEFAULT_SPLITS) -> dict[str, tuple[Path, int]]:
    """Write `<out>/<split>.parquet` for each split; returns each file and its row count. Files are replaced atomically."""
    import datasets  # noqa: PLC0415 - heavy import, only for this command

    data_source = f"awm:{Path(str(source)).name if Path(str(source)).exists() else source}"
    tasks_by_split = {split: load_split_tasks(source, split, revision) for split in splits}  # all read before any write
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, tasks in tasks_by_split.items():
        rows = verl_rows(tasks, split, data_source)
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
