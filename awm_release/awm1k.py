"""Lossless import and export of the AgentWorldModel-1K files (`gen_*.jsonl`).

Each original record is kept as a *skeleton*: the record itself, with every value that the bundle already
holds replaced by a small placeholder (`{"$awm": "tasks"}`). Export fills the placeholders back in, so
key order, extra keys (`db_path`, `tables_count`, ...), display-vs-normalized names, duplicate rows and
the original line order all survive byte for byte, while the bundle stores each value once.
"""

from __future__ import annotations

import ast
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from awm_release.atomic import write_atomic
from awm_release.bundle import CODE_VERIFIER_FUNCTION, SQL_VERIFIER_FUNCTION, Bundle, TaskVerifiers, VerifierCode
from awm_release.names import normalize_scenario_name
from awm_release.routes import parse_code

PLACEHOLDER_KEY = "$awm"


def _p(name: str) -> dict[str, str]:
    return {PLACEHOLDER_KEY: name}


# The layout of each file's records, in the key order of the official files.
TEMPLATES: dict[str, dict[str, Any]] = {
    "gen_scenario.jsonl": {"name": _p("display_name"), "description": _p("description")},
    "gen_tasks.jsonl": {"scenario": _p("bundle_id"), "tasks": _p("tasks")},
    "gen_db.jsonl": {"scenario": _p("bundle_id"), "db_schema": {"tables": _p("tables")}, "db_path": _p("db_path")},
    "gen_sample.jsonl": {
        "scenario": _p("bundle_id"),
        "tables_count": _p("seed_tables_count"),
        "inserts_count": _p("inserts_count"),
        "sample_data": {"tables": _p("seed")},
    },
    "gen_spec.jsonl": {"scenario": _p("bundle_id"), "api_spec": _p("api_spec")},
    "gen_envs.jsonl": {"scenario": _p("bundle_id"), "db_path": _p("db_path"), "full_code": _p("env_code")},
    "gen_verifier.jsonl": {
        "scenario": _p("bundle_id"),
        "task_idx": 0,
        "task": _p("task"),
        "verification": {"code": _p("sql.code"), "raw_response": _p("sql.raw_response")},
    },
    "gen_verifier.pure_code.jsonl": {
        "scenario": _p("bundle_id"),
        "task_idx": 0,
        "task": _p("task"),
        "verification": {"code": _p("code.code"), "raw_response": _p("code.raw_response")},
    },
}
AWM1K_FILES = tuple(TEMPLATES)
# The mode each verifier file is named for. A record's actual mode is the function its code defines: real
# pipeline output stores code-mode verifiers (`verify_task_completion`) in gen_verifier.jsonl too.
VERIFIER_MODES = {"gen_verifier.jsonl": "sql", "gen_verifier.pure_code.jsonl": "code"}
_MODE_OF_FUNCTION = {CODE_VERIFIER_FUNCTION: "code", SQL_VERIFIER_FUNCTION: "sql"}


def verifier_mode(name: str, record: dict[str, Any]) -> str:
    """The mode of a verifier record: from the function its code defines, else from the file it is in."""
    verification = record.get("verification")
    code = verification.get("code") if isinstance(verification, dict) else None
    tree = parse_code(code) if isinstance(code, str) else None
    if tree is not None:
        defined = [_MODE_OF_FUNCTION[n.name] for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in _MODE_OF_FUNCTION]
        if len(set(defined)) == 1:
            return defined[0]
    return VERIFIER_MODES[name]


def template_for(name: str, mode: str | None) -> dict[str, Any]:
    """The record layout of `name`, with a verifier's placeholders naming its mode."""
    template = TEMPLATES[name]
    if mode is None:
        return template
    return {**template, "verification": {"code": _p(f"{mode}.code"), "raw_response": _p(f"{mode}.raw_response")}}


@dataclass
class BundleImportNotes:
    """What the importer found in one scenario: what it lacks, and every problem with its location and reason."""

    bundle_id: str
    sources: dict[str, int] = field(default_factory=dict)  # file -> records
    missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # from awm_release.inspection, plus records it could not read
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """`problems` (something is broken), `partial` (something is missing) or `complete`."""
        return "problems" if self.problems or self.errors else "partial" if self.missing else "complete"


@dataclass
class ImportResult:
    bundles: list[Bundle]
    notes: dict[str, BundleImportNotes]
    file_errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- import


