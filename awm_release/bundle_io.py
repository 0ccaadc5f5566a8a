"""Bundles on disk: one pretty-printed JSON file per bundle, carrying its sha256 for integrity checks."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from awm_release.atomic import write_atomic
from awm_release.bundle import Bundle, BundleError, Problem, bundle_from_dict

BUNDLE_SUFFIX = ".json"


def bundle_to_json(bundle: Bundle) -> bytes:
    """The on-disk form: the stored hash first, then one field per line.

    Each field is encoded compactly by json's C encoder (indenting forces its pure-Python encoder, ~20x
    slower on bundles with 1 MB of code); one line per field keeps diffs of a bundle readable.
    """
    payload = {"sha256": bundle.sha256, **bundle.model_dump(mode="json")}
    fields = ",\n".join(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in payload.items())
    return ("{\n" + fields + "\n}\n").encode("utf-8")


def write_bundle(bundle: Bundle, destination: str | os.PathLike) -> Path:
    """Write atomically to `destination` (a file, or a folder that gets `<bundle_id>.json`)."""
    target = Path(destination)
    if target.is_dir() or not target.suffix:
        target = target / f"{bundle.bundle_id}{BUNDLE_SUFFIX}"
    write_atomic(target, bundle_to_json(bundle))
    return target


def read_bundle(path: str | os.PathLike) -> Bundle:
    """Read and validate one bundle file; a stored sha256 that does not match the content is refused."""
    source = str(path)
    data = read_bundle_json(path)
    stored_hash = data.pop("sha256", None)
    bundle = bundle_from_dict(data, source)
    if stored_hash is not None and stored_hash != bundle.sha256:
        raise BundleError(source, [Problem(
            "sha256",
            f"content hashes to {bundle.sha256} but the file records {stored_hash}: the file was changed after it "
            "was written; if the edit is intended, re-save it with `awm bundle rehash FILE`",
        )])
    return bundle


def read_bundle_json(path: str | os.PathLike) -> dict:
    """A bundle file's JSON object, or a BundleError naming the file, the place and what to do."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BundleError(source, [Problem("(file)", "no such file")]) from None
    except OSError as exc:
        raise BundleError(source, [Problem("(file)", f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(source, [_json_problem(exc)]) from None
    except UnicodeDecodeError as exc:
        raise BundleError(source, [Problem(f"byte {exc.start}", "not UTF-8 text: this is not a bundle file, or it is "
                                           "damaged; restore it from where it came from")]) from None
    if not isinstance(data, dict):
        raise BundleError(source, [Problem("(root)", "a bundle file holds one JSON object")])
    return data


def _json_problem(exc: json.JSONDecodeError) -> Problem:
    """Where the JSON breaks (line, column and, in our one-field-per-line layout, the field) and what to do."""
    lines = exc.doc.splitlines()
    line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
    field = re.match(r'\s*"([^"]+)":', line)
    where = f"line {exc.lineno} column {exc.colno}" + (f" (field {field.group(1)})" if field else "")
    restore = "restore it from its source (run `awm import-awm1k` or `awm demo --out` again, or copy it again)"
    if not exc.doc.strip():
        return Problem("(file)", f"the file is empty; {restore}")
    if exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip()):
        ends = "inside the string that starts here" if exc.msg.startswith("Unterminated string") else "before its JSON is complete"
        return Problem(where, f"the file ends {ends} ({len(exc.doc.encode()):,} bytes): it was cut short, e.g. by an "
                              f"interrupted copy or download; {restore}")
    return Problem(where, f"invalid JSON: {exc.msg}; fix it there (then `awm bundle rehash FILE`) or {restore}")


def iter_bundle_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Expand bundle files and folders of them (as `awm import-awm1k` writes) in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.glob(f"*{BUNDLE_SUFFIX}") if not p.name.startswith("."))
        else:
            yield path


def read_bundles(paths: Iterable[str | os.PathLike]) -> dict[str, Bundle]:
    """Read every bundle under `paths` keyed by id; two files with one id is an error (which one would win?)."""
    bundles: dict[str, Bundle] = {}
    origin: dict[str, Path] = {}
    for path in iter_bundle_files(paths):
        bundle = read_bundle(path)
        if bundle.bundle_id in bundles:
            raise BundleError(str(path), [Problem("bundle_id", f"{bundle.bundle_id!r} is also defined by {origin[bundle.bundle_id]}")])
        bundles[bundle.bundle_id] = bundle
        origin[bundle.bundle_id] = path
    return bundles
