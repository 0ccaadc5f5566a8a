"""Comparing one call's outcome and database on both sides, and classifying the difference.

Outcome classes: `ok` (2xx/3xx), `tool_error` (4xx, or arguments refused), `crash` (5xx, the handler raised,
or no answer). Bodies are compared as JSON and databases table by table (rows as multisets). Timestamps
are equal within a few minutes: the two databases are built, and the calls made, moments apart, and the
seed writes `datetime('now', ...)`. What differs between two runs of the original on the same input
(uuid4 ids, random tokens) is masked by the caller.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

CLOCK_SKEW = timedelta(minutes=5)
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok", "tool_error" or "crash"
    status: int | None  # the HTTP status the handler answered, when known
    body: Any  # the parsed JSON body (for errors: FastAPI's `detail` when it has one), or text; never compared for a crash

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "body": self.body}


def outcome_of_response(status: int, content: bytes) -> Outcome:
    """An HTTP answer of the original server as an outcome."""
    try:
        body: Any = json.loads(content) if content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = content.decode("utf-8", "replace")
    if status < 400:
        return Outcome("ok", status, body)
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return Outcome("tool_error" if status < 500 else "crash", status, detail)


def outcome_of_call(payload: dict[str, Any]) -> Outcome:
    """awm-serve's `POST /sessions/{id}/call` answer as an outcome."""
    if payload.get("ok"):
        return Outcome("ok", None, payload.get("result"))
    error = payload.get("error") or {}
    kind = "crash" if error.get("type") in ("environment_error", "server_error") else "tool_error"
    return Outcome(kind, error.get("status"), error.get("detail", error.get("message")) if kind == "tool_error" else error.get("message"))


def same_outcome(ours: Outcome, original: Outcome, masked: set[str]) -> str | None:
    """None when they agree, else what differs (in words)."""
    if ours.kind != original.kind:
        return f"outcome {ours.kind} here ({_brief(ours)}), {original.kind} in the original ({_brief(original)})"
    if ours.kind == "crash":
        return None
    if ours.status is not None and original.status is not None and ours.status != original.status and ours.kind != "ok":
        return f"HTTP {ours.status} here, {original.status} in the original"
    differences = [p for p in json_differences(ours.body, original.body) if p not in masked]
    if differences:
        return f"body differs at {', '.join(differences[:5])}: here {_excerpt(ours.body)}, original {_excerpt(original.body)}"
    return None


def same_value(a: Any, b: Any) -> bool:
    """Equal, numerically equal, or two timestamps within CLOCK_SKEW of each other."""
    if a == b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, str) and isinstance(b, str) and _TIMESTAMP.match(a) and _TIMESTAMP.match(b):
        try:
            return abs(_moment(a) - _moment(b)) <= CLOCK_SKEW
        except (TypeError, ValueError):
            return False
    return False


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone().replace(tzinfo=None)


def json_differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """JSON paths where `a` and `b` differ (a whole subtree counts once)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                out.append(f"{path}.{key}")
            else:
                out += json_differences(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [path]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += json_differences(x, y, f"{path}[{i}]")
        return out
    return [] if same_value(a, b) else [path]


def _brief(outcome: Outcome) -> str:
    status = f"HTTP {outcome.status}: " if outcome.status else ""
    return status + _excerpt(outcome.body)[:120]


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


# ---------------------------------------------------------------------------------------------- databases

Dump = dict[str, Any]


def dump_database(conn: sqlite3.Connection) -> Dump:
    """Schema and rows of every table, rows sorted by their cells other than timestamps."""
    out: Dump = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"):
        rows = conn.execute(f'SELECT * FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchall()
        cells = [[v.hex() if isinstance(v, bytes) else v for v in row] for row in rows]
        out[name] = {"sql": " ".join((sql or "").split()), "rows": sorted(cells, key=_row_key)}
    return out


def _row_key(row: list[Any]) -> str:
    return json.dumps([None if isinstance(v, str) and _TIMESTAMP.match(v) else v for v in row], default=str)


def database_differences(ours: Dump, original: Dump, masked: set[str]) -> list[str]:
    """`table`, `table.schema` or a row where the databases differ (tables in `masked` differ between runs of the original)."""
    out = []
    for table in sorted(set(ours) | set(original)):
        if table not in ours or table not in original:
            out.append(f"{table} (only {'here' if table in ours else 'in the original'})")
            continue
        if ours[table]["sql"] != original[table]["sql"]:
            out.append(f"{table}.schema")
        if table in masked:
            continue
        mine, theirs = ours[table]["rows"], original[table]["rows"]
        if len(mine) != len(theirs):
            out.append(f"{table}: {len(mine)} row(s) here, {len(theirs)} in the original")
            continue
        for here, there in zip(mine, theirs):
            if len(here) != len(there) or not all(same_value(x, y) for x, y in zip(here, there)):
                out.append(f"{table}: row {_excerpt(here)} here, {_excerpt(there)} in the original")
                break
    return out


def volatile_tables(first: Dump, second: Dump) -> set[str]:
    """Tables whose rows differ between two runs of the original on the same input."""
    return {t for t in first if t in second and database_differences({t: first[t]}, {t: second[t]}, set())}
