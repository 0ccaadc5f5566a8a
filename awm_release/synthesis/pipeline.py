"""Chain the bundle stages over every bundle of a run, concurrently, skipping what is already accepted.

Each bundle walks the chain (task -> db -> sample -> spec -> env -> verifier) on its own, so a slow bundle
never holds up the others; the LLM client bounds the requests in flight, and `workers` processes each run
the environment checks and the verifier checks. A stage whose output the bundle already has is skipped
(that is resume), a rejected stage blocks the rest of that bundle's chain, and each bundle file is rewritten
once per stage. Items of a stage that keeps values (verifiers: twenty per bundle) are also kept in their
state files, so a run killed mid-stage loses none of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from awm_release.bundle import Bundle
from awm_release.synthesis.attempts import Job, JobResult, gather_all, run_job
from awm_release.synthesis.envcheck import EnvironmentChecker
from awm_release.synthesis.llm import LLMClient
from awm_release.synthesis.runfolder import RunFolder
from awm_release.synthesis.stages import BUNDLE_STAGES, BundleStage, GenSettings, StageContext
from awm_release.sandbox.verifier_pool import VerifierPool

# Outcome of one stage for one bundle.
ACCEPTED, PRESENT, REJECTED, BLOCKED = "accepted", "present", "rejected", "blocked"
ProgressCallback = Callable[[str, str], None]  # (stage, outcome)


@dataclass
class ChainSummary:
    """Outcomes per stage (accepted / present / rejected / blocked) and why bundles were blocked."""

    outcomes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    blocked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # stage -> "bundle: reason"


class Pipeline:
    """`async with Pipeline(run, llm, settings) as p: await p.run_chain(stages)`."""

    def __init__(self, run: RunFolder, llm: LLMClient, settings: GenSettings, *, bundles: dict[str, Bundle] | None = None,
                 on_done: ProgressCallback | None = None):
        self.run = run
        self.llm = llm
        self.settings = settings
        self.on_done = on_done or (lambda stage, outcome: None)
        self.bundles: dict[str, Bundle] = run.read_bundles() if bundles is None else bundles
        self.ctx = StageContext(settings, VerifierPool(size=settings.workers), EnvironmentChecker(size=settings.workers))

    async def __aenter__(self) -> Pipeline:
        await self.ctx.envs.start()  # the check servers import their libraries while the early stages run
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.ctx.pool.close()
        await self.ctx.envs.close()

    def add_bundles(self, bundles: list[Bundle]) -> None:
        for bundle in bundles:
            self.bundles[bundle.bundle_id] = bundle

    async def run_chain(self, stages: list[str], bundle_ids: list[str] | None = None) -> ChainSummary:
        """Run `stages` (in chain order) for the given bundles, or all of the run's bundles."""
        unknown = sorted(set(bundle_ids or ()) - set(self.bundles))
        if unknown:
            raise KeyError(f"no bundle {', '.join(unknown)} in {self.run.bundles_dir}; the run has: {', '.join(sorted(self.bundles)) or '(none)'}")
        summary = ChainSummary()
        ordered = [BUNDLE_STAGES[name] for name in BUNDLE_STAGES if name in stages]
        targets = bundle_ids or sorted(self.bundles)
        await gather_all([self._chain(bundle_id, ordered, summary) for bundle_id in targets])
        return summary

    async def _chain(self, bundle_id: str, stages: list[BundleStage], summary: ChainSummary) -> None:
        blocker: str | None = None
        for stage in stages:
            if blocker is None:
                blocker = stage.blocked_by(self.bundles[bundle_id])
            if blocker is not None:
                outcome = BLOCKED
                summary.blocked[stage.name].append(f"{bundle_id}: {blocker}")
            else:
                outcome = await self._stage(stage, bundle_id)
                if outcome == REJECTED:
                    blocker = f"stage {stage.name} was rejected (see `awm gen report`)"
            summary.outcomes[stage.name][outcome] += 1
            self.on_done(stage.name, outcome)

    async def _stage(self, stage: BundleStage, bundle_id: str) -> str:
        bundle = self._recovered(stage, self.bundles[bundle_id])
        keys = stage.pending(bundle, self.settings)
        if not keys:
            self._store(bundle)
            return PRESENT
        results = await gather_all([self._item(stage, bundle, key) for key in keys])
        for key, result in zip(keys, results):
            if result.ok:
                bundle = stage.apply(bundle, key, result.check.value)
        self._store(bundle)  # once per stage: a bundle file is large, and one write costs more than a check
        return ACCEPTED if all(r.ok for r in results) else REJECTED

    def _recovered(self, stage: BundleStage, bundle: Bundle) -> Bundle:
        """Apply items accepted by an interrupted earlier run whose values were kept in their state files."""
        if not stage.keeps_values:
            return bundle
        for key in stage.pending(bundle, self.settings):
            state = self.run.load_item(stage.name, stage.item_id(bundle.bundle_id, key))
            if state is not None and state.status == "accepted" and state.value is not None:
                bundle = stage.apply(bundle, key, state.value)
        return bundle

    def _store(self, bundle: Bundle) -> None:
        if bundle is not self.bundles[bundle.bundle_id]:
            self.bundles[bundle.bundle_id] = bundle
            self.run.save_bundle(bundle)

    async def _item(self, stage: BundleStage, bundle: Bundle, key: str) -> JobResult:
        async def check(reply: str):
            return await stage.check(bundle, key, reply, self.ctx)

        job = Job(stage.name, stage.item_id(bundle.bundle_id, key), bundle.bundle_id, stage.title,
                  stage.messages(bundle, key, self.settings), check, keep_value=stage.keeps_values)
        return await run_job(job, self.llm, self.run, self.settings.attempts)
