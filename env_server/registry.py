"""The bundles a server serves, each hydrated once per process on first use."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

from awm_release.bundle import Bundle
from awm_release.database import HydrationError, HydrationReport, build_database, check_tables, existing_tables
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


def hydrate_bundle(bundle: Bundle, *, strict: bool = False) -> tuple[Environment, bytes, HydrationReport]:
    """The bundle's environment and template image, built as the original AWM runtime builds them.

    SQL first (tables, indexes, then the seed with foreign keys on; failing statements are skipped and
    reported), then the environment code's module-level code against that same database. A declared
    table that is still missing afterwards is fatal; with `strict`, so is any failed statement.
    """
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        report = build_database(bundle, conn)
        before_code = existing_tables(conn)
        environment = load_environment(bundle, conn)
        conn.commit()
        check_tables(bundle, conn, report, before_code)
        if report.missing_tables or (strict and report.failures):
            raise HydrationError(bundle.bundle_id, report.failures, report.missing_tables)
        return environment, conn.serialize(), report
    finally:
        conn.close()


class BundleRegistry:
    """The bundles this server serves, hydrated on first use."""

    def __init__(self, bundles: dict[str, Bundle], *, strict: bool = False):
        self.bundles = bundles
        self.strict = strict
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
                environment, image, report = hydrate_bundle(bundle, strict=self.strict)
            except (HydrationError, EnvironmentLoadError) as exc:  # the bundle, not the request, is broken
                raise HostError(500, "bundle_load_failed", str(exc)) from None
            notes = report.notes()
            if notes:  # as in the original runtime, these statements were skipped; say so once, per bundle
                log.warning("bundle %s: %d note(s) about its database (GET /bundles/%s lists them):\n  %s",
                            bundle_id, len(notes), bundle_id, "\n  ".join(notes))
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
