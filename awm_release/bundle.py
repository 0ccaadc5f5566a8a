"""The bundle: one synthetic environment (scenario, tasks, database, API, code, verifiers) as a typed record.

A bundle is the unit everything else exchanges: the AWM-1K importer writes bundles, the dataset packs
them, the server hydrates them. `format_version` versions the layout; `sha256` is computed over a
canonical serialization so that two bundles with equal content hash equally on any machine.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FORMAT_VERSION = 1
CODE_VERIFIER_FUNCTION = "verify_task_completion"
SQL_VERIFIER_FUNCTION = "verify_task"
_BUNDLE_ID = re.compile(r"^[a-z0-9_]+$")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableSchema(_Record):
    """One table of the state: its DDL and the indexes created after it."""

    name: str
    ddl: str
    indexes: list[str] = Field(default_factory=list)


class SeedTable(_Record):
    """Seed rows for one table, with the generator's reasoning kept for provenance."""

    table_name: str
    reasoning: str = ""
    insert_statements: list[str] = Field(default_factory=list)


class VerifierCode(_Record):
    """Verifier source plus the raw LLM response it was extracted from."""

    code: str
    raw_response: str = ""


class TaskVerifiers(_Record):
    """Verifiers of one task: code mode returns a verdict, sql mode returns facts for a judge."""

    task_idx: int = Field(ge=0)
    code: VerifierCode | None = None
    sql: VerifierCode | None = None


class Bundle(_Record):
    """One environment. Optional parts may be absent in partial AWM-1K scenarios; `missing()` lists them."""

    format_version: int = FORMAT_VERSION
    bundle_id: str
    display_name: str
    description: str = ""
    tasks: list[str] = Field(default_factory=list)
    tables: list[TableSchema] = Field(default_factory=list)
    seed: list[SeedTable] = Field(default_factory=list)
    api_spec: dict[str, Any] | None = None
    env_code: str | None = None
    verifiers: list[TaskVerifiers] = Field(default_factory=list)
    awm1k: dict[str, Any] = Field(
        default_factory=dict,
        description="Provenance needed to re-export the original AWM-1K records byte for byte.",
    )

    def canonical_json(self) -> bytes:
        """Sorted keys, no whitespace, UTF-8: the bytes the content hash is taken over."""
        payload = self.model_dump(mode="json")
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()

    def verifier_for(self, task_idx: int) -> TaskVerifiers | None:
        return next((v for v in self.verifiers if v.task_idx == task_idx), None)

    def missing(self) -> list[str]:
        """What a complete environment has and this one lacks, in words a user can act on."""
        lacks = []
        if not self.description:
            lacks.append("scenario description (gen_scenario)")
        if not self.tasks:
            lacks.append("tasks (gen_tasks)")
        if not self.tables:
            lacks.append("database schema (gen_db)")
        if not self.seed:
            lacks.append("seed data (gen_sample)")
        if self.api_spec is None:
            lacks.append("API spec (gen_spec)")
        if self.env_code is None:
            lacks.append("environment code (gen_envs)")
        for mode, label, source in (("code", "code-mode", "gen_verifier.pure_code"), ("sql", "sql-mode", "gen_verifier")):
            have = {v.task_idx for v in self.verifiers if getattr(v, mode) is not None}
            absent = [i for i in range(len(self.tasks)) if i not in have]
            if absent and len(absent) == len(self.tasks):
                lacks.append(f"{label} verifiers ({source})")
            elif absent:
                lacks.append(f"{label} verifiers for tasks {_ranges(absent)} ({source})")
        return lacks

    def problems(self) -> list[Problem]:
        """Every semantic problem at once, each with its location and what it makes unusable; empty means valid."""
        return list(_semantic_problems(self))

    def verifier_problem(self, task_idx: int, mode: str) -> Problem | None:
        """Why this task's verifier of `mode` ("code" or "sql") cannot run, or None if it can (or is absent)."""
        for i, verifier in enumerate(self.verifiers):
            if verifier.task_idx == task_idx:
                found = [p for p in _verifier_problems(self, i, verifier, seen=set()) if p.mode in (None, mode)]
                return found[0] if found else None
        return None


# What a problem makes unusable. Quarantine keeps the rest: a bundle whose task-2 verifier does not parse
# still serves, packs and verifies its other tasks.
WHOLE = "bundle"  # the bundle cannot be used at all (it is skipped)
SERVING = "serving"  # the environment code cannot run (the bundle still packs; it is not served)
TASK = "task"  # one task (task_idx) cannot be trained or evaluated
VERIFIER = "verifier"  # one task's verifier of one mode (task_idx, mode) cannot run
REPORTED = "reported"  # nothing is lost beyond what the statement itself does (e.g. a seed row SQLite rejects)


