"""The calls the checker makes: arguments from the spec's examples and from seed rows, create-then-read
sequences per resource, and strings that stress encoding in every parameter location.

A case is one or more steps; a step's argument may name a value from an earlier step's answer
(`FromStep`), so a read can ask for what the create just made.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from awm_release.check.routing import RouteTable
from awm_release.synthesis.probe import probe_arguments, spec_endpoints
from env_server.tools import Tool

# Space and colon, slash, a percent sign alone and before hex digits, query and fragment delimiters, quotes,
# non-ASCII, nothing. Characters that fail the same way share a value; those that fail differently do not.
STRESS = ("a b:c", "a/b", "100% %41", "a?b=c#d", "it's \"quoted\"", "é漢字🙂", "")


@dataclass(frozen=True)
class FromStep:
    """An argument taken from step `step`'s answer: the id of what it created (for parameter `name`)."""

    step: int
    name: str


@dataclass
class Case:
    kind: str  # "example", "seed", "stress" or "sequence"
    label: str
    steps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def example_arguments(tool: dict[str, Any], endpoint: dict[str, Any] | None) -> dict[str, Any]:
    """The arguments `awm gen`'s environment check probes with: the spec's example per parameter, else the
    schema's, and a typed placeholder for a required one without."""
    schema = tool.get("inputSchema", {})
    return probe_arguments(Tool(tool["name"], "", schema, "", "", required=frozenset(schema.get("required", []))), endpoint)


def is_string(prop: dict[str, Any]) -> bool:
    options = prop.get("anyOf") or prop.get("oneOf") or [prop]
    return any(o.get("type") == "string" and not o.get("format") for o in options)


class SeedValues:
    """Values from the seed database to use as arguments: by column name, and ids by table."""

    def __init__(self, conn: sqlite3.Connection):
        self.columns: dict[str, list[Any]] = {}
        self.ids: dict[str, list[Any]] = {}
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            quoted = table.replace('"', '""')
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{quoted}")')]
            rows = conn.execute(f'SELECT * FROM "{quoted}" ORDER BY rowid').fetchall()
            if not rows:
                continue
            for i, column in enumerate(columns):
                values = [r[i] for r in (rows[0], rows[-1]) if r[i] is not None and not isinstance(r[i], bytes)]
                self.columns.setdefault(column, values)
                if column == "id":
                    self.ids[table] = values

    def for_parameter(self, name: str, path: str, which: int) -> Any:
        """A seed value for parameter `name` of a route on `path`: row `which` (0 first, -1 last), or None."""
        candidates = None
        if name.endswith("_id"):
            stem = name[:-3]
            candidates = next((v for t, v in self.ids.items() if t in (stem, stem + "s", stem + "es") or t == stem[:-1] + "ies"), None)
        elif name == "id":
            segment = next((s for s in reversed(path.split("/")) if s and not s.startswith("{")), "")
            candidates = self.ids.get(segment) or self.ids.get(segment.replace("-", "_"))
        candidates = candidates or self.columns.get(name)
        if not candidates:
            return None
        return candidates[0 if which == 0 else -1]


def build_cases(tools: list[dict[str, Any]], api_spec: dict[str, Any] | None, seeds: SeedValues, routes: RouteTable) -> list[Case]:
    """All cases for one bundle, tool by tool, then the create-then-read sequences."""
    endpoints = spec_endpoints(api_spec or {})
    cases: list[Case] = []
    by_name = {t["name"]: t for t in tools}
    base: dict[str, dict[str, Any]] = {}
    for tool in tools:
        name = tool["name"]
        arguments = example_arguments(tool, endpoints.get(name.rstrip("_")))
        base[name] = arguments
        cases.append(Case("example", f"{name} with the spec's examples", [(name, arguments)]))
        route = routes.own_route(name)
        path = route.path if route else ""
        for which, label in ((0, "first"), (-1, "last")):
            seeded = dict(arguments)
            for param in tool.get("inputSchema", {}).get("properties", {}):
                value = seeds.for_parameter(param, path, which)
                if value is not None:
                    seeded[param] = value
            if seeded != arguments and (which == 0 or seeded != cases[-1].steps[0][1]):
                cases.append(Case("seed", f"{name} with the {label} seed row's values", [(name, seeded)]))
        strings = [p for p, prop in tool.get("inputSchema", {}).get("properties", {}).items() if is_string(prop)]
        if strings:
            for value in STRESS:
                cases.append(Case("stress", f"{name} with {', '.join(strings)} = {value!r}", [(name, {**arguments, **dict.fromkeys(strings, value)})]))
    cases += _sequences(by_name, base, routes)
    return cases


def _sequences(tools: dict[str, dict[str, Any]], base: dict[str, dict[str, Any]], routes: RouteTable) -> list[Case]:
    """Per resource: create it (POST on a collection), then read it back (GET on the collection/{id}) and list it."""
    located = {name: routes.own_route(name) for name in tools}
    cases = []
    for create, route in located.items():
        if route is None or route.method != "POST":
            continue
        for read, other in located.items():
            if other is None or other.method != "GET":
                continue
            one = re.fullmatch(re.escape(route.path) + r"/\{([^}:]+)(?::[^}]*)?\}", other.path)
            if one:
                arguments = {**base[read], **{k: v for k, v in base[create].items() if k in base[read]}, one[1]: FromStep(0, one[1])}
                cases.append(Case("sequence", f"{create} then {read}", [(create, base[create]), (read, arguments)]))
            elif other.path == route.path:
                arguments = {**base[read], **{k: v for k, v in base[create].items() if k in base[read]}}
                cases.append(Case("sequence", f"{create} then {read}", [(create, base[create]), (read, arguments)]))
    return cases


def created_id(answer: Any, name: str) -> Any:
    """The id of what a create answered, for parameter `name` (`playlist_id`: that key, else `id` under `playlist`, else `id`)."""
    stem = name[:-3] if name.endswith("_id") else None
    for candidate in _dicts(answer):
        if name in candidate and not isinstance(candidate[name], dict | list):
            return candidate[name]
    if stem and isinstance(answer, dict) and isinstance(answer.get(stem), dict) and "id" in answer[stem]:
        return answer[stem]["id"]
    return next((d["id"] for d in _dicts(answer) if "id" in d and not isinstance(d["id"], dict | list)), None)


def _dicts(value: Any, depth: int = 2) -> list[dict[str, Any]]:
    """`value` and the dicts inside it, breadth first, `depth` levels deep."""
    if not isinstance(value, dict):
        return []
    found = [value]
    if depth:
        for inner in value.values():
            found += _dicts(inner, depth - 1)
    return found
