"""Reading many bundle files on every core.

Validation parses every code field of every bundle (about 30 ms for a demo-size bundle), and what callers
measure on each (the release statistics, the import's inspection) builds its seed database; together they
dominate packing or importing 1,000 bundles, and they parallelize perfectly. Workers are spawned, not forked, so a caller's threads
(a progress bar, a server) are never copied into them, and they import only the bundle modules.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awm_release.bundle import Bundle, BundleError, Problem
from awm_release.bundle_io import read_bundle_with_problems

PARALLEL_MIN_FILES = 64  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class ReadBundle:
    path: Path
    bundle: Bundle
    sha256: str
    problems: tuple[Problem, ...] = ()  # what is unusable in it (quarantined parts); empty for a clean bundle
    measured: Any = None  # what `measure` found (e.g. release.stats.bundle_figures), computed in the worker


def read_bundle_files(files: list[Path], *, strict: bool = False, skipped: list[BundleError] | None = None,
                      measure: Callable[[Bundle, list[Problem]], Any] | None = None) -> Iterator[ReadBundle]:
    """Read and validate `files` in order. An unusable file (or a repeated id) raises its BundleError, or, when
    `skipped` is a list, is left out with its error put there; `strict` makes every problem unusable.

    `measure(bundle, problems)` (a module-level function: it travels to the workers by name) runs where the
    bundle is read, in parallel, and its result is `ReadBundle.measured`.
    """
    workers = min(len(os.sched_getaffinity(0)), max(1, len(files) // 16))
    if len(files) < PARALLEL_MIN_FILES or workers == 1:
        yield from _checked((_read(f, strict, measure) for f in files), files, skipped)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        many = len(files)
        yield from _checked(pool.map(_read, files, [strict] * many, [measure] * many, chunksize=8), files, skipped)


def _read(path: Path, strict: bool, measure: Callable[[Bundle, list[Problem]], Any] | None) -> ReadBundle | tuple[str, list[Problem]]:
    """One file; a BundleError travels back as its parts (its constructor does not survive pickling)."""
    try:
        bundle, problems = read_bundle_with_problems(path, strict=strict)
    except BundleError as exc:
        return exc.source, exc.problems
    return ReadBundle(path, bundle, bundle.sha256, tuple(problems), measure(bundle, problems) if measure else None)


def _checked(results: Iterator[ReadBundle | tuple[str, list[Problem]]], files: list[Path],
             skipped: list[BundleError] | None) -> Iterator[ReadBundle]:
    origin: dict[str, Path] = {}
    for path, result in zip(files, results):
        if isinstance(result, ReadBundle) and result.bundle.bundle_id in origin:
            result = (str(path), [Problem("bundle_id", f"{result.bundle.bundle_id!r} is also defined by {origin[result.bundle.bundle_id]}")])
        if isinstance(result, tuple):
            if skipped is None:
                raise BundleError(*result)
            skipped.append(BundleError(*result))
            continue
        origin[result.bundle.bundle_id] = path
        yield result
