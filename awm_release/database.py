"""Hydration: build a bundle's template database once, statement by statement, as an in-memory image.

Every session then starts from a byte copy of that image (`sqlite3.Connection.deserialize`), so a reset
costs a memcpy instead of re-running DDL and INSERTs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from awm_release.bundle import Bundle


@dataclass(frozen=True)
class StatementFailure:
    """One statement SQLite rejected, located so a user can find and fix it in the bundle."""

    location: str  # e.g. "seed[3].insert_statements[12]"
    table: str
    sql: str
    error: str

    def __str__(self) -> str:
        text = self.sql if len(self.sql) <= 160 else self.sql[:157] + "..."
        return f"{self.location} (table {self.table!r}): {self.error}\n      SQL: {text}"


@dataclass
class HydrationReport:
    tables_created: int = 0
    indexes_created: int = 0
    rows_inserted: int = 0
    failures: list[StatementFailure] = field(default_factory=list)

    @property
    def schema_failures(self) -> list[StatementFailure]:
        return [f for f in self.failures if f.location.startswith("tables")]

    @property
    def seed_failures(self) -> list[StatementFailure]:
        return [f for f in self.failures if f.location.startswith("seed")]


class HydrationError(RuntimeError):
    """The template database could not be built as the bundle describes."""

    def __init__(self, bundle_id: str, failures: list[StatementFailure]):
        self.bundle_id = bundle_id
        self.failures = failures
        shown = "\n".join(f"  - {f}" for f in failures[:10])
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        super().__init__(
            f"bundle {bundle_id!r}: {len(failures)} statement(s) failed while building its database:\n{shown}{more}\n"
            "Fix the statements in the bundle (tables[].ddl / tables[].indexes / seed[].insert_statements)."
        )


def execute_statement(conn: sqlite3.Connection, sql: str) -> None:
    """Run one statement; a string holding several statements (seen in generated DDL) runs as a script."""
    try:
        conn.execute(sql)
    except sqlite3.ProgrammingError as exc:
        if "one statement at a time" not in str(exc):
            raise
        conn.executescript(sql)


def _statements(bundle: Bundle):
    """(kind, location, table, sql) in execution order: all tables, then all indexes, then the seed."""
    for i, table in enumerate(bundle.tables):
        yield "tables", f"tables[{i}].ddl", table.name, table.ddl
    for i, table in enumerate(bundle.tables):
        for j, sql in enumerate(table.indexes):
            yield "indexes", f"tables[{i}].indexes[{j}]", table.name, sql
    for i, seed in enumerate(bundle.seed):
        for j, sql in enumerate(seed.insert_statements):
            yield "rows", f"seed[{i}].insert_statements[{j}]", seed.table_name, sql


def build_database(bundle: Bundle, conn: sqlite3.Connection) -> HydrationReport:
    """Create tables, indexes and seed rows in `conn`, recording every failure instead of stopping."""
    report = HydrationReport()
    done = {"tables": 0, "indexes": 0, "rows": 0}
    for kind, location, table, sql in _statements(bundle):
        try:
            execute_statement(conn, sql)
            done[kind] += 1
        except sqlite3.Error as exc:
            report.failures.append(StatementFailure(location, table, sql, str(exc)))
    conn.commit()
    report.tables_created, report.indexes_created, report.rows_inserted = done["tables"], done["indexes"], done["rows"]
    return report


def build_template_image(bundle: Bundle, *, allow_seed_errors: bool = False) -> tuple[bytes, HydrationReport]:
    """Build the template database and return its serialized image.

    Schema failures always raise; seed failures raise unless `allow_seed_errors` (then they are reported),
    because a missing seed row silently makes tasks infeasible.
    """
    conn = sqlite3.connect(":memory:")
    try:
        report = build_database(bundle, conn)
        fatal = report.failures if not allow_seed_errors else report.schema_failures
        if fatal:
            raise HydrationError(bundle.bundle_id, fatal)
        return conn.serialize(), report
    finally:
        conn.close()


def open_image(image: bytes) -> sqlite3.Connection:
    """A private, writable in-memory database holding a copy of `image`."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.deserialize(image)
    return conn

