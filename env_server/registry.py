"""The bundles a server serves, each hydrated once per process on first use."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from awm_release.bundle import Bundle
from awm_release.database import HydrationError, HydrationReport, build_template_image
from env_server.errors import EnvironmentLoadError, HostError
from env_server.runtime import Environment, load_environment

log = logging.getLogger("awm.serve")


@dataclass
class HydratedBundle:
    """Everything a session needs, built once: the template image and the loaded environment code."""

    bundle: Bundle
    environment: Environment
    image: bytes
    report: HydrationReport
    load_seconds: float


class BundleRegistry:
    """The bundles this server serves, hydrated on first use."""

    def __init__(self, bundles: dict[str, Bundle], *, allow_seed_errors: bool = False):
        self.bundles = bundles
        self.allow_seed_errors = allow_seed_errors
        self._hydrated: dict[str, HydratedBundle] = {}

    @property
    def default_bundle_id(self) -> str | None:
        """The bundle a request may omit when the server serves exactly one."""
        return next(iter(self.bundles)) if len(self.bundles) == 1 else None

    def resolve_id(self, bundle_id: str | None) -> str:
        if bundle_id is None:
            if self.default_bundle_id is None:
                raise HostError(400, "bundle_required", f"this server serves several bundles; name one of: {', '.join(self.bundles)}")
            return self.default_bundle_id
        if bundle_id not in self.bundles:
            served = ", ".join(self.bundles) or "(none)"
            raise HostError(404, "unknown_bundle", f"unknown bundle {bundle_id[:100]!r}; this server serves: {served}")
        return bundle_id

    def hydrate(self, bundle_id: str) -> HydratedBundle:
        """Build (once) the template database and load the code; errors name the bundle and the statement or line."""
        hydrated = self._hydrated.get(bundle_id)
        if hydrated is None:
            bundle = self.bundles[bundle_id]
            started = time.perf_counter()
            try:
                image, report = build_template_image(bundle, allow_seed_errors=self.allow_seed_errors)
                environment = load_environment(bundle)
            except (HydrationError, EnvironmentLoadError) as exc:  # the bundle, not the request, is broken
                raise HostError(500, "bundle_load_failed", str(exc)) from None
            for failure in report.failures:
                log.warning("bundle %s: seed statement skipped: %s", bundle_id, failure)
            hydrated = HydratedBundle(bundle, environment, image, report, time.perf_counter() - started)
            self._hydrated[bundle_id] = hydrated
            log.info("hydrated %s in %.0f ms (%d tools, %d rows)", bundle_id, hydrated.load_seconds * 1000,
                     len(environment.tools), report.rows_inserted)
        return hydrated

    def hydrated_ids(self) -> set[str]:
        return set(self._hydrated)

    @property
    def hydrated_count(self) -> int:
        return len(self._hydrated)
