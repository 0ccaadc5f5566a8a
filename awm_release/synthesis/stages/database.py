"""Stage `db`: the SQLite schema that the tasks need, accepted when (nearly) every table builds."""

from __future__ import annotations

from typing import Any

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, render_tasks, scenario_fields
from awm_release.synthesis.validation import Check, check_schema


class DatabaseStage(BundleStage):
    name = "db"
    title = "the SQLite schema (CREATE TABLE and CREATE INDEX statements), as JSON"
    needs = ("description", "tasks")

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        return [] if bundle.tables else [""]

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        return prompts.DATABASE.messages(**scenario_fields(bundle), tasks=render_tasks(bundle))

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        return check_schema(reply, ctx.settings.max_failure_ratio)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        return bundle.model_copy(update={"tables": value})
