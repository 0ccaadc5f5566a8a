"""Accept or reject each stage's output, with a message precise enough for the model to fix it.

Checks build the real thing: schemas and seed data in SQLite (build_database), the environment with the
serving runtime, verifiers in the verifier sandbox. A check never raises for bad output; it returns a
Check whose `cause` feeds the report and whose `message` feeds the failure summary of the next attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from awm_release.bundle import Bundle, SeedTable, TableSchema, TaskVerifiers, VerifierCode
from awm_release.inspection import build_sql_database
from awm_release.synthesis.parsing import ReplyFormatError, extract_json_object, extract_python
from awm_release.sandbox.verification import verify
from awm_release.sandbox.verifier_pool import VerifierPool

# Why an attempt failed, as counted in the report.
CAUSES = {
    "llm_error": "the LLM call failed after retries (rate limits, server errors, timeouts)",
    "unparseable": "the reply did not contain the requested JSON object or code block",
    "invalid_output": "the output had the wrong structure or content",
    "not_suitable": "the classifier judged the scenario unsuitable for create/read/update/delete work",
    "sql_error": "too many tables or seed statements failed in SQLite",
    "import_error": "the environment code failed to load",
    "missing_routes": "spec operations without a route in the environment code",
    "tool_5xx": "a tool answered its probe with a server error",
    "probe_timeout": "the environment did not load or answer its probes in time",
    "probe_crash": "the environment's code killed the process checking it (memory limit, exit, crash)",
    "verifier_error": "the verifier raised, timed out or returned the wrong shape",
    "verifier_trivial": "the code verifier says 'complete' on the untouched seed database",
    "checker_crash": "the checker itself failed on this output (a bug in awm; please report it)",
}
_MAX_LISTED = 15


@dataclass
class Check:
    """The verdict on one attempt. `score` (0-1) ranks failed attempts to keep the best one."""

    ok: bool
    cause: str = ""
    message: str = ""
    score: float = 0.0
    value: Any = None
    notes: list[str] = field(default_factory=list)


def accept(value: Any, notes: list[str] | None = None) -> Check:
    return Check(True, score=1.0, value=value, notes=notes or [])


def reject(cause: str, message: str, score: float = 0.0) -> Check:
    assert cause in CAUSES, cause
    return Check(False, cause, message, score)


def _listing(lines: list[str]) -> str:
    shown = "\n".join(f"- {line}" for line in lines[:_MAX_LISTED])
    return shown + (f"\n- ... and {len(lines) - _MAX_LISTED} more" if len(lines) > _MAX_LISTED else "")


def _json_list(reply: str, key: str, example: str) -> list[Any] | Check:
    """The non-empty list under `key` of the reply's JSON object, or a rejection saying what was expected."""
    try:
        data = extract_json_object(reply)
    except ReplyFormatError as exc:
        return reject("unparseable", f"{exc}; expected {example}")
    value = data.get(key)
    if not isinstance(value, list) or not value:
        return reject("invalid_output", f"expected {example} with a non-empty {key!r} list; got keys {sorted(data)}")
    return value


def _json_records(reply: str, model: type[BaseModel], example: str) -> list[Any] | Check:
    """The reply's {"tables": [...]} list parsed as `model` records, or a rejection with the first problem's location."""
    items = _json_list(reply, "tables", example)
    if isinstance(items, Check):
        return items
    try:
        return [model.model_validate(item) for item in items]
    except ValidationError as exc:
        return reject("invalid_output", _pydantic_problem("tables", exc))


def _pydantic_problem(where: str, exc: ValidationError) -> str:
    err = exc.errors()[0]
    location = ".".join(str(p) for p in err["loc"])
    return f"{where}{'.' + location if location else ''}: {err['msg']}"


# ------------------------------------------------------------------------------------------- scenarios


def check_scenarios(reply: str) -> Check:
    items = _json_list(reply, "scenarios", '{"scenarios": [{"name", "description"}]}')
    if isinstance(items, Check):
        return items
    scenarios, problems = [], []
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        description = item.get("description") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip() or not isinstance(description, str) or len(description.split()) < 20:
            problems.append(f"scenarios[{i}]: needs a name and a description of at least 20 words")
            continue
        scenarios.append({"name": name.strip(), "description": description.strip()})
    if not scenarios:
        return reject("invalid_output", "no usable scenario:\n" + _listing(problems))
    return accept(scenarios, problems)


def check_classification(reply: str) -> Check:
    try:
        data = extract_json_object(reply)
    except ReplyFormatError as exc:
        return reject("unparseable", f'{exc}; expected {{"suitable": true|false, "reason": "..."}}')
    if not isinstance(data.get("suitable"), bool):
        return reject("invalid_output", f'"suitable" must be true or false, got {data.get("suitable")!r}')
    return accept({"suitable": data["suitable"], "reason": str(data.get("reason", ""))})


# ------------------------------------------------------------------------------------------- tasks


