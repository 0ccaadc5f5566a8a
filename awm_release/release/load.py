"""`load_bundles`: validated bundles from a release folder, a Hub dataset repo, or the embedded demo.

The manifest says which shard and row holds each bundle, so asking for one bundle out of 1,000 reads (and,
from the Hub, downloads) one shard and decodes one small row group. Every bundle is validated like a bundle
file and its sha256 compared with the manifest's, so a damaged or edited download is refused by name.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.progress import track

from awm_release.bundle import Bundle, BundleError, Problem, bundle_from_dict
from awm_release.bundle_io import read_bundles
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import MANIFEST_FILE, BundleEntry, Manifest, file_entry, read_manifest
from awm_release.release.rows import env_row_to_bundle_data
from awm_release.terminal import plain_console

DEMO_SOURCE = "demo"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_progress_console = plain_console(stderr=True)
log = logging.getLogger("awm.release")


def load_bundles(source: str | os.PathLike, revision: str | None = None, bundle_ids: Iterable[str] | None = None,
                 *, progress: bool = True, trust_remote_code: bool = False, strict: bool = False) -> dict[str, Bundle]:
    """Bundles keyed by id from `source`: a folder written by `awm release pack`, a Hub dataset repo id
    ("awm/envs", through the Hugging Face cache, so it works offline once cached), "demo", or bundle files (a
    folder of them, as `awm import-awm1k` writes, or one file; validated, and checked against their own sha256).

    `revision` (a tag like "v1.0.0", a branch or a commit) applies to Hub repos; it is resolved to a commit,
    printed, and every downloaded file is checked against the manifest's sha256. A Hub dataset is someone
    else's code: it loads only with `trust_remote_code=True` (as with Hugging Face `datasets`); the demo and
    local folders need no flag. With `bundle_ids`, only those are read. Raises ReleaseError for an unusable
    source, unknown ids or missing consent. A bundle that fails validation or whose sha256 differs from the
    manifest's raises BundleError when it was named in `bundle_ids` (or with `strict`); when loading them all,
    it is skipped with one warning line (quarantine). A loaded bundle may still have unusable parts:
    `bundle.problems()` lists them.
    """
    wanted = None if bundle_ids is None else list(dict.fromkeys(bundle_ids))
    if isinstance(source, str) and source == DEMO_SOURCE:
        _refuse_revision(revision, "the embedded demo")
        ids = select_ids(demo_bundle_ids(), wanted, "the embedded demo", in_manifest=False)
        return {b: load_demo_bundle(b) for b in ids}
    path = Path(source)
    if path.is_file() or (path.is_dir() and not (path / MANIFEST_FILE).exists()):
        _refuse_revision(revision, f"the bundle files at {path}")
        skipped: list[BundleError] = []  # bundle files, as `awm import-awm1k` or `awm gen` write them
        bundles = read_bundles([path], strict=strict, skipped=None if strict or wanted is not None else skipped)
        for error in skipped:
            log.warning("%s", error.one_line())
        if not bundles:
            raise ReleaseError(f"{path}: not a dataset folder written by `awm release pack` (no {MANIFEST_FILE}), and no "
                               "bundle files (*.json) either: pass one of those, a Hub dataset repo id or 'demo'")
        return {b: bundles[b] for b in select_ids(bundles, wanted, str(path), in_manifest=False)}
    if path.exists():
        _refuse_revision(revision, f"the local folder {path}")
        manifest = read_manifest(path)
        ids = select_ids(manifest.bundles, wanted, str(path))
        return read_release_bundles(path, manifest, ids, str(path), progress, strict=strict, skip_unusable=wanted is None)
    if is_hub_repo_id(source):
        require_consent(source, trust_remote_code)
        return _load_from_hub(source, revision, wanted, progress, strict)
    raise ReleaseError(f"{source}: no such folder, and not a Hub dataset repo id (owner/name, e.g. awm/envs) "
                       f"nor {DEMO_SOURCE!r}")


def is_hub_repo_id(source: object) -> bool:
    """`source` names a Hub repo (owner/name) and no local file or folder: what is downloaded, not read in place."""
    return isinstance(source, str) and REPO_ID.match(source) is not None and not Path(source).exists()


def require_consent(source: str | os.PathLike, trust_remote_code: bool) -> None:
    """Raise ReleaseError when `source` is a Hub dataset and running its code was not agreed to. A command that
    starts anything before loading (awm-serve binds its port) asks first, so this error is the first it reports."""
    if not trust_remote_code and is_hub_repo_id(source):
        raise ReleaseError(f"{source} is a Hub dataset: its bundles hold code written by someone else (environments and "
                           "verifiers), which awm-serve executes (inside its sandbox). Pass --trust-remote-code "
                           "(trust_remote_code=True in Python) once you trust the repo; `awm release unpack` lets you "
                           "read the code first")


def select_ids(available: Iterable[str], wanted: list[str] | None, where: str, *, in_manifest: bool = True) -> list[str]:
    """The ids to load (all when `wanted` is None); unknown ids are named with how many exist and close matches."""
    known = sorted(available)
    if wanted is None:
        return known
    known_set = set(known)
    unknown = [b for b in wanted if b not in known_set]
    if unknown:
        hints = []
        for bundle_id in unknown:
            close = difflib.get_close_matches(bundle_id, known, n=3, cutoff=0.6)
            hints.append(f"{bundle_id!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise ReleaseError(f"{where} has {len(known):,} bundle(s), none named {', '.join(hints)}"
                           + (f"; the ids are the keys of 'bundles' in {MANIFEST_FILE}" if in_manifest else ""))
    return wanted


def read_release_bundles(folder: Path, manifest: Manifest, ids: list[str], where: str, progress: bool = True, *,
                         strict: bool = False, skip_unusable: bool = False) -> dict[str, Bundle]:
    """Read `ids` from the shards the manifest names, validate each (`strict`: every problem is fatal) and check
    its sha256; an unusable bundle raises BundleError, or with `skip_unusable` is left out with a warning line."""
    by_file: dict[str, dict[int, str]] = defaultdict(dict)
    for bundle_id in ids:
        entry = manifest.bundles[bundle_id]
        by_file[entry.file][entry.row] = bundle_id
    rows: dict[str, dict[str, Any]] = {}
    for name, wanted_rows in sorted(by_file.items()):
        expected_rows = sum(1 for e in manifest.bundles.values() if e.file == name)
        for row_index, row in _read_rows(folder / name, set(wanted_rows), expected_rows, where):
            rows[wanted_rows[row_index]] = row
    bundles = {}
    for bundle_id in track(ids, "checking bundles", console=_progress_console, transient=True, disable=not progress or len(ids) < 2):
        try:
            bundles[bundle_id] = _bundle_from_row(rows[bundle_id], bundle_id, manifest.bundles[bundle_id], where, strict)
        except BundleError as exc:
            if strict or not skip_unusable:
                raise
            log.warning("%s", exc.one_line())
    return bundles


def _read_rows(path: Path, wanted: set[int], expected_rows: int, where: str) -> Iterable[tuple[int, dict[str, Any]]]:
    """(row index, row) for the wanted rows, decoding only the row groups that hold them."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - deferred, like the Hub client below: `import awm_release` stays light
    try:
        shard = pq.ParquetFile(path)
    except FileNotFoundError:
        raise ReleaseError(f"{where}: {path.name} is missing; re-download the release or re-pack it") from None
    except OSError as exc:  # pyarrow reports corrupt parquet as ArrowInvalid, an OSError/ValueError subclass
        raise ReleaseError(f"{where}: {path.name} is not readable parquet ({exc}); re-download or re-pack") from None
    if shard.metadata.num_rows != expected_rows:
        raise ReleaseError(f"{where}: {path.name} holds {shard.metadata.num_rows} rows but {MANIFEST_FILE} places "
                           f"{expected_rows} there; the folder was changed after packing: re-download or re-pack it")
    start = 0
    for group in range(shard.metadata.num_row_groups):
        size = shard.metadata.row_group(group).num_rows
        inside = sorted(r for r in wanted if start <= r < start + size)
        if inside:
            table = shard.read_row_group(group)
            for r in inside:
                yield r, table.slice(r - start, 1).to_pylist()[0]
        start += size


