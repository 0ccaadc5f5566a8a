"""Stage `sample`: seed INSERTs that make every task feasible, accepted when (nearly) every statement runs."""

from __future__ import annotations

from typing import Any

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, render_schema, render_tasks, scenario_fields
from awm_release.synthesis.validation import Check, check_seed


class SeedStage(BundleStage):
    name = "sample"
    title = "seed data (INSERT statements per table), as JSON"
    needs = ("description", "tasks", "tables")

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        return [] if bundle.seed else [""]

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        return prompts.SEED.messages(**scenario_fields(bundle), tasks=render_tasks(bundle), schema=render_schema(bundle))

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        return check_seed(bundle, reply, ctx.settings.max_failure_ratio)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        return bundle.model_copy(update={"seed": value})
