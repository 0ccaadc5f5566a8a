"""What an episode changed: the initial -> final database diff as added, removed and changed rows per table.

Rows are matched by primary key (rowid for tables without one). Both the viewer and `awm runs diff` use
this; it reads every row of both databases, which AWM's small per-environment databases make cheap.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awm_release.viewer.tables import open_file, primary_key, user_tables

if TYPE_CHECKING:
    from sqlite_utils import Database

ROWS_SHOWN = 200  # per table and kind; the counts are always exact


@dataclass
class ChangedRow:
    key: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed_columns(self) -> list[str]:
        return [c for c in self.after if self.before.get(c) != self.after[c] or c not in self.before]


@dataclass
class TableDiff:
    table: str
    columns: list[str]
    key: list[str]
    status: str = "changed"  # changed | added (table created) | dropped | unreadable
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ChangedRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "removed": 0, "changed": 0})
    note: str | None = None  # schema change, or why the table could not be read

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "status": self.status, "key": self.key, "counts": self.counts, "note": self.note,
                "added": self.added, "removed": self.removed,
                "changed": [{"key": c.key, "before": c.before, "after": c.after} for c in self.changed]}


@dataclass
class DatabaseDiff:
    tables: list[TableDiff]  # only tables with a difference
    unchanged: list[str]

    @property
    def empty(self) -> bool:
        return not self.tables

    def to_json(self) -> dict[str, Any]:
        return {"tables": [t.to_json() for t in self.tables], "unchanged": self.unchanged}


def diff_files(initial: str | Path, final: str | Path) -> DatabaseDiff:
    with open_file(initial) as before, open_file(final) as after:
        return diff_databases(before, after)


def diff_databases(before: Database, after: Database) -> DatabaseDiff:
    names_before, names_after = set(user_tables(before)), set(user_tables(after))
    tables, unchanged = [], []
    for name in sorted(names_before | names_after):
        try:
            diff = _diff_table(before if name in names_before else None, after if name in names_after else None, name)
        except sqlite3.Error as exc:
            diff = TableDiff(name, [], [], status="unreadable", note=f"SQLite cannot read it: {exc}")
        if diff is None:
            unchanged.append(name)
        else:
            tables.append(diff)
    return DatabaseDiff(tables, unchanged)


def _diff_table(before: Database | None, after: Database | None, name: str) -> TableDiff | None:
    source = after if after is not None else before
    assert source is not None
    table = source.table(name)
    key = primary_key(table)
    columns = [c.name for c in table.columns]
    rows_before = _rows(before, name, key) if before is not None else {}
    rows_after = _rows(after, name, key) if after is not None else {}
    diff = TableDiff(name, columns, key, status="added" if before is None else "dropped" if after is None else "changed")
    if before is not None and after is not None:
        old_columns = [c.name for c in before.table(name).columns]
        if old_columns != columns:
            diff.note = f"columns changed: {', '.join(old_columns)} -> {', '.join(columns)}"
    for row_key, row in rows_after.items():
        old = rows_before.get(row_key)
        if old is None:
            diff.counts["added"] += 1
            if len(diff.added) < ROWS_SHOWN:
                diff.added.append(row)
        elif old != row:
            diff.counts["changed"] += 1
            if len(diff.changed) < ROWS_SHOWN:
                diff.changed.append(ChangedRow(dict(zip(key, row_key)), old, row))
    for row_key, row in rows_before.items():
        if row_key not in rows_after:
            diff.counts["removed"] += 1
            if len(diff.removed) < ROWS_SHOWN:
                diff.removed.append(row)
    if diff.status == "changed" and diff.note is None and not any(diff.counts.values()):
        return None
    return diff


def _rows(db: Database, name: str, key: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    select = "rowid, *" if key == ["rowid"] else "*"
    rows = {}
    for row in db.table(name).rows_where(select=select):
        row_key = tuple(row[k] for k in key)
        if key == ["rowid"]:
            row = {k: v for k, v in row.items() if k != "rowid"}
        rows[row_key] = row
    return rows