def check_tasks(reply: str, count: int) -> Check:
    items = _json_list(reply, "tasks", '{"tasks": ["...", ...]}')
    if isinstance(items, Check):
        return items
    tasks = [t.strip() for t in items if isinstance(t, str) and t.strip()]
    problems = [f"tasks[{i}] is not a non-empty string" for i, t in enumerate(items) if not (isinstance(t, str) and t.strip())]
    seen: set[str] = set()
    for task in tasks:
        if task.lower() in seen:
            problems.append(f"duplicate task: {task[:80]!r}")
        seen.add(task.lower())
    if len(tasks) < count:
        problems.append(f"{len(tasks)} usable task(s), {count} required")
    if problems:
        return reject("invalid_output", _listing(problems), score=min(len(seen), count) / count / 2)
    notes = [f"kept the first {count} of {len(tasks)} tasks"] if len(tasks) > count else []
    return accept(tasks[:count], notes)


# ------------------------------------------------------------------------------------------- database


_POSITION = re.compile(r"^(?:tables|seed)\[(\d+)\]\.(ddl|indexes|insert_statements)(?:\[(\d+)\])?$")


def _position(location: str) -> tuple[int, str, int | None]:
    match = _POSITION.match(location)
    assert match, location
    return int(match[1]), match[2], int(match[3]) if match[3] is not None else None


