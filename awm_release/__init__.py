"""awm-release: Agent World Model environments as versioned bundles, served fast for agentic RL."""

from awm_release.bundle import Bundle, BundleError, TableSchema, SeedTable, TaskVerifiers, VerifierCode
from awm_release.bundle_io import read_bundle, write_bundle, iter_bundle_files
from awm_release.names import normalize_scenario_name
from awm_release.release.load import load_bundles

__version__ = "0.1.0"

__all__ = [
    "Bundle",
    "BundleError",
    "TableSchema",
    "SeedTable",
    "TaskVerifiers",
    "VerifierCode",
    "read_bundle",
    "write_bundle",
    "iter_bundle_files",
    "normalize_scenario_name",
    "load_bundles",
    "__version__",
]
