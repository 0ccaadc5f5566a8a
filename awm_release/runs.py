"""Run folders: one episode's trajectory, initial and final databases and verification, written atomically.

Layout (one folder per episode):

    <run>/trajectory.json    session, task, every tool call (arguments, result or error, latency)
    <run>/initial.db         the seed database the episode started from
    <run>/final.db           the database as the episode left it
    <run>/verification.json  verifications run during the episode (absent if none)

The folder is built beside its destination and renamed into place, so a reader never sees half a run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from awm_release.atomic import umask_mode


def write_run_folder(destination: str | os.PathLike, trajectory: dict[str, Any], initial_db: bytes, final_db: bytes,
                     verifications: list[dict[str, Any]] | None = None) -> Path:
    """Write one episode to `destination` (which must not exist yet) atomically."""
    target = Path(destination)
    if target.exists():
        raise FileExistsError(f"{target} already exists; a run folder is never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (staging / "trajectory.json").write_text(json.dumps(trajectory, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        (staging / "initial.db").write_bytes(initial_db)
        (staging / "final.db").write_bytes(final_db)
        if verifications:
            (staging / "verification.json").write_text(json.dumps(verifications, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        os.chmod(staging, umask_mode(0o777))  # mkdtemp makes 0700; run folders are read by viewers and tools
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_run_folder(path: str | os.PathLike) -> dict[str, Any]:
    """The trajectory and verifications of a run folder, with the paths of its two databases."""
    root = Path(path)
    verification = root / "verification.json"
    return {
        "trajectory": json.loads((root / "trajectory.json").read_text(encoding="utf-8")),
        "verifications": json.loads(verification.read_text(encoding="utf-8")) if verification.exists() else [],
        "initial_db": str(root / "initial.db"),
        "final_db": str(root / "final.db"),
    }
