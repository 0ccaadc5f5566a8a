"""Answer synthesis prompts from existing bundles: a stand-in model for tests, benchmarks and dry runs.

Served by awm_release.scripted_llm.ScriptedLLM, a ReplayResponder makes the pipeline rebuild known-good
bundles through the real protocol, so its accepted output is a real working environment:

    with ScriptedLLM(ReplayResponder(load_demo_bundles().values())) as llm:
        ...  # awm gen all RUN --base-url {llm.base_url} --model scripted-model --seed Bookstore ...

It recognizes the stage by the system prompt and the bundle by its description (a scenario's description
must contain a source bundle's description), so faults can be injected by wrapping it and looking at
`prompt_of(request)` and `attempt_of(request)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from awm_release.bundle import Bundle
from awm_release.names import normalize_scenario_name
from awm_release.synthesis import prompts

_SYSTEM_TO_PROMPT = {p.system: p.name for p in prompts.ALL_PROMPTS}
_ATTEMPT = re.compile(r"^Attempt (\d+):", re.MULTILINE)
_WANTED = re.compile(r"Invent (\d+) distinct applications")
_SEED = re.compile(r"^Seed domain: (.+)$", re.MULTILINE)


def prompt_of(request: dict[str, Any]) -> str:
    """The name of the prompt (prompts.Prompt.name) that a chat request was built from, or '' if none."""
    messages = request.get("messages") or [{}]
    return _SYSTEM_TO_PROMPT.get(messages[0].get("content", ""), "")


def attempt_of(request: dict[str, Any]) -> int:
    """1 for a first try; n when the request carries the summaries of n-1 failed attempts."""
    last = (request.get("messages") or [{}])[-1].get("content", "")
    return len(_ATTEMPT.findall(last)) + 1 if len(request.get("messages", [])) > 2 else 1


def user_text(request: dict[str, Any]) -> str:
    messages = request.get("messages") or []
    return messages[1].get("content", "") if len(messages) > 1 else ""


def category(bundle: Bundle) -> str:
    """`bookstore_1` -> `bookstore`: the seed domain a source bundle answers for."""
    return re.sub(r"_\d+$", "", bundle.bundle_id)


def fenced(payload: Any, lang: str = "json") -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, indent=1)
    return f"Here it is.\n```{lang}\n{body.rstrip()}\n```\n"


class ReplayResponder:
    """A ScriptedLLM responder that answers every synthesis prompt with the matching part of a source bundle."""

    def __init__(self, sources: Iterable[Bundle]):
        self.sources = list(sources)

    def source_for(self, text: str) -> Bundle | None:
        """The source whose description appears in `text` (the longest, if several do)."""
        found = [b for b in self.sources if b.description and b.description in text]
        return max(found, key=lambda b: len(b.description)) if found else None

    def __call__(self, request: dict[str, Any]) -> str | dict[str, Any]:
        name = prompt_of(request)
        text = user_text(request)
        if name == "summarize_failure":
            return "The previous attempt failed the automatic checks; fix exactly the errors listed and answer again in full."
        if name == "scenario_expand":
            return fenced({"scenarios": self._scenarios(text)})
        source = self.source_for(text)
        if source is None:
            if name == "scenario_classify":
                return fenced({"suitable": False, "reason": "no user-owned records to create, update or delete"})
            return {"status": 400, "message": f"replay: no source bundle matches this {name or 'unknown'} prompt"}
        return self._answer(name, source, text)

    def _scenarios(self, text: str) -> list[dict[str, str]]:
        seed = _SEED.search(text)
        wanted = _WANTED.search(text)
        matching = [b for b in self.sources if seed and category(b) == normalize_scenario_name(seed[1])]
        count = int(wanted[1]) if wanted else len(matching)
        out = []
        for k in range(count if matching else 0):
            source = matching[k % len(matching)]
            suffix = "" if k < len(matching) else f" This edition (number {k + 1}) serves a different client."
            out.append({"name": f"{source.display_name} {k + 1}", "description": source.description + suffix})
        return out

    def _answer(self, name: str, source: Bundle, text: str) -> str:
        if name == "scenario_classify":
            return fenced({"suitable": True, "reason": "users create, read, update and delete their own records"})
        if name == "tasks":
            return fenced({"tasks": source.tasks})
        if name == "db":
            return fenced({"tables": [t.model_dump() for t in source.tables]})
        if name == "sample":
            return fenced({"tables": [s.model_dump() for s in source.seed]})
        if name == "spec":
            return fenced(source.api_spec)
        if name == "env":
            return fenced(source.env_code or "", "python")
        if name in ("verifier_code", "verifier_sql"):
            idx = next((i for i, task in enumerate(source.tasks) if f"Task: {task}\n" in text), None)
            verifier = source.verifier_for(idx) if idx is not None else None
            part = getattr(verifier, "code" if name == "verifier_code" else "sql") if verifier else None
            return fenced(part.code if part else "", "python")
        return f"replay: unknown prompt {name!r}"
