"""Everything wrong with a bundle that can be found without running its code, each with location and reason.

The importer and `awm bundle validate` report these, so that nothing a later command refuses or skips
comes as a surprise: the bundle's own problems (a verifier that does not parse, ...), the SQL statements
SQLite rejects when the database is built by the original runtime's rules, declared tables that end up
missing, and routes that share a method and path (the original runtime serves only one of them).
"""

from __future__ import annotations

import ast
import sqlite3
from dataclasses import dataclass, field

from awm_release.bundle import REPORTED, SERVING, WHOLE, Bundle, Problem
from awm_release.database import HydrationReport, build_database, existing_tables
from awm_release.routes import declared_routes, duplicate_routes, parse_code


@dataclass
class Inspection:
    """A bundle's findings: what it lacks (partial scenarios) and its problems, each saying what it costs."""

    bundle_id: str
    lacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """`problems` (something is broken), `partial` (something is missing) or `complete`."""
        return "problems" if self.problems else "partial" if self.lacks else "complete"


def inspect_bundle(bundle: Bundle, problems: list[Problem] | None = None) -> Inspection:
    """All findings for one bundle (`problems`: its `problems()` when already computed)."""
    found = Inspection(bundle.bundle_id, lacks=bundle.missing())
    for problem in bundle.problems() if problems is None else problems:
        found.problems.append(f"{problem} ({_consequence(problem)})")
    found.problems += database_findings(bundle)
    for group in duplicate_routes(declared_routes(bundle.env_code) or []):
        first = group[0]
        ids = ", ".join(r.operation_id or r.function for r in group)
        found.problems.append(f"env_code lines {', '.join(str(r.line) for r in group)}: {len(group)} routes on {first.method} "
                           f"{first.path} ({ids}); the original runtime serves only {group[-1].operation_id or group[-1].function}, "
                           "and runs the handler of the first; here each is its own tool")
    return found


@dataclass(frozen=True)
class SqlDatabase:
    """What the bundle's SQL alone builds, by the original rules (no environment code runs)."""

    report: HydrationReport
    tables: set[str]
    rows: int  # rows in its tables: what the seed really leaves


def build_sql_database(bundle: Bundle) -> SqlDatabase:
    conn = sqlite3.connect(":memory:")
    try:
        report = build_database(bundle, conn)
        tables = existing_tables(conn)
        user_tables = [t for t in tables if not t.startswith("sqlite_")]
        rows = sum(conn.execute(f'SELECT count(*) FROM "{t.replace(chr(34), chr(34) * 2)}"').fetchone()[0] for t in user_tables)
        return SqlDatabase(report, tables, rows)
    finally:
        conn.close()


def missing_tables(bundle: Bundle, built: SqlDatabase) -> list[Problem]:
    """Declared tables that neither the SQL nor the environment code's models create: the bundle cannot be served."""
    modelled = model_tables(bundle.env_code)
    return [Problem(f"tables[{i}]", f"table {t.name!r} is missing (its DDL failed and the environment code does not "
                                    "create it)", SERVING)
            for i, t in enumerate(bundle.tables) if t.name not in built.tables and t.name not in modelled]


def database_findings(bundle: Bundle, built: SqlDatabase | None = None) -> list[str]:
    """SQL statements SQLite rejects (skipped, as the original runtime skips them) and tables that end up missing."""
    if not bundle.tables and not bundle.seed:
        return []
    built = built or build_sql_database(bundle)
    findings = [f"{f} (skipped, as in the original runtime)".replace("\n      ", "; ") for f in built.report.failures]
    modelled = model_tables(bundle.env_code)
    findings += [f"table {t.name!r}: its DDL failed; the environment code's create_all creates it empty"
                 for t in bundle.tables if t.name not in built.tables and t.name in modelled]
    findings += [f"{p} (the bundle cannot be served)" for p in missing_tables(bundle, built)]
    return findings


def model_tables(env_code: str | None) -> set[str]:
    """`__tablename__`s of the code's module-level ORM classes (what its `create_all` would create), read without running it."""
    tree = parse_code(env_code)
    if tree is None:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "__tablename__" for t in item.targets)
                        and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str)):
                    names.add(item.value.value)
    return names


def _consequence(problem: Problem) -> str:
    return {
        WHOLE: "the bundle cannot be used",
        SERVING: "the bundle cannot be served",
        REPORTED: "kept as it is",
    }.get(problem.affects, f"task {problem.task_idx}" + (f"'s {problem.mode}-mode verifier" if problem.mode else "")
          + " is left out")
