"""awm-release: Agent World Model environments as versioned bundles, served fast for agentic RL.

The names below load on first use, so that processes which import one small module of the package (the
sandboxed verifier fork servers import only awm_release.sandbox) do not pay for pydantic, pyarrow and rich.
"""

from awm_release.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Bundle": "awm_release.bundle",
    "BundleError": "awm_release.bundle",
    "TableSchema": "awm_release.bundle",
    "SeedTable": "awm_release.bundle",
    "TaskVerifiers": "awm_release.bundle",
    "VerifierCode": "awm_release.bundle",
    "read_bundle": "awm_release.bundle_io",
    "write_bundle": "awm_release.bundle_io",
    "iter_bundle_files": "awm_release.bundle_io",
    "normalize_scenario_name": "awm_release.names",
    "load_bundles": "awm_release.release.load",
}

__all__ = [*_EXPORTS, "__version__"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
