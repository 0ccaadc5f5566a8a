"""Stage `task`: concrete, API-solvable, post-login tasks for one scenario."""

from __future__ import annotations

from typing import Any

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, scenario_fields
from awm_release.synthesis.validation import Check, check_tasks


class TaskStage(BundleStage):
    name = "task"
    title = "user tasks for the application, as JSON"
    needs = ("description",)

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        return [] if bundle.tasks else [""]

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        return prompts.TASKS.messages(**scenario_fields(bundle), count=settings.tasks_per_scenario)

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        return check_tasks(reply, ctx.settings.tasks_per_scenario)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        return bundle.model_copy(update={"tasks": value})
