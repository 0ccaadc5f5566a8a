"""`awm release pack`: bundle files -> a folder that is exactly a Hugging Face dataset repository.

Layout: `data/envs/environments-*.parquet` (config `envs`, one row per bundle), `data/tasks/{split}-*.parquet`
(config `tasks`, one row per task), `manifest.json`, `README.md` (the card). The same inputs and options give
byte-identical files: rows are in bundle-id order, the split is seeded, and the only date is `created_at`,
which comes from the caller or SOURCE_DATE_EPOCH, never from the clock.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import track

from awm_release.atomic import umask_mode, write_atomic
from awm_release.bundle import Bundle
from awm_release.bundle_io import iter_bundle_files
from awm_release.release.card import CARD_FILE, DEFAULT_LICENSE, DEFAULT_REPO_ID, render_card
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import MANIFEST_FILE, BundleEntry, Manifest, file_entry, normalize_version
from awm_release.release.reading import ReadBundle, read_bundle_files
from awm_release.release.rows import bundle_to_env_row, task_rows
from awm_release.release.schema import ENVS_FEATURES, TASKS_FEATURES
from awm_release.release.splits import DEFAULT_SEED, TASK_SPLITS, SplitRecipe, assign_splits
from awm_release.release.stats import compute_statistics
from awm_release.terminal import plain_console

ENVS_CONFIG, TASKS_CONFIG = "envs", "tasks"
ENVS_SPLIT = "environments"
ENVS_DIR, TASKS_DIR = "data/envs", "data/tasks"
ROWS_PER_SHARD = 500  # ~100 MB of demo-size bundles before compression: shards the Hub and its viewer handle well
ROWS_PER_GROUP = 16  # small row groups: serving one bundle out of 1,000 decodes 16 rows, not a whole shard
EPOCH = "1970-01-01T00:00:00Z"
_progress_console = plain_console(stderr=True)


@dataclass(frozen=True)
class PackOptions:
    version: str
    seed: int = DEFAULT_SEED
    created_at: str | None = None  # ISO 8601; default SOURCE_DATE_EPOCH, else the Unix epoch
    repo_id: str = DEFAULT_REPO_ID  # named in the card's usage snippets
    license: str = DEFAULT_LICENSE
    card_template: str | os.PathLike | None = None
    overwrite: bool = False
    progress: bool = True


def pack_release(bundle_paths: Iterable[str | os.PathLike], out: str | os.PathLike, options: PackOptions) -> Manifest:
    """Read and validate the bundles, split them, and write the dataset folder atomically; returns its manifest."""
    version = normalize_version(options.version)
    created_at = resolve_created_at(options.created_at)
    target = Path(out)
    _check_target(target, options.overwrite)
    files = list(iter_bundle_files(bundle_paths))
    if not files:
        raise ReleaseError("no bundle files found: pass bundle files or folders of them (as `awm import-awm1k` writes)")
    read = list(track(read_bundle_files(files), "reading bundles", total=len(files), console=_progress_console,
                      transient=True, disable=not options.progress))
    read.sort(key=lambda r: r.bundle.bundle_id)
    ordered = [r.bundle for r in read]
    recipe = SplitRecipe(seed=options.seed)
    splits = assign_splits(ordered, recipe)
    with _staged_folder(target) as staging:
        env_entries, files_written = _write_envs(staging, read, splits.roles, options.progress)
        task_files = _write_tasks(staging, ordered, splits.task_splits)
        files_written.update(task_files)
        manifest = Manifest(
            version=version,
            created_at=created_at,
            split_recipe=recipe.as_dict(),
            counts={"environments": len(ordered), "environments_by_role": splits.role_counts(),
                    "tasks": splits.task_counts(), "tasks_total": sum(splits.task_counts().values())},
            statistics=compute_statistics(ordered),
            files={name: file_entry(staging / name) for name in sorted(files_written)},
            bundles=env_entries,
        )
        write_atomic(staging / MANIFEST_FILE, manifest.to_json())
        card = render_card(manifest, dataset_configs(task_files), repo_id=options.repo_id, license=options.license,
                           template=options.card_template)
        write_atomic(staging / CARD_FILE, card.encode("utf-8"))
    return manifest


def resolve_created_at(explicit: str | None) -> str:
    """Explicit ISO 8601 date, else SOURCE_DATE_EPOCH (the reproducible-builds convention), else the epoch."""
    if explicit:
        try:
            moment = datetime.fromisoformat(explicit)
        except ValueError:
            raise ReleaseError(f"--created-at {explicit!r} is not an ISO 8601 date (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise ReleaseError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970") from None
    return EPOCH


def dataset_configs(task_files: Iterable[str]) -> list[dict[str, Any]]:
    """The card's `configs`: `envs` (default) and `tasks` with the splits that have rows."""
    configs: list[dict[str, Any]] = [{"config_name": ENVS_CONFIG, "default": True,
                                      "data_files": [{"split": ENVS_SPLIT, "path": f"{ENVS_DIR}/{ENVS_SPLIT}-*.parquet"}]}]
    present = [s for s in TASK_SPLITS if any(Path(f).name.startswith(f"{s}-") for f in task_files)]
    if present:
        configs.append({"config_name": TASKS_CONFIG,
                        "data_files": [{"split": s, "path": f"{TASKS_DIR}/{s}-*.parquet"} for s in present]})
    return configs


