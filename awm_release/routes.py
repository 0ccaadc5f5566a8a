"""The routes an environment's code declares, read from its syntax tree without running it.

Bundle code is untrusted, so the tools that count, check or report on it (import, release statistics)
read its decorators instead of importing it: `@app.get("/path", operation_id=...)` and the other HTTP
methods, `@app.api_route(..., methods=[...])` and `app.add_api_route(...)`. The served tool list comes
from the loaded app (env_server.runtime); for generated AWM code the two agree.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

HTTP_METHODS = ("get", "post", "put", "patch", "delete")  # what becomes a tool, here and in the original runtime


@dataclass(frozen=True)
class DeclaredRoute:
    method: str  # upper case
    path: str
    operation_id: str | None
    function: str
    line: int


def declared_routes(env_code: str | None) -> list[DeclaredRoute] | None:
    """Every route the code declares at module level, in order; None when there is no code or it does not parse."""
    tree = parse_code(env_code)
    if tree is None:
        return None
    routes: list[DeclaredRoute] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                routes += _from_call(decorator, node.name, decorator.lineno)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) \
                and node.value.func.attr == "add_api_route":
            call = node.value
            endpoint = call.args[1] if len(call.args) > 1 else _keyword(call, "endpoint")
            routes += _route(call, "add_api_route", getattr(endpoint, "id", "?"), call.lineno)
    return routes


@lru_cache(maxsize=4)
def parse_code(code: str | None) -> ast.Module | None:
    """The syntax tree of a bundle's code (environment or verifier; the last few are kept for callers that read the
    same bundle), or None if there is none or it does not parse."""
    if code is None:
        return None
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def duplicate_routes(routes: list[DeclaredRoute]) -> list[list[DeclaredRoute]]:
    """Groups of two or more routes on one method and path (the original runtime serves only one of each)."""
    groups: dict[tuple[str, str], list[DeclaredRoute]] = defaultdict(list)
    for route in routes:
        groups[(route.method, route.path)].append(route)
    return [group for group in groups.values() if len(group) > 1]


def _from_call(node: ast.expr, function: str, line: int) -> list[DeclaredRoute]:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return []
    return _route(node, node.func.attr, function, line)


def _route(call: ast.Call, kind: str, function: str, line: int) -> list[DeclaredRoute]:
    path_node = call.args[0] if call.args else _keyword(call, "path")
    if not (isinstance(path_node, ast.Constant) and isinstance(path_node.value, str)):
        return []
    operation = _keyword(call, "operation_id")
    operation_id = operation.value if isinstance(operation, ast.Constant) and isinstance(operation.value, str) else None
    if kind in HTTP_METHODS:
        methods = [kind]
    elif kind in ("api_route", "add_api_route"):
        listed = _keyword(call, "methods")
        methods = [e.value.lower() for e in getattr(listed, "elts", []) if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        methods = [m for m in methods if m in HTTP_METHODS] if listed is not None else ["get"]
    else:
        return []
    return [DeclaredRoute(m.upper(), path_node.value, operation_id, function, line) for m in methods]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
