"""The release: bundles packed as the versioned Hugging Face dataset `awm/envs`, loaded back and published.

Modules, one job each: `splits` (the split recipe), `rows` and `schema` (bundle <-> row), `stats`, `card`,
`manifest`, `pack`, `load`, `publish`, and `cli` (`awm release ...`).
"""

from awm_release.release.errors import ReleaseError
from awm_release.release.load import load_bundles
from awm_release.release.manifest import Manifest, read_manifest

__all__ = ["ReleaseError", "Manifest", "load_bundles", "read_manifest"]