@dataclass(frozen=True)
class Problem:
    location: str
    message: str
    affects: str = WHOLE
    task_idx: int | None = None
    mode: str | None = None  # "code" or "sql", for VERIFIER problems

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class BundleError(ValueError):
    """A bundle that cannot be used, with every problem found and where it is."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):\n{lines}")

    def one_line(self) -> str:
        """`skipped SOURCE: first problem (+N more)`: what a quarantining reader prints for a bundle it leaves out."""
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"skipped {self.source}: {self.problems[0]}{more}" if self.problems else f"skipped {self.source}"


def bundle_from_dict(data: Any, source: str = "bundle", *, strict: bool = False) -> Bundle:
    """Validate a parsed bundle, raising one BundleError that lists its problems together.

    Only problems that make the whole bundle unusable raise; the others stay in `bundle.problems()` for the
    caller to quarantine what they affect. With `strict`, every problem raises (all-or-nothing, for CI).
    """
    return validate_bundle(data, source, strict=strict)[0]


def validate_bundle(data: Any, source: str = "bundle", *, strict: bool = False) -> tuple[Bundle, list[Problem]]:
    """`bundle_from_dict`, also returning the problems that did not raise (they take a parse of all code to find)."""
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        raise BundleError(source, [_problem_from_pydantic(err) for err in exc.errors()]) from None
    problems = bundle.problems()
    fatal = [p for p in problems if strict or p.affects == WHOLE]
    if fatal:
        raise BundleError(source, fatal)
    return bundle, problems


def _problem_from_pydantic(err: Any) -> Problem:
    location = ""
    for part in err["loc"]:
        location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
    return Problem(location or "(root)", err["msg"])


def _semantic_problems(bundle: Bundle):
    if bundle.format_version != FORMAT_VERSION:
        yield Problem("format_version", f"unsupported version {bundle.format_version} (this release reads {FORMAT_VERSION})")
    if not _BUNDLE_ID.match(bundle.bundle_id):
        yield Problem("bundle_id", f"{bundle.bundle_id!r} is not normalized (lowercase letters, digits and _ only)")
    if not bundle.display_name.strip():
        yield Problem("display_name", "empty string")
    for i, task in enumerate(bundle.tasks):
        if not task.strip():
            yield Problem(f"tasks[{i}]", "empty string", TASK, i)
    seen_tables: set[str] = set()
    for i, table in enumerate(bundle.tables):
        if not table.name.strip():
            yield Problem(f"tables[{i}].name", "empty string", REPORTED)
        elif table.name in seen_tables:
            yield Problem(f"tables[{i}].name", f"duplicate table {table.name!r}", REPORTED)
        seen_tables.add(table.name)
        if not table.ddl.strip():
            yield Problem(f"tables[{i}].ddl", "empty string", REPORTED)
    for i, seed in enumerate(bundle.seed):
        if bundle.tables and seed.table_name not in seen_tables:
            yield Problem(f"seed[{i}].table_name", f"{seed.table_name!r} is not a table of the schema", REPORTED)
    if bundle.env_code is not None:
        for problem in _syntax_problems("env_code", bundle.env_code):
            yield Problem(problem.location, problem.message, SERVING)
    seen_tasks: set[int] = set()
    for i, verifier in enumerate(bundle.verifiers):
        yield from _verifier_problems(bundle, i, verifier, seen_tasks)


def _verifier_problems(bundle: Bundle, i: int, verifier: TaskVerifiers, seen: set[int]):
    where, idx = f"verifiers[{i}]", verifier.task_idx
    if idx in seen:
        yield Problem(f"{where}.task_idx", f"duplicate verifier for task {idx} (the first is used)", REPORTED, idx)
    seen.add(idx)
    if bundle.tasks and idx >= len(bundle.tasks):
        yield Problem(f"{where}.task_idx", f"task {idx} does not exist ({len(bundle.tasks)} tasks)", REPORTED, idx)
    for mode, function in (("code", CODE_VERIFIER_FUNCTION), ("sql", SQL_VERIFIER_FUNCTION)):
        part = getattr(verifier, mode)
        if part is not None:
            for problem in _function_problems(f"{where}.{mode}.code", part.code, function):
                yield Problem(problem.location, problem.message, VERIFIER, idx, mode)


def _syntax_problems(location: str, source: str):
    try:
        compile(source, location, "exec", dont_inherit=True)  # about twice as fast as ast.parse: no Python AST objects
    except SyntaxError as exc:
        yield Problem(location, f"line {exc.lineno}: syntax error: {exc.msg}")
    except ValueError as exc:  # e.g. a NUL byte in the source
        yield Problem(location, f"not valid source: {exc}")


def _function_problems(location: str, source: str, function: str):
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        yield Problem(location, f"line {exc.lineno}: syntax error: {exc.msg}")
        return
    if not any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body):
        yield Problem(location, f"defines no top-level function {function}()")


def _ranges(numbers: list[int]) -> str:
    """[0,1,2,5] -> '0-2, 5': short enough to read in an import report."""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)
