"""Hydration: build a bundle's template database once, by the original AWM runtime's rules, as an in-memory image.

The rules are those of the AWM repository (`awm/core/db.py`, `sample.py`, `reset.py`), so that every bundle
starts from exactly the database the paper's environments had:

- tables in order, each as its DDL then its indexes; a failing statement abandons the rest of *that* table
  (its remaining indexes) and the next table goes on;
- then the seed, statement by statement, with `PRAGMA foreign_keys = ON`; a failing statement is skipped
  (SQLite undoes just that statement) and the others are kept, all in one transaction;
- each statement through `sqlite3.Cursor.execute`, so a string holding two statements fails as it did there.

The environment code's module-level `Base.metadata.create_all(engine)` then runs against the same database
(env_server.runtime), which may create tables the DDL failed to. Every session then starts from a byte copy
of the image (`sqlite3.Connection.deserialize`), so a reset costs a memcpy instead of re-running SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
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
    rows_inserted: int = 0  # rows, not statements: one INSERT may add several, a failed one adds none
    failures: list[StatementFailure] = field(default_factory=list)
    tables_from_code: list[str] = field(default_factory=list)  # created by the code's module-level create_all
    missing_tables: list[str] = field(default_factory=list)  # declared, but neither the DDL nor the code made them

    @property
    def schema_failures(self) -> list[StatementFailure]:
        return [f for f in self.failures if f.location.startswith("tables")]

    @property
    def seed_failures(self) -> list[StatementFailure]:
        return [f for f in self.failures if f.location.startswith("seed")]

    def notes(self) -> list[str]:
        """One line per thing a user should know about this database, failures first."""
        lines = [str(f) for f in self.failures]
        lines += [f"table {t!r}: its DDL failed; the environment code's create_all created it (empty)" for t in self.tables_from_code]
        lines += [f"table {t!r}: missing (its DDL failed and nothing else created it)" for t in self.missing_tables]
        return lines


class HydrationError(RuntimeError):
    """The template database could not be built as the bundle describes."""

    def __init__(self, bundle_id: str, failures: list[StatementFailure], missing_tables: list[str] | None = None):
        self.bundle_id = bundle_id
        self.failures = failures
        self.missing_tables = missing_tables or []
        shown = "\n".join(f"  - {f}" for f in failures[:10])
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        missing = f"\n  tables missing afterwards: {', '.join(self.missing_tables)}" if self.missing_tables else ""
        super().__init__(
            f"bundle {bundle_id!r}: {len(failures)} statement(s) failed while building its database:\n{shown}{more}{missing}\n"
            "Fix the statements in the bundle (tables[].ddl / tables[].indexes / seed[].insert_statements)."
        )


def _schema_statements(bundle: Bundle) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Per table, in order: its DDL then its indexes, as (location, sql)."""
    for i, table in enumerate(bundle.tables):
        yield i, [(f"tables[{i}].ddl", table.ddl)] + [(f"tables[{i}].indexes[{j}]", sql) for j, sql in enumerate(table.indexes)]


def build_database(bundle: Bundle, conn: sqlite3.Connection) -> HydrationReport:
    """Create tables, indexes and seed rows in `conn` by the original rules, recording every failure."""
    report = HydrationReport()
    cursor = conn.cursor()
    for i, statements in _schema_statements(bundle):
        table = bundle.tables[i].name
        for location, sql in statements:
            try:
                cursor.execute(sql)
            except sqlite3.Error as exc:
                report.failures.append(StatementFailure(location, table, sql, str(exc)))
                break  # the original abandons the rest of this table
            if location.endswith(".ddl"):
                report.tables_created += 1
            else:
                report.indexes_created += 1
    conn.commit()
    cursor.execute("PRAGMA foreign_keys = ON")
    before = conn.total_changes
    for i, seed in enumerate(bundle.seed):
        for j, sql in enumerate(seed.insert_statements):
            try:
                cursor.execute(sql)
            except sqlite3.Error as exc:
                report.failures.append(StatementFailure(f"seed[{i}].insert_statements[{j}]", seed.table_name, sql, str(exc)))
    try:
        conn.commit()
    except sqlite3.Error as exc:  # e.g. a deferred foreign key: the original rolls the whole seed back
        conn.rollback()
        report.failures.append(StatementFailure("seed (commit)", "", "COMMIT", f"{exc}; no seed row was kept"))
        before = conn.total_changes
    report.rows_inserted = conn.total_changes - before
    cursor.execute("PRAGMA foreign_keys = OFF")  # the environment's own connections start with SQLite's default
    cursor.close()
    return report


def existing_tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def check_tables(bundle: Bundle, conn: sqlite3.Connection, report: HydrationReport, before_code: set[str]) -> None:
    """Fill in which declared tables the environment code created, and which are still missing."""
    present = existing_tables(conn)
    failed = {f.table for f in report.schema_failures if f.location.endswith(".ddl")}
    report.tables_from_code = [t.name for t in bundle.tables if t.name in failed and t.name not in before_code and t.name in present]
    report.missing_tables = [t.name for t in bundle.tables if t.name not in present]


def build_template_image(bundle: Bundle, *, allow_seed_errors: bool = False) -> tuple[bytes, HydrationReport]:
    """The database from the bundle's SQL alone (no environment code), serialized.

    Any failure raises unless `allow_seed_errors` (then seed failures are reported, and schema failures
    still raise): for callers that need the SQL to be clean. Serving builds its template in
    env_server.registry, where the environment code may still create what a DDL failed to.
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
