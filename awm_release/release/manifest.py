"""The machine-readable manifest (`manifest.json`): what a release holds, where each bundle is, and its hashes.

Loaders trust nothing else: every bundle read back is hashed and compared with the manifest, and `push`
refuses a folder whose files no longer match it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from awm_release.release.errors import ReleaseError

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "awm-release/1"
_VERSION = re.compile(r"^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$")


class BundleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str
    role: str
    file: str  # the envs shard holding the bundle, relative to the release folder
    row: int = Field(ge=0)  # its row in that shard
    tasks: int = Field(ge=0)


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str
    bytes: int = Field(ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = MANIFEST_FORMAT
    version: str
    created_at: str
    split_recipe: dict[str, Any]
    counts: dict[str, Any]
    statistics: list[dict[str, Any]]
    files: dict[str, FileEntry]  # every data shard
    bundles: dict[str, BundleEntry]
    skipped: dict[str, str] = Field(default_factory=dict)  # bundle file left out -> why (quarantine)
    quarantined: dict[str, list[str]] = Field(default_factory=dict)  # packed bundle -> its unusable parts, each with why

    @property
    def content_digest(self) -> str:
        """sha256 over every data shard's name and sha256: changes whenever any row does."""
        listing = "".join(f"{name}\t{entry.sha256}\n" for name, entry in sorted(self.files.items()))
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()

    @property
    def tag(self) -> str:
        """The Hub tag of this version (`v1.0.0`): what `--revision` takes."""
        return f"v{self.version}"

    def to_json(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def normalize_version(version: str) -> str:
    """'1.0.0' or 'v1.0.0' -> '1.0.0'; anything else is refused, because the version becomes a git tag."""
    match = _VERSION.match(version.strip())
    if not match:
        raise ReleaseError(f"version {version!r} is not X.Y.Z (e.g. 1.0.0, or 1.1.0-rc.1): it names the Hub tag v{version}")
    return match.group(1)


def read_manifest(folder: str | os.PathLike) -> Manifest:
    path = Path(folder) / MANIFEST_FILE
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ReleaseError(f"{folder}: no {MANIFEST_FILE}, so this is not a dataset folder written by "
                           "`awm release pack` (bundle files are read with --bundles)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{path}: unreadable ({exc}); re-pack the release or download it again") from None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ReleaseError(f"{path}: not a valid manifest ({'.'.join(map(str, first['loc']))}: {first['msg']}); "
                           "re-pack the release with this version of awm-release") from None
    if manifest.format != MANIFEST_FORMAT:
        raise ReleaseError(f"{path}: format {manifest.format!r}, this awm-release reads {MANIFEST_FORMAT!r}; upgrade awm-release")
    return manifest


def file_entry(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return FileEntry(sha256=digest.hexdigest(), bytes=path.stat().st_size)


def check_files(folder: Path, manifest: Manifest) -> None:
    """Every data shard present and unchanged, and no shard the manifest does not know (the card's globs would load it)."""
    problems = []
    for name, expected in sorted(manifest.files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif (actual := file_entry(path)) != expected:
            problems.append(f"{name}: sha256 {actual.sha256[:12]}..., the manifest records {expected.sha256[:12]}...")
    data = folder / "data"
    extra = sorted(p.relative_to(folder).as_posix() for p in data.rglob("*") if p.is_file()) if data.is_dir() else []
    problems += [f"{name}: not in the manifest" for name in extra if name not in manifest.files]
    if problems:
        raise ReleaseError(f"{folder}: the files do not match {MANIFEST_FILE} ({'; '.join(problems)}); "
                           "the folder was changed after packing: re-pack it with `awm release pack`")
