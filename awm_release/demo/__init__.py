"""Embedded demo bundles, written by hand in exactly the AWM-1K style and shipped as package data.

Each folder holds the parts as readable files (scenario.json, tasks.json, db.json, sample.json, spec.json,
env.py, verifiers/task_NN_{code,sql}.py) plus solutions.json: a correct and a wrong tool sequence per
task, which the tests replay to prove every verifier right.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from awm_release.bundle import Bundle, SeedTable, TableSchema, TaskVerifiers, VerifierCode, bundle_from_dict

DEMO_DIR = Path(__file__).parent
DEFAULT_DEMO_BUNDLE = "bookstore_1"


def demo_bundle_ids() -> list[str]:
    return sorted(p.name for p in DEMO_DIR.iterdir() if (p / "scenario.json").is_file())


@cache
def load_demo_bundle(bundle_id: str) -> Bundle:
    """Assemble one demo bundle from its folder (validated like any other bundle)."""
    root = DEMO_DIR / bundle_id
    if not (root / "scenario.json").is_file():
        raise KeyError(f"no demo bundle {bundle_id!r}; demo bundles: {', '.join(demo_bundle_ids())}")
    scenario = _json(root / "scenario.json")
    tasks = _json(root / "tasks.json")
    verifiers = []
    for idx in range(len(tasks)):
        parts = {mode: root / "verifiers" / f"task_{idx:02d}_{mode}.py" for mode in ("code", "sql")}
        verifiers.append(TaskVerifiers(
            task_idx=idx,
            **{mode: VerifierCode(code=path.read_text(encoding="utf-8")) for mode, path in parts.items() if path.is_file()},
        ))
    data = Bundle(
        bundle_id=bundle_id,
        display_name=scenario["name"],
        description=scenario["description"],
        tasks=tasks,
        tables=[TableSchema.model_validate(t) for t in _json(root / "db.json")["tables"]],
        seed=[SeedTable.model_validate(t) for t in _json(root / "sample.json")["tables"]],
        api_spec=_json(root / "spec.json"),
        env_code=(root / "env.py").read_text(encoding="utf-8"),
        verifiers=verifiers,
    ).model_dump()
    return bundle_from_dict(data, f"demo bundle {bundle_id}")


def load_demo_bundles() -> dict[str, Bundle]:
    return {bundle_id: load_demo_bundle(bundle_id) for bundle_id in demo_bundle_ids()}


def demo_solutions(bundle_id: str) -> list[dict[str, Any]]:
    """Scripted correct and wrong tool sequences per task (test fixtures, also handy for scripted agents)."""
    return _json(DEMO_DIR / bundle_id / "solutions.json")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