def read_awm1k(directory: str | os.PathLike) -> ImportResult:
    """Read whichever `gen_*.jsonl` files exist in `directory` and assemble one bundle per scenario."""
    root = Path(directory)
    present = [name for name in AWM1K_FILES if (root / name).is_file()]
    if not present:
        raise FileNotFoundError(f"{root}: none of the AWM-1K files ({', '.join(AWM1K_FILES)}) is there")
    grouped: dict[str, list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    file_errors: list[str] = []
    for name in present:
        for line_no, record in _read_jsonl(root / name, file_errors):
            scenario = record.get("name" if name == "gen_scenario.jsonl" else "scenario")
            if not isinstance(scenario, str) or not scenario.strip():
                file_errors.append(f"{name}:{line_no}: record has no scenario name; skipped")
                continue
            grouped[normalize_scenario_name(scenario)].append((name, line_no, record))
    bundles, notes = [], {}
    for bundle_id in sorted(grouped):
        bundle, note = assemble_bundle(bundle_id, grouped[bundle_id])
        bundles.append(bundle)
        notes[bundle_id] = note
    return ImportResult(bundles, notes, file_errors)


def _read_jsonl(path: Path, errors: list[str]) -> Iterable[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path.name}:{line_no}: invalid JSON ({exc.msg} at column {exc.colno}); skipped")
                continue
            if not isinstance(record, dict):
                errors.append(f"{path.name}:{line_no}: not a JSON object; skipped")
                continue
            yield line_no, record


def assemble_bundle(bundle_id: str, records: list[tuple[str, int, dict[str, Any]]]) -> tuple[Bundle, BundleImportNotes]:
    """Build one bundle from its records (first record of a kind wins; later ones are kept as duplicates)."""
    note = BundleImportNotes(bundle_id)
    fields: dict[str, Any] = {"bundle_id": bundle_id, "display_name": bundle_id}
    verifiers: dict[int, dict[str, VerifierCode]] = defaultdict(dict)
    seen: set[tuple[str, int | None]] = set()
    modes = [verifier_mode(name, record) if name in VERIFIER_MODES else None for name, _, record in records]
    for (name, line_no, record), mode in zip(records, modes):
        note.sources[name] = note.sources.get(name, 0) + 1
        key = (mode or name, record.get("task_idx") if mode else None)
        if key in seen:
            note.duplicates.append(f"{name}:{line_no}" + (f" ({mode}-mode verifier of task {key[1]})" if mode else ""))
            continue
        seen.add(key)
        try:
            _absorb(name, record, fields, verifiers, mode)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            note.errors.append(f"{name}:{line_no}: unexpected record layout ({_brief(exc)}); kept verbatim for export")
    fields["verifiers"] = [
        TaskVerifiers(task_idx=idx, code=modes.get("code"), sql=modes.get("sql")) for idx, modes in sorted(verifiers.items())
    ]
    bundle = Bundle.model_validate(fields)
    skeletons: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (name, line_no, record), mode in zip(records, modes):
        context = _Resolver(bundle, record.get("task_idx"))
        skeletons[name].append({"line": line_no, "record": _skeletonize(record, template_for(name, mode), context)})
    bundle = bundle.model_copy(update={"awm1k": {"records": dict(skeletons)}})
    note.missing = bundle.missing()
    return bundle, note


def _absorb(name: str, record: dict[str, Any], fields: dict[str, Any], verifiers: dict[int, dict[str, VerifierCode]],
            mode: str | None) -> None:
    """Take one record's values into the bundle's fields, each validated here, so a malformed record is
    reported on its own instead of failing the whole scenario (or the whole import)."""
    if name == "gen_scenario.jsonl":
        update = {"display_name": record["name"], "description": record.get("description", "")}
    elif name == "gen_tasks.jsonl":
        update = {"tasks": record["tasks"]}
    elif name == "gen_db.jsonl":
        update = {"tables": record["db_schema"]["tables"]}
    elif name == "gen_sample.jsonl":
        update = {"seed": record["sample_data"]["tables"]}
    elif name == "gen_spec.jsonl":
        update = {"api_spec": record["api_spec"]}
    elif name == "gen_envs.jsonl":
        update = {"env_code": record["full_code"]}
    else:
        verifiers[int(record["task_idx"])][mode or VERIFIER_MODES[name]] = VerifierCode.model_validate(record["verification"])
        return
    for key, value in update.items():
        try:
            fields[key] = _field_type(key).validate_python(value)
        except ValidationError as exc:
            raise ValueError(_brief(exc, key)) from None


@cache
def _field_type(field_name: str) -> TypeAdapter[Any]:
    return TypeAdapter(Bundle.model_fields[field_name].annotation)


def _brief(exc: Exception, field_name: str = "") -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = field_name + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        return f"{where.lstrip('.')}: {first['msg']}" if where else first["msg"]
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return str(exc)


# ---------------------------------------------------------------------------------------------- resolve


class _Resolver:
    """The value each placeholder stands for, in the AWM-1K form, for one bundle (and one task)."""

    def __init__(self, bundle: Bundle, task_idx: Any = None):
        self.bundle = bundle
        self.task_idx = task_idx

    def __call__(self, name: str) -> Any:
        b = self.bundle
        if name in ("bundle_id", "display_name", "description", "tasks", "api_spec", "env_code"):
            return getattr(b, name)
        if name == "tables":
            return [t.model_dump() for t in b.tables]
        if name == "seed":
            return [t.model_dump() for t in b.seed]
        if name == "seed_tables_count":
            return len(b.seed)
        if name == "inserts_count":
            return sum(len(s.insert_statements) for s in b.seed)
        if name == "db_path":
            return f"./outputs/databases/{b.bundle_id}.db"
        if name == "task":
            idx = self.task_idx
            return b.tasks[idx] if isinstance(idx, int) and 0 <= idx < len(b.tasks) else None
        mode, part = name.split(".")
        verifier = b.verifier_for(self.task_idx) if isinstance(self.task_idx, int) else None
        code = getattr(verifier, mode) if verifier else None
        return getattr(code, part) if code else None


def _skeletonize(record: Any, template: Any, resolve: _Resolver) -> Any:
    """Replace values the bundle holds (and would give back identically) with placeholders."""
    if isinstance(template, dict) and PLACEHOLDER_KEY in template:
        value = resolve(template[PLACEHOLDER_KEY])
        return template if _same_json(value, record) else record
    if isinstance(template, dict) and isinstance(record, dict):
        return {k: _skeletonize(v, template[k], resolve) if k in template else v for k, v in record.items()}
    return record


def _fill(skeleton: Any, resolve: _Resolver) -> Any:
    if isinstance(skeleton, dict):
        if set(skeleton) == {PLACEHOLDER_KEY}:
            return resolve(skeleton[PLACEHOLDER_KEY])
        return {k: _fill(v, resolve) for k, v in skeleton.items()}
    return skeleton


def _same_json(a: Any, b: Any) -> bool:
    return _dumps(a) == _dumps(b)


def _dumps(record: Any) -> str:
    # The official files are json.dumps(..., ensure_ascii=False): raw UTF-8, default separators.
    return json.dumps(record, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------- export


def default_skeletons(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """Records for a bundle that did not come from AWM-1K (demo, synthesized): every part it has."""
    out: dict[str, list[dict[str, Any]]] = {}
    present = {
        "gen_scenario.jsonl": True,
        "gen_tasks.jsonl": bool(bundle.tasks),
        "gen_db.jsonl": bool(bundle.tables),
        "gen_sample.jsonl": bool(bundle.seed),
        "gen_spec.jsonl": bundle.api_spec is not None,
        "gen_envs.jsonl": bundle.env_code is not None,
    }
    for name, wanted in present.items():
        if wanted:
            out[name] = [{"record": TEMPLATES[name]}]
    for name, mode in VERIFIER_MODES.items():
        rows = [v for v in bundle.verifiers if getattr(v, mode) is not None]
        if rows:
            out[name] = [{"record": {**TEMPLATES[name], "task_idx": v.task_idx}} for v in rows]
    return out


def export_records(bundles: Iterable[Bundle]) -> dict[str, list[dict[str, Any]]]:
    """All records per file, in their original line order where known, then in bundle order."""
    collected: dict[str, list[tuple[float, int, dict[str, Any]]]] = defaultdict(list)
    order = 0
    for bundle in bundles:
        # Imported bundles re-export exactly their original records; others export every part they have.
        skeletons = bundle.awm1k.get("records") or default_skeletons(bundle)
        for name, entries in skeletons.items():
            for entry in entries:
                skeleton = entry["record"]
                record = _fill(skeleton, _Resolver(bundle, skeleton.get("task_idx")))
                collected[name].append((entry.get("line", float("inf")), order, record))
                order += 1
    return {name: [r for _, _, r in sorted(rows, key=lambda t: (t[0], t[1]))] for name, rows in collected.items()}


def write_awm1k(bundles: Iterable[Bundle], directory: str | os.PathLike) -> dict[str, int]:
    """Write the `gen_*.jsonl` files (atomically, each) and return records written per file."""
    root = Path(directory)
    counts = {}
    for name, records in export_records(bundles).items():
        write_atomic(root / name, "".join(_dumps(r) + "\n" for r in records).encode("utf-8"))
        counts[name] = len(records)
    return counts
