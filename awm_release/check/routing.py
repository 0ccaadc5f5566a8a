"""Where the original runtime's request for a tool call actually goes, read from the code's declared routes.

awm-serve runs each tool's own handler with its arguments intact (env_server.tools). The original cannot
always: of two routes on one method and path it serves one tool and runs the first handler; a route
declared after a matching template (`/items/{id}` before `/items/search`) is never reached; and a path
value holding `/`, `?`, `#`, `%XX` or nothing is spliced into the URL unescaped, so the handler gets
another value or another route gets the call. Where that happens the two sides are expected to differ:
those cases are deliberate improvements, reported as such, not divergences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from awm_release.routes import DeclaredRoute

_CONVERTERS = {"str": "[^/]+", "path": ".*", "int": "[0-9]+", "float": r"[0-9]+(?:\.[0-9]+)?",
               "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"}
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}")


def operation_id(route: DeclaredRoute) -> str:
    """The id FastAPI gives the route: its `operation_id`, else `{function}{path}_{method}` with non-word characters as `_`."""
    return route.operation_id or re.sub(r"\W", "_", f"{route.function}{route.path}") + f"_{route.method.lower()}"


def template_regex(path: str) -> re.Pattern[str]:
    pattern, last = "^", 0
    for match in _PARAM.finditer(path):
        pattern += re.escape(path[last:match.start()]) + f"(?P<{match[1]}>{_CONVERTERS.get(match[2] or 'str', '[^/]+')})"
        last = match.end()
    return re.compile(pattern + re.escape(path[last:]) + "$")


@dataclass(frozen=True)
class RouteTable:
    routes: list[DeclaredRoute]

    def own_route(self, tool: str) -> DeclaredRoute | None:
        """The route awm-serve runs for `tool` (a name with k trailing `_` is the (k+1)-th route with that id)."""
        base = tool.rstrip("_")
        matches = [r for r in self.routes if operation_id(r) == base]
        k = len(tool) - len(base)
        return matches[k] if k < len(matches) else None

    def reached(self, method: str, path: str) -> DeclaredRoute | None:
        """The route Starlette picks for a request: the first whose template and method match."""
        for route in self.routes:
            if route.method == method.upper() and template_regex(route.path).match(path):
                return route
        return None


def misrouted(table: RouteTable, tool: str, original_target: tuple[str, str] | None, arguments: dict[str, object]) -> str | None:
    """Why the original cannot run `tool`'s own handler with these arguments, or None when it does."""
    own = table.own_route(tool)
    if own is None:
        return None  # routes the code declares in ways not read statically: no claim either way
    if original_target is None:
        return f"the original serves no tool {tool!r} (another route on {own.method} {own.path} took its place)"
    absent = [name for name, _ in _PARAM.findall(own.path) if name not in arguments]
    if absent:
        return f"the original sends the literal {{{absent[0]}}} in the path (awm-serve refuses the call as missing {absent[0]})"
    method, template = original_target
    concrete = template
    for name in _PARAM.findall(template):
        if name[0] in arguments:
            concrete = concrete.replace("{" + (f"{name[0]}:{name[1]}" if name[1] else name[0]) + "}", str(arguments[name[0]]))
    received = httpx.URL("http://original" + concrete).path  # what the server decodes from the URL httpx sends
    reached = table.reached(method, received)
    if reached is None:
        return f"the original's request {method.upper()} {received!r} reaches no route"
    if reached.line != own.line:
        return f"the original's request reaches {operation_id(reached)} (line {reached.line}), not {tool}'s own handler"
    values = template_regex(own.path).match(received)
    for name, _ in _PARAM.findall(own.path):
        if name in arguments and values is not None and values.group(name) != str(arguments[name]):
            return f"the original passes {name}={values.group(name)!r}, not {str(arguments[name])!r} (path values are not escaped there)"
    return None