def _write_envs(folder: Path, read: list[ReadBundle], roles: dict[str, str], progress: bool) -> tuple[dict[str, BundleEntry], set[str]]:
    rows = [bundle_to_env_row(r.bundle, r.sha256, roles[r.bundle.bundle_id])
            for r in track(read, "packing environments", console=_progress_console, transient=True, disable=not progress)]
    shards = [(start, min(start + ROWS_PER_SHARD, len(rows))) for start in range(0, len(rows), ROWS_PER_SHARD)]
    entries: dict[str, BundleEntry] = {}
    written: set[str] = set()
    for index, (start, stop) in enumerate(shards):
        name = f"{ENVS_DIR}/{ENVS_SPLIT}-{index:05d}-of-{len(shards):05d}.parquet"
        _write_parquet(folder / name, rows[start:stop], ENVS_FEATURES.arrow_schema, ["bundle_id", "split_role"])
        written.add(name)
        for offset, row in enumerate(rows[start:stop]):
            entries[row["bundle_id"]] = BundleEntry(sha256=row["sha256"], role=row["split_role"], file=name, row=offset,
                                                    tasks=len(row["tasks"]))
    return entries, written


def _write_tasks(folder: Path, bundles: list[Bundle], task_splits: dict[str, list[str]]) -> set[str]:
    by_split: dict[str, list[dict[str, Any]]] = {s: [] for s in TASK_SPLITS}
    for bundle in bundles:
        if bundle.bundle_id in task_splits:
            for row in task_rows(bundle, task_splits[bundle.bundle_id]):
                by_split[row["split"]].append(row)
    written = set()
    for split, rows in by_split.items():
        if rows:  # an empty split is left out of the card rather than shipped as an empty file
            name = f"{TASKS_DIR}/{split}-00000-of-00001.parquet"
            _write_parquet(folder / name, rows, TASKS_FEATURES.arrow_schema, ["bundle_id", "split"])
            written.add(name)
    return written


def _write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema, stats_columns: list[str]) -> None:
    """Typed parquet whose schema metadata carries the `datasets` Features; deterministic bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, compression="zstd", row_group_size=ROWS_PER_GROUP, write_statistics=stats_columns)


def _check_target(target: Path, overwrite: bool) -> None:
    """Only a new folder, an empty one, or (with overwrite) an earlier release is written: nothing else is lost."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ReleaseError(f"--out {target} is a file; give a folder for the dataset")
    if not any(target.iterdir()):
        return
    if not (target / MANIFEST_FILE).is_file():
        raise ReleaseError(f"--out {target} holds other files and is not a release folder; choose a new or empty folder")
    if not overwrite:
        raise ReleaseError(f"--out {target} already holds a release; pass --overwrite to replace it")


@contextmanager
def _staged_folder(target: Path) -> Iterator[Path]:
    """Write into a sibling temporary folder, then swap it in: an interrupted pack leaves the old folder intact."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, umask_mode(0o777))  # mkdtemp makes 0700; a dataset folder is meant to be shared
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / "release")
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
