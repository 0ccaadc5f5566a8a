"""Bundles as dataset rows and back, losslessly.

Regularly shaped fields (tasks, tables, seed, verifiers) are Arrow lists and structs: columnar, typed,
browsable in the dataset viewer and filterable without parsing. The two free-form fields, `api_spec` and
`awm1k` (provenance records), are JSON strings: each bundle has different keys, so one Arrow struct would
merge every bundle's keys into one sparse schema, turn "absent" into null and lose key order, which the
AWM-1K round trip needs byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from awm_release.bundle import SERVING, TASK, VERIFIER, Bundle, Problem

JSON_FIELDS = ("api_spec", "awm1k")
ARROW_FIELDS = ("format_version", "bundle_id", "display_name", "description", "tasks", "tables", "seed", "env_code", "verifiers")
ENV_EXTRA_COLUMNS = ("sha256", "split_role")
ENV_COLUMNS = (*ARROW_FIELDS, *JSON_FIELDS, *ENV_EXTRA_COLUMNS)
TASK_COLUMNS = ("bundle_id", "task_idx", "task", "verifiers", "split")


def bundle_to_env_row(bundle: Bundle, sha256: str, role: str) -> dict[str, Any]:
    """One row of the `envs` config: every bundle field, its content hash and its split role."""
    data = bundle.model_dump(mode="json")
    row = {name: data[name] for name in ARROW_FIELDS}
    for name in JSON_FIELDS:
        row[name] = None if data[name] is None else json.dumps(data[name], ensure_ascii=False, separators=(",", ":"))
    row["sha256"] = sha256
    row["split_role"] = role
    return row


def env_row_to_bundle_data(row: dict[str, Any]) -> dict[str, Any]:
    """The bundle fields of an `envs` row, ready for `bundle_from_dict` (which validates them)."""
    data = {name: row[name] for name in ARROW_FIELDS}
    for name in JSON_FIELDS:
        data[name] = None if row[name] is None else json.loads(row[name])
    return data


def task_rows(bundle: Bundle, splits: list[str], problems: Iterable[Problem] = ()) -> list[dict[str, Any]]:
    """Rows of the `tasks` config for one bundle: task text, its verifiers' code per mode, and its split.

    Quarantine: a task with a problem of its own (or of its environment code) is left out, and a verifier that
    cannot run is null here
    (the `envs` row keeps the bundle exactly as it is; the manifest says what was left out and why).
    """
    problems = list(problems)
    if any(p.affects == SERVING for p in problems):
        return []  # its environment cannot run, so none of its tasks can be trained or evaluated
    unusable_tasks = {p.task_idx for p in problems if p.affects == TASK}
    unusable_verifiers = {(p.task_idx, p.mode) for p in problems if p.affects == VERIFIER}
    rows = []
    for idx, (task, split) in enumerate(zip(bundle.tasks, splits, strict=True)):
        if idx in unusable_tasks:
            continue
        verifier = bundle.verifier_for(idx)
        code = verifier.code.code if verifier and verifier.code and (idx, "code") not in unusable_verifiers else None
        sql = verifier.sql.code if verifier and verifier.sql and (idx, "sql") not in unusable_verifiers else None
        rows.append({"bundle_id": bundle.bundle_id, "task_idx": idx, "task": task,
                     "verifiers": {"code": code, "sql": sql}, "split": split})
    return rows
