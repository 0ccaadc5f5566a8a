"""Tools derived from an environment's FastAPI routes, and the mapping of flat arguments onto a request.

A tool is one route: name = `operation_id`, description = summary + description, and one JSON Schema
whose properties merge the path, query and body parameters (the shape agents and MCP clients expect).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from env_server.errors import ToolCallError

_REF_PREFIX = "#/components/schemas/"
_BODY_KEY = "body"  # argument name for a request body that is not a JSON object (e.g. a list)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    method: str
    path: str
    path_params: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    body_fields: tuple[str, ...] | None = None  # None: no body; (): a non-object body under "body"
    required: frozenset[str] = field(default_factory=frozenset)

    def public(self) -> dict[str, Any]:
        """The JSON an agent sees (MCP `Tool` field names)."""
        return {"name": self.name, "description": self.description, "inputSchema": self.input_schema}

    def build_request(self, arguments: dict[str, Any]) -> tuple[str, bytes, bytes | None]:
        """Split flat arguments into (path, query string, JSON body), rejecting unknown or missing names."""
        if not isinstance(arguments, dict):
            raise ToolCallError("invalid_arguments", f"arguments for {self.name} must be a JSON object, got {type(arguments).__name__}")
        known = set(self.input_schema.get("properties", {}))
        unknown = sorted(set(arguments) - known)
        if unknown:
            expected = ", ".join(sorted(known)) or "(none)"
            raise ToolCallError("invalid_arguments", f"unknown argument(s) {', '.join(unknown)} for tool {self.name}; expected: {expected}")
        absent = sorted(name for name in self.required if arguments.get(name) is None)
        if absent:
            raise ToolCallError("invalid_arguments", f"missing required argument(s) for tool {self.name}: {', '.join(absent)}")
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", quote(_scalar(arguments[name]), safe=""))
        query = urlencode(
            [(name, _scalar(v)) for name in self.query_params for v in _as_list(arguments.get(name))]
        ).encode("ascii")
        body: bytes | None = None
        if self.body_fields is not None:
            if self.body_fields:
                payload: Any = {k: v for k, v in arguments.items() if k in self.body_fields}
            else:
                payload = arguments.get(_BODY_KEY)
            body = json.dumps(payload).encode("utf-8")
        return path, query, body


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def tools_from_openapi(openapi: dict[str, Any]) -> list[Tool]:
    """One tool per operation of the app's OpenAPI document, in declaration order."""
    components = openapi.get("components", {}).get("schemas", {})
    tools: list[Tool] = []
    used: set[str] = set()
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            if method.lower() not in {"get", "post", "put", "patch", "delete"}:
                continue
            name = operation.get("operationId") or f"{method}_{path}".strip("/").replace("/", "_")
            while name in used:  # FastAPI only warns on duplicates; tools need unique names
                name += "_"
            used.add(name)
            tools.append(_tool(name, method.upper(), path, operation, components))
    return tools


def _tool(name: str, method: str, path: str, operation: dict[str, Any], components: dict[str, Any]) -> Tool:
    properties: dict[str, Any] = {}
    required: set[str] = set()
    path_params: list[str] = []
    query_params: list[str] = []
    for param in operation.get("parameters", []):
        where = param.get("in")
        if where not in ("path", "query"):
            continue  # headers and cookies are the host's business, not the agent's
        schema = dict(param.get("schema", {}))
        if param.get("description") and "description" not in schema:
            schema["description"] = param["description"]
        properties[param["name"]] = schema
        if param.get("required"):
            required.add(param["name"])
        (path_params if where == "path" else query_params).append(param["name"])
    body_fields: tuple[str, ...] | None = None
    content = operation.get("requestBody", {}).get("content", {})
    body_schema = (content.get("application/json") or {}).get("schema")
    if body_schema is not None:
        resolved = _resolve(body_schema, components)
        if resolved.get("type") == "object" or "properties" in resolved:
            body_props = resolved.get("properties", {})
            properties.update(body_props)
            required.update(resolved.get("required", []))
            body_fields = tuple(body_props)
        else:
            properties[_BODY_KEY] = body_schema
            if operation["requestBody"].get("required"):
                required.add(_BODY_KEY)
            body_fields = ()
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
        method=method,
        path=path,
        path_params=tuple(path_params),
        query_params=tuple(query_params),
        body_fields=body_fields,
        required=frozenset(required),
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
