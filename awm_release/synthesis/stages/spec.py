"""Stage `spec`: the tool-level API spec (AWM's api_groups format), checked for structure and consistency."""

from __future__ import annotations

from typing import Any

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, render_schema, render_tasks, scenario_fields
from awm_release.synthesis.validation import Check, check_spec


class SpecStage(BundleStage):
    name = "spec"
    title = "the REST API spec (api_groups with endpoints), as JSON"
    needs = ("description", "tasks", "tables")

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        return [] if bundle.api_spec is not None else [""]

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        return prompts.SPEC.messages(**scenario_fields(bundle), tasks=render_tasks(bundle), schema=render_schema(bundle))

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        return check_spec(bundle, reply)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        return bundle.model_copy(update={"api_spec": value})
