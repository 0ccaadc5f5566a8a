"""Release statistics: the table printed by `awm release stats` and shown in the dataset card.

Computed once at pack time and stored in the manifest, so showing them never re-reads the bundles.
Per-environment figures cover only the environments that have the part (a partial AWM-1K scenario
without code does not count as an environment with 0 lines of code).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from awm_release.bundle import Bundle

STAT_COLUMNS = ("metric", "total", "per environment (min / median / max)", "environments")


def count_tools(api_spec: dict[str, Any] | None) -> int | None:
    """Endpoints in the AWM spec layout (`api_groups[].endpoints[]`); each is one tool of the environment."""
    if not isinstance(api_spec, dict) or not isinstance(api_spec.get("api_groups"), list):
        return None
    return sum(len(g.get("endpoints") or []) for g in api_spec["api_groups"] if isinstance(g, dict))


_PER_ENVIRONMENT: tuple[tuple[str, Callable[[Bundle], int | None]], ...] = (
    ("tasks", lambda b: len(b.tasks) or None),
    ("tools", lambda b: count_tools(b.api_spec)),
    ("tables", lambda b: len(b.tables) or None),
    ("seed rows", lambda b: sum(len(s.insert_statements) for s in b.seed) or None),
    ("lines of environment code", lambda b: len(b.env_code.splitlines()) if b.env_code is not None else None),
)


def compute_statistics(bundles: Sequence[Bundle]) -> list[dict[str, str]]:
    """Display rows (strings, keyed by STAT_COLUMNS): environments, per-environment sizes, verifier coverage."""
    complete = sum(not b.missing() for b in bundles)
    rows = [_row("environments", f"{len(bundles):,} ({complete:,} complete, {len(bundles) - complete:,} partial)", "", len(bundles))]
    for metric, measure in _PER_ENVIRONMENT:
        values = [v for v in map(measure, bundles) if v is not None]
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