def check_schema(reply: str, max_failure_ratio: float) -> Check:
    """Tables must build in SQLite; up to `max_failure_ratio` of them may fail and are dropped."""
    tables = _json_records(reply, TableSchema, '{"tables": [{"name", "ddl", "indexes"}]}')
    if isinstance(tables, Check):
        return tables
    names = [t.name for t in tables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        return reject("invalid_output", f"duplicate table name(s): {', '.join(duplicates)}")
    built = build_sql_database(Bundle(bundle_id="schema_check", display_name="schema check", tables=tables))
    failures, created = built.report.failures, built.tables
    failed_tables: dict[int, str] = {}
    failed_indexes: dict[int, set[int]] = {}
    for failure in failures:
        i, part, j = _position(failure.location)
        if part == "ddl":
            failed_tables[i] = str(failure)
        else:
            failed_indexes.setdefault(i, set()).add(j or 0)
    for i, table in enumerate(tables):
        if i not in failed_tables and table.name not in created:
            failed_tables[i] = f"tables[{i}]: its DDL does not create a table named {table.name!r} (name and DDL disagree)"
    ratio = len(failed_tables) / len(tables)
    if ratio > max_failure_ratio:
        return reject("sql_error", f"{len(failed_tables)} of {len(tables)} tables failed in SQLite "
                      f"(at most {max_failure_ratio:.0%} may):\n" + _listing(list(failed_tables.values())), score=1 - ratio)
    kept, notes = [], [f"dropped table {tables[i].name!r}: {failed_tables[i]}" for i in sorted(failed_tables)]
    for i, table in enumerate(tables):
        if i in failed_tables:
            continue
        bad = failed_indexes.get(i, set())
        notes += [f"dropped index of {table.name!r}: {table.indexes[j]}" for j in sorted(bad)]
        kept.append(table.model_copy(update={"indexes": [sql for j, sql in enumerate(table.indexes) if j not in bad]}))
    return accept(kept, notes)


_INSERT = re.compile(r"^\s*(?:--[^\n]*\n\s*)*INSERT\b", re.IGNORECASE)


def check_seed(bundle: Bundle, reply: str, max_failure_ratio: float) -> Check:
    """INSERTs must run against the accepted schema; up to `max_failure_ratio` may fail and are dropped."""
    seed = _json_records(reply, SeedTable, '{"tables": [{"table_name", "reasoning", "insert_statements"}]}')
    if isinstance(seed, Check):
        return seed
    known = {t.name for t in bundle.tables}
    total = sum(len(s.insert_statements) for s in seed)
    if total == 0:
        return reject("invalid_output", "no INSERT statements at all")
    failed: dict[tuple[int, int], str] = {}
    for i, table in enumerate(seed):
        for j, sql in enumerate(table.insert_statements):
            if table.table_name not in known:
                failed[(i, j)] = f"seed[{i}] ({table.table_name!r}): no such table in the schema ({', '.join(sorted(known))})"
            elif not _INSERT.match(sql):
                failed[(i, j)] = f"seed[{i}].insert_statements[{j}]: only INSERT statements are allowed: {sql[:100]}"
    runnable = [s.model_copy(update={"insert_statements": [sql if (i, j) not in failed else "SELECT 1"
                                                           for j, sql in enumerate(s.insert_statements)]})
                for i, s in enumerate(seed) if s.table_name in known]
    positions = [i for i, s in enumerate(seed) if s.table_name in known]
    failures = build_sql_database(bundle.model_copy(update={"seed": runnable})).report.failures
    for failure in failures:
        i, _part, j = _position(failure.location)
        failed.setdefault((positions[i], j or 0), str(failure))
    ratio = len(failed) / total
    if ratio > max_failure_ratio:
        return reject("sql_error", f"{len(failed)} of {total} seed statements failed (at most {max_failure_ratio:.0%} may):\n"
                      + _listing([failed[k] for k in sorted(failed)]), score=1 - ratio)
    kept = [s.model_copy(update={"insert_statements": [sql for j, sql in enumerate(s.insert_statements) if (i, j) not in failed]})
            for i, s in enumerate(seed) if s.table_name in known]
    notes = [f"dropped {failed[k]}" for k in sorted(failed)]
    return accept([s for s in kept if s.insert_statements], notes)


# ------------------------------------------------------------------------------------------- spec


class _SpecParam(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "string"
    param_type: str = "query"
    required: bool = False


class _SpecEndpoint(BaseModel):
    model_config = ConfigDict(extra="allow")
    path: str
    method: str
    operation_id: str
    summary: str = ""
    description: str = ""
    request_params: dict[str, _SpecParam] = Field(default_factory=dict)
    required_tables: list[str] = Field(default_factory=list)


class _SpecGroup(BaseModel):
    model_config = ConfigDict(extra="allow")
    group_name: str
    endpoints: list[_SpecEndpoint] = Field(min_length=1)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="allow")
    api_groups: list[_SpecGroup] = Field(min_length=1)


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_PARAM = re.compile(r"\{([^}/]+)\}")


def check_spec(bundle: Bundle, reply: str) -> Check:
    try:
        data = extract_json_object(reply)
        spec = _Spec.model_validate(data)
    except ReplyFormatError as exc:
        return reject("unparseable", f'{exc}; expected {{"api_groups": [...]}}')
    except ValidationError as exc:
        return reject("invalid_output", _pydantic_problem("spec", exc))
    tables = {t.name for t in bundle.tables}
    problems: list[str] = []
    seen: set[str] = set()
    for g, group in enumerate(spec.api_groups):
        for e, endpoint in enumerate(group.endpoints):
            where = f"api_groups[{g}].endpoints[{e}] ({endpoint.operation_id})"
            if endpoint.method.upper() not in _METHODS:
                problems.append(f"{where}: method {endpoint.method!r} is not one of {', '.join(sorted(_METHODS))}")
            if not endpoint.path.startswith("/"):
                problems.append(f"{where}: path {endpoint.path!r} must start with '/'")
            if not _IDENTIFIER.match(endpoint.operation_id):
                problems.append(f"{where}: operation_id must be a snake_case identifier")
            elif endpoint.operation_id in seen:
                problems.append(f"{where}: duplicate operation_id")
            seen.add(endpoint.operation_id)
            in_path = set(_PATH_PARAM.findall(endpoint.path))
            declared = {n for n, p in endpoint.request_params.items() if p.param_type == "path"}
            if in_path - declared:
                problems.append(f"{where}: path parameter(s) {', '.join(sorted(in_path - declared))} not declared with param_type 'path'")
            if declared - in_path:
                problems.append(f"{where}: parameter(s) {', '.join(sorted(declared - in_path))} have param_type 'path' but are not in the path")
            unknown = sorted(set(endpoint.required_tables) - tables)
            if unknown:
                problems.append(f"{where}: required_tables {', '.join(unknown)} are not tables of the schema")
    if problems:
        return reject("invalid_output", f"{len(problems)} problem(s) in the spec:\n" + _listing(problems), score=1 / (1 + len(problems)))
    return accept(data)


# ------------------------------------------------------------------------------------------- verifiers


async def check_verifier(bundle: Bundle, task_idx: int, mode: str, reply: str, seed_image: bytes,
                         pool: VerifierPool, timeout_s: float) -> Check:
    """The verifier must run on the seed database (as both initial and final) in the sandbox and return the right shape."""
    try:
        code = extract_python(reply)
    except ReplyFormatError as exc:
        return reject("unparseable", str(exc))
    # Only what the verifier needs: re-checking the bundle's large env_code per verifier would dominate the cost.
    candidate = Bundle(bundle_id=bundle.bundle_id, display_name=bundle.display_name, tasks=bundle.tasks,
                       verifiers=[TaskVerifiers(task_idx=task_idx, **{mode: VerifierCode(code=code, raw_response=reply)})])
    problems = [str(p) for p in candidate.problems()]
    if problems:
        return reject("invalid_output", "; ".join(problems))
    outcome = await verify(candidate, task_idx, seed_image, seed_image, mode="code" if mode == "code" else "facts",
                           pool=pool, timeout_s=timeout_s)
    expected = ("complete", "others") if mode == "code" else ("facts",)
    if outcome.result not in expected:
        error = outcome.error or {}
        line = error.get("line")
        source = code.splitlines()[line - 1].strip() if isinstance(line, int) and 0 < line <= len(code.splitlines()) else ""
        at = f" at line {line}: {source!r}" if line else ""
        return reject("verifier_error", f"run on the seed database, the verifier failed{at}: "
                      f"{error.get('error_type', outcome.result)}: {error.get('message', '')}")
    if outcome.result == "complete":
        return reject("verifier_trivial", "on the untouched seed database with no final answer the verifier returned "
                      f"'complete' ({outcome.details}); the task has not been done there, so it must return 'others'", score=0.5)
    return accept(VerifierCode(code=code, raw_response=reply))
