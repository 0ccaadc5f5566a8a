"""The tasks of an evaluation: one split of the release's `tasks` config, read with the stock `datasets` library."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass


class TaskSourceError(ValueError):
    """The dataset, split or task selection cannot give tasks; the message says how to fix it."""


@dataclass(frozen=True, order=True)
class TaskRef:
    bundle_id: str
    task_idx: int
    task: str

    @property
    def key(self) -> str:
        return f"{self.bundle_id}:{self.task_idx}"


def load_split_tasks(source: str | os.PathLike, split: str, revision: str | None = None, *,
                     verifier: str | None = None, skipped: list[str] | None = None) -> list[TaskRef]:
    """Every task of `split` in a release folder (as `awm release pack` writes) or Hub dataset repo, in order.

    With `verifier` ("code" or "sql"), a task without a usable verifier of that mode (absent, or left out by
    the pack's quarantine) is left out, with one line appended to `skipped` (quarantine, not refusal).
    """
    import datasets  # noqa: PLC0415 - `datasets` takes a second to import: only commands that read a release pay it

    from awm_release.release.hub_access import hub_unreachable, offline_mode, unreachable_dataset_message  # noqa: PLC0415
    from awm_release.release.load import is_hub_repo_id  # noqa: PLC0415

    from_hub = is_hub_repo_id(str(source))
    if from_hub and not offline_mode() and (reason := hub_unreachable()):
        raise TaskSourceError(unreachable_dataset_message(str(source), reason))  # now, not after rounds of retries
    datasets.disable_progress_bars()
    try:
        splits = datasets.load_dataset(str(source), "tasks", revision=revision)
    except (OSError, ValueError) as exc:  # missing folder or repo, no `tasks` config, not cached offline
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        remedy = ("HF_HUB_OFFLINE is set, so only the Hugging Face cache is read: unset it (with network access) or pass "
                  "a folder written by `awm release pack`" if from_hub and offline_mode()
                  else "pass a folder written by `awm release pack`, or a Hub dataset repo id such as awm/envs")
        raise TaskSourceError(f"{source}: cannot read the 'tasks' config ({first_line}); {remedy}") from None
    if split not in splits:
        raise TaskSourceError(f"{source} has no {split!r} split; it has: {', '.join(splits)}")
    tasks = []
    for row in splits[split]:
        ref = TaskRef(row["bundle_id"], int(row["task_idx"]), row["task"])
        if verifier is not None and not (row.get("verifiers") or {}).get(verifier):
            if skipped is not None:
                skipped.append(f"skipped task {ref.key}: it has no usable {verifier}-mode verifier in this release")
            continue
        tasks.append(ref)
    return sorted(tasks)


def select_tasks(tasks: list[TaskRef], only: Iterable[str] = (), limit: int | None = None) -> list[TaskRef]:
    """Tasks named in `only` (BUNDLE_ID for all of a bundle's, BUNDLE_ID:IDX for one), then the first `limit`."""
    wanted = list(only)
    chosen = tasks
    if wanted:
        missing = [w for w in wanted if not any(_matches(t, w) for t in tasks)]
        if missing:
            raise TaskSourceError(f"--task {', '.join(missing)}: not in this split (its bundles: "
                                  f"{', '.join(sorted({t.bundle_id for t in tasks})) or 'none'})")
        chosen = [t for t in tasks if any(_matches(t, w) for w in wanted)]
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        raise TaskSourceError("no tasks to evaluate: the split is empty")
    return chosen


def _matches(task: TaskRef, pattern: str) -> bool:
    return pattern in (task.bundle_id, task.key)
