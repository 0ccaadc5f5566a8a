"""Package attributes imported on first use (PEP 562), so importing one small module of a package does not import
everything its `__init__` names: the verifier fork servers import only awm_release.sandbox, and awm-serve's viewer
reads run folders through awm_release.agent without loading the OpenAI client."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports each name of `exports` from its module ({name: module})."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups find it without calling this again
        return value

    return __getattr__
