"""Stage `verifier`: per task, a code-mode and an sql-mode verifier that run on the seed database in the sandbox."""

from __future__ import annotations

from typing import Any

from awm_release.bundle import Bundle, TaskVerifiers, VerifierCode
from awm_release.synthesis import prompts
from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext, render_schema, render_seed, scenario_fields
from awm_release.synthesis.validation import Check, check_verifier

MODES = {"code": prompts.VERIFIER_CODE, "sql": prompts.VERIFIER_SQL}


def _key(task_idx: int, mode: str) -> str:
    return f"task_{task_idx:02d}.{mode}"


def _parse_key(key: str) -> tuple[int, str]:
    task, mode = key.split(".")
    return int(task.removeprefix("task_")), mode


class VerifierStage(BundleStage):
    name = "verifier"
    title = "a Python verification function for one task, comparing the initial and final SQLite databases"
    needs = ("tasks", "tables", "seed")
    keeps_values = True

    def pending(self, bundle: Bundle, settings: GenSettings) -> list[str]:
        keys = []
        for idx in range(len(bundle.tasks)):
            have = bundle.verifier_for(idx)
            keys += [_key(idx, mode) for mode in MODES if have is None or getattr(have, mode) is None]
        return keys

    def messages(self, bundle: Bundle, key: str, settings: GenSettings) -> list[dict[str, str]]:
        idx, mode = _parse_key(key)
        return MODES[mode].messages(**scenario_fields(bundle), task=bundle.tasks[idx], schema=render_schema(bundle),
                                    seed=render_seed(bundle))

    async def check(self, bundle: Bundle, key: str, reply: str, ctx: StageContext) -> Check:
        idx, mode = _parse_key(key)
        return await check_verifier(bundle, idx, mode, reply, ctx.seed_image(bundle), ctx.pool, ctx.settings.verifier_timeout_s)

    def apply(self, bundle: Bundle, key: str, value: Any) -> Bundle:
        idx, mode = _parse_key(key)
        verifiers = [v for v in bundle.verifiers if v.task_idx != idx]
        current = bundle.verifier_for(idx) or TaskVerifiers(task_idx=idx)
        verifiers.append(current.model_copy(update={mode: VerifierCode.model_validate(value)}))  # value may come from a state file
        return bundle.model_copy(update={"verifiers": sorted(verifiers, key=lambda v: v.task_idx)})