def _bundle_from_row(row: dict[str, Any], bundle_id: str, entry: BundleEntry, where: str, strict: bool) -> Bundle:
    source = f"{where}: bundle {bundle_id}"
    if row.get("bundle_id") != bundle_id:
        raise BundleError(source, [Problem("(row)", f"{entry.file} row {entry.row} holds {row.get('bundle_id')!r}, not "
                                           f"{bundle_id!r} as {MANIFEST_FILE} says; re-download or re-pack the release")])
    bundle = bundle_from_dict(env_row_to_bundle_data(row), source, strict=strict)
    if bundle.sha256 != entry.sha256:
        raise BundleError(source, [Problem(
            "sha256", f"content hashes to {bundle.sha256} but {MANIFEST_FILE} records {entry.sha256}: the data was "
                      "changed after packing; download the release again (for a Hub repo: remove it from the Hugging Face "
                      "cache with `hf cache rm dataset/OWNER/NAME` first) or re-pack it with `awm release pack`")])
    return bundle


def hub_manifest(repo_id: str, revision: str | None = None) -> Manifest:
    """The manifest of a release on the Hub, through the Hugging Face cache: only manifest.json is fetched."""
    return read_manifest(_snapshot(repo_id, revision, [MANIFEST_FILE], f"{repo_id}@{revision or 'main'}"))


