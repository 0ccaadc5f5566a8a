"""What every bundle stage provides, the settings and shared resources its checks use, and prompt renderers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from awm_release.bundle import Bundle
from awm_release.database import build_template_image
from awm_release.synthesis.envcheck import EnvironmentChecker
from awm_release.synthesis.validation import Check
from awm_release.sandbox.verifier_pool import VerifierPool


@dataclass(frozen=True)
class GenSettings:
    """Knobs of the pipeline itself (the model's are in LLMSettings)."""

    attempts: int = 5
    tasks_per_scenario: int = 10
    max_failure_ratio: float = 0.10
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    env_deadline_s: float = 120.0
    tool_timeout_s: float = 10.0
    verifier_timeout_s: float = 30.0


@dataclass
class StageContext:
    """Resources shared by the checks of one run: verifier and environment-check processes, cached seed databases."""

    settings: GenSettings
    pool: VerifierPool
    envs: EnvironmentChecker
    _images: dict[str, tuple[list, list, bytes]] = field(default_factory=dict)

    def seed_image(self, bundle: Bundle) -> bytes:
        """The bundle's seed database image, built once per (tables, seed) pair.

        Bundles are updated with model_copy, which keeps unchanged fields as the same list objects, so identity
        tells whether tables or seed changed; the cache holds the lists, so their ids cannot be reused.
        """
        cached = self._images.get(bundle.bundle_id)
        if cached is None or cached[0] is not bundle.tables or cached[1] is not bundle.seed:
            image, _ = build_template_image(bundle)
            cached = self._images[bundle.bundle_id] = (bundle.tables, bundle.seed, image)
        return cached[2]


# Parts of a bundle a stage may need, how to tell they are there, and which command makes them.
PARTS: dict[str, tuple[Callable[[Bundle], bool], str]] = {
    "description": (lambda b: bool(b.description.strip()), "scenario"),
    "tasks": (lambda b: bool(b.tasks), "task"),
    "tables": (lambda b: bool(b.tables), "db"),
    "seed": (lambda b: bool(b.seed), "sample"),
    "api_spec": (lambda b: b.api_spec is not None, "spec"),
}


class BundleStage:
    """One stage over bundles. Items are keys within a bundle ("" when the stage makes one part per bundle)."""

    name: str
    title: str  # what the stage produces, in words (for the failure summarizer)
    needs: tuple[str, ...] = ()
    keeps_values: bool = False  # many small items per bundle: keep each accepted value in its state file

    def blocked_by(self, bundle: Bundle) -> str | None:
        """Why the stage cannot run on `bundle` yet, or None."""
        absent = [part for part in self.needs if not PARTS[part][0](bundle)]
        if not absent:
            return None
        commands = sorted({PARTS[part][1] for part in absent})
        return f"needs {', '.join(absent)} (run `awm gen {' / '.join(commands)}` first)"

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        """Keys still to produce; empty when the bundle already has this stage's output."""
        raise NotImplementedError

    def item_id(self, bundle_id: str, key: str) -> str:
        return f"{bundle_id}.{key}" if key else bundle_id

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        raise NotImplementedError

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        raise NotImplementedError

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        raise NotImplementedError


def render_tasks(bundle: Bundle) -> str:
    return "\n".join(f"{i}. {task}" for i, task in enumerate(bundle.tasks, start=1))


def render_schema(bundle: Bundle) -> str:
    return "\n\n".join("\n".join([table.ddl, *table.indexes]) for table in bundle.tables)


def render_seed(bundle: Bundle) -> str:
    return "\n".join(sql for table in bundle.seed for sql in table.insert_statements)


def scenario_fields(bundle: Bundle) -> dict[str, str]:
    return {"name": bundle.display_name, "description": bundle.description}
