"""Finding and reading what `awm eval`, `awm agent` and `awm-serve --runs-dir` wrote, for the viewer.

A folder under a run root is one of three things:
- an evaluation (`awm eval --out`): config.json + results.jsonl, episodes under episodes/;
- an episode's run folder: trajectory.json, initial.db, final.db, verification.json;
- any other folder (a runs directory, a folder of evaluations): what it holds is found by walking it,
  stopping at evaluations and run folders.

Paths come from URLs, so every one is resolved and must stay inside its root; symbolic links are not
followed while walking. Run folders never change once written, so their headers are cached by path and
mtime; an evaluation is re-read when its results.jsonl grows (a run still in progress).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awm_release.agent.results import CONFIG_FILE, PLOT_FILE, RESULTS_FILE, read_config, read_results
from awm_release.agent.summary import summarize

TRAJECTORY_FILE, VERIFICATION_FILE, INITIAL_DB, FINAL_DB = "trajectory.json", "verification.json", "initial.db", "final.db"
MAX_DEPTH = 6  # how deep a folder is walked for run folders (runs dir: BUNDLE/task_IDX/SESSION)
HEADERS_KEPT = 4096


class NotFound(LookupError):
    """A path that is not (or no longer) a readable run folder inside the root."""


@dataclass(frozen=True)
class RunRoot:
    path: Path  # resolved
    label: str  # as the user gave it


def run_root(path: str | os.PathLike) -> RunRoot:
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir():
        raise NotFound(f"{path} is not a folder: pass folders written by `awm eval --out`, `awm agent --out` or "
                       "`awm-serve --runs-dir`, or one episode's run folder")
    return RunRoot(resolved, str(path))


def locate(root: RunRoot, rel: str) -> Path:
    target = (root.path / rel).resolve()
    if not target.is_relative_to(root.path) or not target.is_dir():
        raise NotFound(f"{rel or '.'} is not a folder inside {root.label}")
    return target


def kind(folder: Path) -> str:
    """'eval', 'episode' or 'folder'."""
    if (folder / CONFIG_FILE).is_file() and ((folder / RESULTS_FILE).is_file() or (folder / "episodes").is_dir()):
        return "eval"
    if (folder / TRAJECTORY_FILE).is_file():
        return "episode"
    return "folder"


def scan(folder: Path) -> tuple[list[Path], list[Path]]:
    """(evaluations, run folders) beneath `folder`, each sorted; hidden entries (staging folders) are skipped."""
    evals: list[Path] = []
    episodes: list[Path] = []

    def walk(path: Path, depth: int) -> None:
        try:
            entries = sorted((e for e in os.scandir(path) if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)),
                             key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            child = Path(entry.path)
            found = kind(child)
            if found == "eval":
                evals.append(child)
            elif found == "episode":
                episodes.append(child)
            elif depth < MAX_DEPTH:
                walk(child, depth + 1)

    walk(folder, 1)
    return evals, episodes


# ------------------------------------------------------------------ episodes

def read_episode(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(trajectory, verifications) of a run folder; NotFound names the file that is damaged."""
    trajectory = _read_json(folder / TRAJECTORY_FILE)
    if not isinstance(trajectory, dict):
        raise NotFound(f"{folder / TRAJECTORY_FILE} is not a trajectory (a JSON object was expected)")
    verifications = _read_json(folder / VERIFICATION_FILE) if (folder / VERIFICATION_FILE).is_file() else []
    return trajectory, verifications if isinstance(verifications, list) else []


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise NotFound(f"{path} cannot be read ({exc}); the run folder is damaged") from None


def episode_header(folder: Path) -> dict[str, Any]:
    """What a listing shows of a run folder: bundle, task, calls, verdict, outcome."""
    try:
        return _header(str(folder), (folder / TRAJECTORY_FILE).stat().st_mtime_ns)
    except OSError:
        return {"error": f"{TRAJECTORY_FILE} is gone"}


@functools.lru_cache(maxsize=HEADERS_KEPT)
def _header(folder: str, _mtime_ns: int) -> dict[str, Any]:
    try:
        trajectory, verifications = read_episode(Path(folder))
    except NotFound as exc:
        return {"error": str(exc)}
    calls = trajectory.get("calls")
    last = verifications[-1] if verifications and isinstance(verifications[-1], dict) else {}
    header = {k: trajectory.get(k) for k in ("bundle_id", "task_idx", "sample", "task", "outcome", "reward", "model")}
    header.update(calls=len(calls) if isinstance(calls, list) else None, verdict=trajectory.get("verdict") or last.get("result"))
    if header["reward"] is None:
        header["reward"] = last.get("reward")
    return header


# ------------------------------------------------------------------ evaluations

@dataclass(frozen=True)
class Evaluation:
    config: dict[str, Any]
    records: list[dict[str, Any]]  # in bundle, task, sample order
    summary: dict[str, Any]
    has_plot: bool


def read_evaluation(folder: Path) -> Evaluation:
    """Config, results and a summary computed from them (as `awm eval summary` does), cached until results grow."""
    try:
        stat = (folder / RESULTS_FILE).stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        version = (0, 0)
    return _evaluation(str(folder), version)


@functools.lru_cache(maxsize=16)
def _evaluation(folder: str, _version: tuple[int, int]) -> Evaluation:
    path = Path(folder)
    try:
        config = read_config(path)
        records = sorted(read_results(path), key=lambda r: (r["bundle_id"], int(r["task_idx"]), int(r["sample"])))
        summary = summarize(records, config)
    except (ValueError, KeyError, TypeError) as exc:
        raise NotFound(f"{folder} is an evaluation that cannot be read: {exc}") from None
    return Evaluation(config, records, summary, (path / PLOT_FILE).is_file())


def filter_records(records: list[dict[str, Any]], outcome: str | None, bundle: str | None) -> list[dict[str, Any]]:
    return [r for r in records if (not outcome or r.get("outcome") == outcome) and (not bundle or r.get("bundle_id") == bundle)]
