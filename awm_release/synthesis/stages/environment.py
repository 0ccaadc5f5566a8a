"""Stage `env`: one FastAPI + SQLAlchemy file, accepted when the runtime loads it and every tool survives a probe."""

from __future__ import annotations

import json
from typing import Any

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.parsing import ReplyFormatError, extract_python
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, render_schema, scenario_fields
from awm_release.synthesis.validation import Check, reject


class EnvironmentStage(BundleStage):
    name = "env"
    title = "the environment: one Python file with a FastAPI app and SQLAlchemy models implementing the API spec"
    needs = ("description", "tables", "seed", "api_spec")

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        return [] if bundle.env_code is not None else [""]

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        return prompts.ENVIRONMENT.messages(**scenario_fields(bundle), schema=render_schema(bundle),
                                            spec=json.dumps(bundle.api_spec, indent=1, ensure_ascii=False))

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        try:
            code = extract_python(reply)
        except ReplyFormatError as exc:
            return reject("unparseable", str(exc))
        return await ctx.envs.check(bundle, code, ctx.seed_image(bundle), deadline_s=ctx.settings.env_deadline_s,
                                    call_timeout_s=ctx.settings.tool_timeout_s)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        return bundle.model_copy(update={"env_code": value})
