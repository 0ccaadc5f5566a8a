"""The run folder: bundles being synthesized, per-item state for resume and accounting, and how the run was made.

    RUN/run.json                       every invocation: command, model, endpoint, prompt version, settings
    RUN/bundles/<bundle_id>.json       the bundles, partial until their last stage is accepted
    RUN/state/<stage>/<item>.json      one file per item: status, every attempt (cause, summary, tokens)
    RUN/provenance/<bundle_id>.json    per bundle: model, prompt version, attempts and tokens per stage
    RUN/report.json                    the last `awm gen report`

Every file is written atomically, so a run killed at any moment resumes from what it had accepted.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from awm_release.atomic import write_atomic
from awm_release.bundle import Bundle, BundleError
from awm_release.bundle_io import read_bundles, write_bundle
from awm_release.synthesis.llm import Usage


class Attempt(BaseModel):
    """One try at one item: what came back, whether it passed, and why not."""

    number: int
    ok: bool
    cause: str = ""
    message: str = ""
    summary: str = ""
    score: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    started: str = ""


class ItemState(BaseModel):
    """Where one item (a bundle's part, a verifier, a seed's scenarios) stands, across runs."""

    stage: str
    item: str
    bundle_id: str | None = None
    status: Literal["accepted", "rejected"]
    attempts: list[Attempt] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    value: Any = None  # the accepted output when it does not live in a bundle (scenario stage)
    best_attempt: int | None = None
    best_output: str | None = None  # the best rejected reply, kept for inspection and hand repair
    model: str = ""
    prompt_version: str = ""
    accounting_only: bool = False  # records the usage of calls that are no item (scenario embeddings)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for attempt in self.attempts:
            total = total.add(attempt.usage)
        return total

    @property
    def final_cause(self) -> str:
        """Why the item is rejected: the cause of its best attempt (empty when accepted)."""
        if self.status == "accepted":
            return ""
        best = next((a for a in self.attempts if a.number == self.best_attempt), None)
        return (best or self.attempts[-1]).cause if self.attempts else "unknown"


class RunFolderError(RuntimeError):
    """A file of the run folder cannot be used; the message names it and says how to recover."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


class RunFolder:
    """Paths and atomic reads/writes of one run folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.bundles_dir = self.root / "bundles"
        self.state_dir = self.root / "state"
        self.provenance_dir = self.root / "provenance"

    # ---- bundles

    def read_bundles(self) -> dict[str, Bundle]:
        if not self.bundles_dir.is_dir():
            return {}
        try:
            return read_bundles([self.bundles_dir])
        except BundleError as exc:
            raise RunFolderError(f"{exc.source}: bundle is invalid ({exc.problems[0]}); fix or delete it, then rerun") from None

    def save_bundle(self, bundle: Bundle) -> Path:
        return write_bundle(bundle, self.bundles_dir)

    # ---- item state

    def item_path(self, stage: str, item: str) -> Path:
        return self.state_dir / stage / f"{_safe(item)}.json"

    def load_item(self, stage: str, item: str) -> ItemState | None:
        path = self.item_path(stage, item)
        if not path.is_file():
            return None
        return self._parse_item(path)

    def save_item(self, state: ItemState) -> None:
        write_json(self.item_path(state.stage, state.item), state.model_dump(mode="json"))

    def items(self, stage: str | None = None) -> list[ItemState]:
        folders = [self.state_dir / stage] if stage else sorted(p for p in self.state_dir.glob("*") if p.is_dir())
        return [self._parse_item(path) for folder in folders for path in sorted(folder.glob("*.json"))]

    def _parse_item(self, path: Path) -> ItemState:
        try:
            return ItemState.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise RunFolderError(f"{path}: state file is damaged ({exc.errors()[0]['msg']}); delete it to redo that item") from None

    # ---- run records

    def record_invocation(self, command: str, settings: dict[str, Any]) -> None:
        """Append this invocation to run.json: a release can always say how (and with what) it was made."""
        record = read_json(self.root / "run.json") or {"created": now_iso(), "invocations": []}
        record["invocations"].append({"command": command, "started": now_iso(), **settings})
        write_json(self.root / "run.json", record)

    def invocations(self) -> list[dict[str, Any]]:
        return (read_json(self.root / "run.json") or {}).get("invocations", [])


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: invalid JSON at line {exc.lineno} ({exc.msg}); restore or delete it") from None
