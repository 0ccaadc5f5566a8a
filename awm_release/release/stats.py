"""Release statistics: the table printed by `awm release stats` and shown in the dataset card.

Computed once at pack time and stored in the manifest, so showing them never re-reads the bundles.
Per-environment figures cover only the environments that have the part (a partial AWM-1K scenario
without code does not count as an environment with 0 lines of code). "Tools" are the routes the code
declares (what is served), not the endpoints the spec lists; "seed rows" are the rows in the database
the seed builds by the original runtime's rules, not INSERT statements (one statement may insert many
rows, and a rejected one inserts none).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from awm_release.bundle import Bundle
from awm_release.inspection import SqlDatabase, build_sql_database
from awm_release.routes import declared_routes

STAT_COLUMNS = ("metric", "total", "per environment (min / median / max)", "environments")
FIGURES = ("tasks", "tools", "tables", "seed rows", "lines of environment code")


def bundle_figures(bundle: Bundle, built: SqlDatabase | None = None) -> dict[str, int | None]:
    """One environment's figures (None: it lacks that part); `built` is its SQL database when already built."""
    routes = declared_routes(bundle.env_code)
    rows = (built or build_sql_database(bundle)).rows if bundle.seed else None
    return {
        "tasks": len(bundle.tasks) or None,
        "tools": len(routes) if routes else None,
        "tables": len(bundle.tables) or None,
        "seed rows": rows,
        "lines of environment code": len(bundle.env_code.splitlines()) if bundle.env_code is not None else None,
    }


def compute_statistics(bundles: Sequence[Bundle], figures: Sequence[dict[str, int | None]] | None = None) -> list[dict[str, str]]:
    """Display rows (strings, keyed by STAT_COLUMNS): environments, per-environment sizes, verifier coverage.

    `figures` are the bundles' `bundle_figures` when already computed (pack computes them on every core).
    """
    figures = [bundle_figures(b) for b in bundles] if figures is None else figures
    complete = sum(not b.missing() for b in bundles)
    rows = [_row("environments", f"{len(bundles):,} ({complete:,} complete, {len(bundles) - complete:,} partial)", "", len(bundles))]
    for metric in FIGURES:
        values = [f[metric] for f in figures if f[metric] is not None]
        spread = f"{min(values):,} / {_number(statistics.median(values))} / {max(values):,}" if values else "-"
        rows.append(_row(metric, f"{sum(values):,}", spread, len(values)))
    n_tasks = sum(len(b.tasks) for b in bundles)
    for mode in ("code", "sql"):
        covered = [sum(1 for v in b.verifiers if getattr(v, mode) is not None and v.task_idx < len(b.tasks)) for b in bundles]
        share = f" ({100 * sum(covered) / n_tasks:.1f} %)" if n_tasks else ""
        rows.append(_row(f"tasks with a {mode}-mode verifier", f"{sum(covered):,} of {n_tasks:,}{share}", "",
                         sum(1 for c, b in zip(covered, bundles) if b.tasks and c == len(b.tasks))))
    return rows


def _row(*values: object) -> dict[str, str]:
    return dict(zip(STAT_COLUMNS, map(str, values)))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
