"""SQLite databases as the viewer shows them: opened read-only, tables listed, rows read a page at a time.

The files come from run folders and the images from bundles, so their content is untrusted: files are
opened read-only and immutable, schema-defined functions are not trusted (`trusted_schema=OFF`), views
are never read, and sqlite-utils runs no plugins. A table SQLite cannot read is reported, not raised.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import pathname2url

from awm_release.viewer.paging import PER_PAGE, Page, clamp

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.db import Table


class DatabaseUnreadable(ValueError):
    """A database file that is missing or is not SQLite; the message names the file."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: list[str]
    primary_key: list[str]  # ["rowid"] for tables without a declared primary key
    rows: int | None  # None when SQLite could not count them
    error: str | None = None


@dataclass(frozen=True)
class RowPage:
    table: str
    columns: list[str]
    rows: Page[list[Any]]


def _harden(conn: sqlite3.Connection) -> Database:
    from sqlite_utils import Database  # on first use: it imports pandas where present, 0.6 s of every awm-serve start

    conn.execute("PRAGMA trusted_schema = OFF")
    return Database(conn, recursive_triggers=False, execute_plugins=False)


@contextlib.contextmanager
def open_file(path: str | Path) -> Iterator[Database]:
    """A run folder's database, read-only and immutable (nothing can write it, and no journal is created)."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseUnreadable(f"{path} does not exist")
    conn = sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro&immutable=1", uri=True)
    try:
        db = _harden(conn)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnreadable(f"{path} is not a readable SQLite database: {exc}") from None
        yield db
    finally:
        conn.close()


@contextlib.contextmanager
def open_image(image: bytes) -> Iterator[Database]:
    """A private in-memory copy of a serialized database (a bundle's seed state)."""
    conn = sqlite3.connect(":memory:")
    try:
        try:
            conn.deserialize(image)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnreadable(f"the database image is not readable: {exc}") from None
        yield _harden(conn)
    finally:
        conn.close()


def user_tables(db: Database) -> list[str]:
    """Tables in name order, without SQLite's own (sqlite_sequence, sqlite_stat1, ...)."""
    return sorted(name for name in db.table_names() if not name.startswith("sqlite_"))


def primary_key(table: Table) -> list[str]:
    return ["rowid"] if table.use_rowid else table.pks


def describe_tables(db: Database) -> list[TableInfo]:
    infos = []
    for name in user_tables(db):
        table = db.table(name)
        try:
            infos.append(TableInfo(name, [c.name for c in table.columns], primary_key(table), table.count))
        except sqlite3.Error as exc:
            infos.append(TableInfo(name, [], [], None, f"SQLite cannot read it: {exc}"))
    return infos


def row_page(db: Database, name: str, number: int, per_page: int = PER_PAGE) -> RowPage:
    """Rows of one table in primary-key order; `number` counts from 1 and is clamped to the last page."""
    if name not in user_tables(db):
        raise KeyError(f"no table {name!r}; tables: {', '.join(user_tables(db)) or '(none)'}")
    table = db.table(name)
    total = table.count
    number, pages, offset = clamp(total, number, per_page)
    columns = [c.name for c in table.columns]
    order = ", ".join(_quote(c) for c in primary_key(table))
    rows = [[row[c] for c in columns] for row in
            table.rows_where(select=", ".join(_quote(c) for c in columns), order_by=order, limit=per_page, offset=offset)]
    return RowPage(name, columns, Page(rows, number, pages, total))


def show_value(value: Any, limit: int = 300) -> str:
    """A cell as text: NULL, a byte count for blobs, long text cut at `limit` characters."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _quote(identifier: str) -> str:
    return identifier if identifier == "rowid" else '"' + identifier.replace('"', '""') + '"'
