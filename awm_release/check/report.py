"""What `awm bundle check` found per bundle, as a table and as JSON.

Categories of a case: `agreement`; `divergence` (awm-serve differs from the original: a bug here);
`fault_in_both` (both crash: the data's fault, e.g. a handler that fails on its spec's example);
`improvement` (they differ where awm-serve deliberately does better: the original runs another handler
or mangles a path value). Per bundle also: tools in the spec, here and in the original, and the code-mode
verifiers that say `complete` on an untouched database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

AGREEMENT, DIVERGENCE, FAULT_IN_BOTH, IMPROVEMENT = "agreement", "divergence", "fault_in_both", "improvement"
CATEGORIES = (AGREEMENT, DIVERGENCE, FAULT_IN_BOTH, IMPROVEMENT)


@dataclass
class Finding:
    category: str
    label: str  # the case: which tool, with which arguments
    detail: str
    kind: str = ""  # the case kind: example, seed, stress, sequence ("" for bundle-level findings)


@dataclass
class BundleReport:
    bundle_id: str
    status: str = "checked"
    tools: dict[str, int | None] = field(default_factory=lambda: {"spec": None, "here": None, "original": None})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    findings: list[Finding] = field(default_factory=list)  # everything but agreements
    complete_untouched: list[int] = field(default_factory=list)  # task_idx of verifiers saying complete before any call
    calls: int = 0  # tool calls per side
    seconds: float = 0.0

    def add(self, category: str, label: str, detail: str, kind: str = "") -> None:
        self.counts[category] += 1
        if category != AGREEMENT:
            self.findings.append(Finding(category, label, detail, kind))

    def of(self, category: str) -> list[Finding]:
        return [f for f in self.findings if f.category == category]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BundleReport:
        return cls(**{**data, "findings": [Finding(**f) for f in data["findings"]]})


def summary_table(reports: list[BundleReport]) -> Table:
    table = Table("bundle", "tools spec/here/orig", "cases", "agree", "diverge", "fault in both", "improved",
                  "complete untouched", "calls", "s", title="awm bundle check: awm-serve vs the original AWM runtime")
    totals = dict.fromkeys(CATEGORIES, 0)
    for report in reports:
        for category in CATEGORIES:
            totals[category] += report.counts[category]
        tools = " / ".join("-" if report.tools.get(k) is None else str(report.tools[k]) for k in ("spec", "here", "original"))
        table.add_row(report.bundle_id + ("" if report.status == "checked" else f"\n({report.status[:80]})"), tools,
                      str(sum(report.counts.values())), *(str(report.counts[c]) for c in CATEGORIES),
                      ", ".join(map(str, report.complete_untouched)) or "-", f"{report.calls:,}", f"{report.seconds:.1f}")
    table.add_section()
    table.add_row(f"{len(reports)} bundle(s)", "", str(sum(totals.values())), *(str(totals[c]) for c in CATEGORIES),
                  str(sum(len(r.complete_untouched) for r in reports)), f"{sum(r.calls for r in reports):,}",
                  f"{sum(r.seconds for r in reports):.1f}")
    return table


def summary_json(reports: list[BundleReport], wall_seconds: float, jobs: int) -> dict[str, Any]:
    totals = {c: sum(r.counts[c] for r in reports) for c in CATEGORIES}
    calls = sum(r.calls for r in reports)
    return {"bundles": [r.to_json() for r in reports], "totals": totals, "calls": calls, "jobs": jobs,
            "wall_seconds": round(wall_seconds, 3), "tools_checked": sum(r.tools.get("here") or 0 for r in reports),
            "calls_per_second": round(calls / wall_seconds, 1) if wall_seconds else None}