def _load_from_hub(repo_id: str, revision: str | None, wanted: list[str] | None, progress: bool, strict: bool) -> dict[str, Bundle]:
    where = f"{repo_id}@{revision or 'main'}"
    manifest = hub_manifest(repo_id, revision)
    ids = select_ids(manifest.bundles, wanted, where)
    shards = sorted({manifest.bundles[b].file for b in ids})
    folder = _snapshot(repo_id, revision, [MANIFEST_FILE, *shards], where)
    _progress_console.print(f"{where}: commit {folder.name}", highlight=False)  # the snapshot folder is named by commit
    if read_manifest(folder) != manifest:
        raise ReleaseError(f"{where}: {MANIFEST_FILE} changed between two reads (the revision moved); load again")
    for name in shards:
        expected = manifest.files.get(name)
        if expected is None or file_entry(folder / name) != expected:
            raise ReleaseError(f"{where}: {name} does not match the sha256 {MANIFEST_FILE} records for it: the download "
                               "is damaged or the repo was edited by hand; remove it from the Hugging Face cache "
                               "(`hf cache rm dataset/OWNER/NAME`) and download again, or pin a release tag")
    return read_release_bundles(folder, manifest, ids, where, progress, strict=strict, skip_unusable=wanted is None)


def download_release(repo_id: str, revision: str | None, folder: Path) -> Path:
    """The whole release at `revision`, downloaded into `folder` (files already there and unchanged are kept):
    a release folder every `awm` command and `awm-serve --dataset` read without the Hub."""
    return _snapshot(repo_id, revision, None, f"{repo_id}@{revision or 'main'}", local_dir=folder)


def _snapshot(repo_id: str, revision: str | None, patterns: list[str] | None, where: str, *,
              local_dir: Path | None = None) -> Path:
    """Files of a dataset repo through the Hugging Face cache (offline: the cached snapshot of that revision), or
    into `local_dir`."""
    from huggingface_hub import constants, snapshot_download  # noqa: PLC0415
    from huggingface_hub.errors import (  # noqa: PLC0415
        HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError)

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision, allow_patterns=patterns,
                                      local_dir=local_dir))
    except RevisionNotFoundError:
        raise ReleaseError(f"{where}: the dataset has no revision {revision!r}; releases are tagged vX.Y.Z "
                           "(see the repo's tags on the Hub)") from None
    except RepositoryNotFoundError:
        raise ReleaseError(f"{where}: no such dataset repo on the Hub (if it is private, log in with `hf auth login` "
                           "or set HF_TOKEN)") from None
    except LocalEntryNotFoundError as exc:
        raise ReleaseError(f"{where}: not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and the Hub cannot be "
                           f"reached ({str(exc).splitlines()[0]}); load it once with network access, or copy a "
                           "folder written by `awm release pack` and pass its path") from None
    except HfHubHTTPError as exc:
        raise ReleaseError(f"{where}: the Hub refused the download ({str(exc).splitlines()[0]})") from None


def _refuse_revision(revision: str | None, what: str) -> None:
    if revision is not None:
        raise ReleaseError(f"--revision {revision!r} applies to Hub dataset repos, not to {what}; "
                           "drop it (a local release folder is one version already)")
