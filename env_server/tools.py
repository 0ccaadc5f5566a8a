"""Tools derived from an environment's FastAPI routes, and the mapping of flat arguments onto a request.

A tool is one route: name = `operation_id`, description = summary + description, and one JSON Schema
whose properties merge the path, query, header and body parameters (the shape agents and MCP clients expect).

Arguments become a request exactly as the original AWM runtime's MCP layer (fastapi-mcp 0.4) builds it, so
an agent's call means the same thing here: path and query parameters are taken out by name, header
parameters become headers, and whatever remains (unknown names included) is the JSON body, sent only by
POST, PUT and PATCH and only when something remains. One deliberate difference: the original splices path
values into the URL unescaped, so a `/`, `?`, `#` or `%` in a value reaches the handler mangled or reaches
another route; here every tool calls its own route with its path values intact (env_server.runtime).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from awm_release.routes import HTTP_METHODS
from env_server.errors import ToolCallError

_REF_PREFIX = "#/components/schemas/"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Request:
    """What one call sends: path parameter values (as strings), query string, headers and JSON body."""

    path_params: dict[str, str]
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes | None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    method: str
    path: str
    path_params: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    header_params: tuple[str, ...] = ()
    required: frozenset[str] = field(default_factory=frozenset)
    route: Any = field(default=None, compare=False, repr=False)  # the route it runs (None: dispatched by path)

    def public(self) -> dict[str, Any]:
        """The JSON an agent sees (MCP `Tool` field names)."""
        return {"name": self.name, "description": self.description, "inputSchema": self.input_schema}

    def build_request(self, arguments: dict[str, Any]) -> Request:
        """Split flat arguments as the original runtime does; a missing path value is refused (it would name no resource)."""
        if not isinstance(arguments, dict):
            raise ToolCallError("invalid_arguments", f"arguments for {self.name} must be a JSON object, got {type(arguments).__name__}")
        rest = dict(arguments)
        absent = [name for name in self.path_params if name not in rest]
        if absent:
            raise ToolCallError("invalid_arguments", f"missing required argument(s) for tool {self.name}: {', '.join(absent)}",
                                status=422)
        path_values = {name: str(rest.pop(name)) for name in self.path_params}
        query = {name: rest.pop(name) for name in self.query_params if name in rest}
        headers = {name: rest.pop(name) for name in self.header_params if name in rest}
        try:
            query_string = str(httpx.QueryParams(query)).encode("ascii")
            header_list = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in httpx.Headers(headers).multi_items()]
            body = None
            if rest and self.method in _BODY_METHODS:
                body = json.dumps(rest, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError) as exc:
            raise ToolCallError("invalid_arguments", f"arguments for {self.name} cannot be sent: {exc}") from None
        return Request(path_values, query_string, header_list, body)


def tools_from_openapi(openapi: dict[str, Any]) -> list[Tool]:
    """One tool per operation of an OpenAPI document, in declaration order (dispatched by path)."""
    tools: list[Tool] = []
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method.lower() in HTTP_METHODS:
                tools.append(tool_from_operation(method, path, operation, openapi))
    return unique_names(tools)


def unique_names(tools: list[Tool]) -> list[Tool]:
    """FastAPI only warns on a repeated operation_id; tools need unique names, so later ones get a `_` suffix."""
    used: set[str] = set()
    out = []
    for tool in tools:
        name = tool.name
        while name in used:
            name += "_"
        used.add(name)
        out.append(tool if name == tool.name else replace(tool, name=name))
    return out


def tool_from_operation(method: str, path: str, operation: dict[str, Any], openapi: dict[str, Any], route: Any = None) -> Tool:
    """The tool for one OpenAPI operation; `openapi` supplies the component schemas its `$ref`s point at."""
    components = openapi.get("components", {}).get("schemas", {})
    name = operation.get("operationId") or f"{method}_{path}".strip("/").replace("/", "_")
    properties: dict[str, Any] = {}
    required: set[str] = set()
    located: dict[str, list[str]] = {"path": [], "query": [], "header": []}
    for param in operation.get("parameters", []):
        where = param.get("in")
        if where not in located:
            continue  # cookies: the original runtime does not pass them either
        schema = dict(param.get("schema", {}))
        if param.get("description") and "description" not in schema:
            schema["description"] = param["description"]
        properties[param["name"]] = schema
        if param.get("required") or where == "path":
            required.add(param["name"])
        located[where].append(param["name"])
    content = operation.get("requestBody", {}).get("content", {})
    body_schema = next(iter(content.values()), {}).get("schema") if content else None
    if body_schema is not None:
        resolved = _resolve(body_schema, components)
        properties.update(resolved.get("properties", {}))
        required.update(resolved.get("required", []))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = sorted(required)
    refs = _referenced(properties, components)
    if refs:
        schema["$defs"] = {ref: components[ref] for ref in sorted(refs)}
    schema = _rewrite_refs(schema)
    summary = operation.get("summary", "")
    detail = operation.get("description", "")
    description = summary if not detail or detail == summary else (f"{summary}\n\n{detail}" if summary else detail)
    return Tool(
        name=name,
        description=description,
        input_schema=schema,
        method=method.upper(),
        path=path,
        path_params=tuple(located["path"]),
        query_params=tuple(located["query"]),
        header_params=tuple(located["header"]),
        required=frozenset(required),
        route=route,
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 16:
        schema = components.get(schema["$ref"].removeprefix(_REF_PREFIX), {})
        seen += 1
    return schema


def _referenced(node: Any, components: dict[str, Any], found: set[str] | None = None) -> set[str]:
    """Names of component schemas reachable from `node` (transitively)."""
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            name = ref.removeprefix(_REF_PREFIX)
            if name not in found and name in components:
                found.add(name)
                _referenced(components[name], components, found)
        for value in node.values():
            _referenced(value, components, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, components, found)
    return found


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace(_REF_PREFIX, "#/$defs/") if k == "$ref" and isinstance(v, str) else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node
