"""An evaluation's folder: its settings, one results line per finished episode, and what resuming needs.

    OUT/config.json      what was evaluated and how (a resumed run must match it)
    OUT/results.jsonl    one JSON line per finished episode, appended and fsynced as each one ends
    OUT/episodes/BUNDLE/task_IDX/sample_J/   the episode's run folder (trajectory, databases, verification)
    OUT/summary.json, OUT/summary.png        rewritten atomically after every run

results.jsonl is the record: an episode counts as done when its line is there. A crash can only leave a
torn last line (dropped, and the episode runs again) or a run folder without a line (replaced when the
episode runs again).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from awm_release.atomic import write_atomic

CONFIG_FILE, RESULTS_FILE, SUMMARY_FILE, PLOT_FILE, EPISODES_DIR = (
    "config.json", "results.jsonl", "summary.json", "summary.png", "episodes")
# Settings that may change between a run and its resumption without changing what is measured.
RESUMABLE_CHANGES = ("base_url", "server", "concurrency", "request_timeout_s", "max_retries", "save_episodes")


class RunFolderError(ValueError):
    """The output folder holds something this run must not mix with or overwrite."""


def episode_key(record: dict[str, Any]) -> tuple[str, int, int]:
    return record["bundle_id"], int(record["task_idx"]), int(record["sample"])


def episode_folder(out: Path, bundle_id: str, task_idx: int, sample: int) -> Path:
    return out / EPISODES_DIR / bundle_id / f"task_{task_idx}" / f"sample_{sample}"


def finished_episodes(out: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The episodes a run in `out` has finished ([] for a new or empty folder); refuses a run with other settings."""
    config_path = out / CONFIG_FILE
    if config_path.exists():
        previous = json.loads(config_path.read_text(encoding="utf-8"))
        changed = [k for k in sorted(set(previous) | set(config))
                   if k not in RESUMABLE_CHANGES and previous.get(k) != config.get(k)]
        if changed:
            detail = "; ".join(f"{k}: {previous.get(k)!r} then, {config.get(k)!r} now" for k in changed[:4])
            raise RunFolderError(f"{out} holds a run with other settings ({detail}); resume it with the same options "
                                 "or choose a new --out")
        return read_results(out)
    if out.exists() and any(out.iterdir()):
        raise RunFolderError(f"{out} is not empty and holds no evaluation ({CONFIG_FILE} is missing); choose a new --out")
    return []


def write_config(out: Path, config: dict[str, Any]) -> None:
    write_atomic(out / CONFIG_FILE, json.dumps(config, indent=1, sort_keys=True).encode("utf-8"))


def read_results(out: Path) -> list[dict[str, Any]]:
    """Finished episodes of a run folder, first line per episode; a torn last line (a crash mid-write) is dropped."""
    path = out / RESULTS_FILE
    if not path.exists():
        if not (out / CONFIG_FILE).exists():
            raise RunFolderError(f"{out} is not an evaluation folder (no {CONFIG_FILE}); pass the --out of `awm eval`")
        return []
    records: dict[tuple[str, int, int], dict[str, Any]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key = episode_key(record)
        except (ValueError, KeyError, TypeError):
            if number == len(lines):
                break  # torn by a crash while it was written: that episode simply runs again
            raise RunFolderError(f"{path}:{number} is not a results line; the file was edited by hand") from None
        records.setdefault(key, record)
    return list(records.values())


def read_config(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{out} is not an evaluation folder (no {CONFIG_FILE}); pass the --out of `awm eval`") from None


class ResultsWriter:
    """Appends one line per finished episode and makes it durable before the next one is counted."""

    def __init__(self, out: Path):
        path = out / RESULTS_FILE
        if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            _drop_torn_tail(path)
        self._handle = path.open("a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


def clear_orphan_folder(folder: Path) -> None:
    """Remove the run folder of an episode that has no results line (it ran when the run was interrupted)."""
    if folder.exists():
        shutil.rmtree(folder)


def _drop_torn_tail(path: Path) -> None:
    data = path.read_bytes()
    write_atomic(path, data[: data.rfind(b"\n") + 1])
