"""The bundle stages, in chain order (the scenario stage, which creates bundles, lives in stages.scenario)."""

from awm_release.synthesis.stages.base import BundleStage, GenSettings, StageContext
from awm_release.synthesis.stages.database import DatabaseStage
from awm_release.synthesis.stages.environment import EnvironmentStage
from awm_release.synthesis.stages.seed import SeedStage
from awm_release.synthesis.stages.spec import SpecStage
from awm_release.synthesis.stages.tasks import TaskStage
from awm_release.synthesis.stages.verifiers import VerifierStage

BUNDLE_STAGES: dict[str, BundleStage] = {
    stage.name: stage
    for stage in (TaskStage(), DatabaseStage(), SeedStage(), SpecStage(), EnvironmentStage(), VerifierStage())
}
STAGE_ORDER = ("scenario", *BUNDLE_STAGES)

__all__ = ["BUNDLE_STAGES", "STAGE_ORDER", "BundleStage", "GenSettings", "StageContext"]
