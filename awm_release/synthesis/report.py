"""The run report and per-bundle provenance, both computed from the run folder's state files.

State files are the single record of what happened (every attempt, cause, summary and token count, across
resumed runs), so the report can be rebuilt at any time and with other prices.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from awm_release.bundle import Bundle
from awm_release.synthesis import prompts
from awm_release.synthesis.llm import Usage
from awm_release.synthesis.runfolder import ItemState, RunFolder, now_iso, read_json, write_json
from awm_release.synthesis.stages import STAGE_ORDER
from awm_release.synthesis.validation import CAUSES


def _usage_json(usage: Usage, prices: tuple[float, float]) -> dict[str, Any]:
    return {"calls": usage.calls, "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "http_retries": usage.http_retries, "cost_usd": round(usage.cost(*prices), 6)}


def run_prices(run: RunFolder) -> tuple[float, float]:
    """USD per million prompt / completion tokens, as the latest invocation that set them recorded."""
    for invocation in reversed(run.invocations()):
        if invocation.get("price_in") or invocation.get("price_out"):
            return float(invocation.get("price_in") or 0), float(invocation.get("price_out") or 0)
    return 0.0, 0.0


def build_report(run: RunFolder, bundles: dict[str, Bundle], prices: tuple[float, float] | None = None) -> dict[str, Any]:
    """Everything `awm gen report` shows, as JSON; `bundles` are the run's (read once by the caller)."""
    prices = prices or run_prices(run)
    items = run.items()
    stages: dict[str, dict[str, Any]] = {}
    attempt_causes: dict[str, Counter] = defaultdict(Counter)
    rejection_causes: dict[str, Counter] = defaultdict(Counter)
    total = Usage()
    for stage in STAGE_ORDER:
        usage = Usage()
        for state in items:
            if state.stage == stage:
                usage = usage.add(state.usage)
        mine = [s for s in items if s.stage == stage and not s.accounting_only]
        for state in mine:
            attempt_causes[stage].update(a.cause for a in state.attempts if not a.ok)
            if state.status == "rejected":
                rejection_causes[stage][state.final_cause] += 1
        total = total.add(usage)
        accepted = sum(s.status == "accepted" for s in mine)
        attempts = sum(len(s.attempts) for s in mine)
        stages[stage] = {
            "items": len(mine),
            "accepted": accepted,
            "rejected": len(mine) - accepted,
            "pass_rate": round(accepted / len(mine), 4) if mine else None,
            "first_try": sum(bool(s.attempts) and s.attempts[0].ok for s in mine),
            "attempts": attempts,
            "retries": attempts - len(mine),
            **_usage_json(usage, prices),
        }
    return {
        "run": str(run.root),
        "generated": now_iso(),
        "models": sorted({s.model for s in items if s.model and not s.accounting_only}),
        "prompt_versions": sorted({s.prompt_version for s in items if s.prompt_version}),
        "prices_usd_per_million": {"prompt": prices[0], "completion": prices[1]},
        "stages": stages,
        "failed_attempts_by_cause": {stage: dict(c.most_common()) for stage, c in attempt_causes.items() if c},
        "rejected_items_by_cause": {stage: dict(c.most_common()) for stage, c in rejection_causes.items() if c},
        "scenarios": _scenario_funnel(run),
        "bundles": {bundle_id: _bundle_entry(bundle_id, bundles.get(bundle_id), items, prices)
                    for bundle_id in sorted(set(bundles) | {s.bundle_id for s in items if s.bundle_id})},
        "totals": {**_usage_json(total, prices), "bundles": len(bundles),
                   "complete_bundles": sum(not b.missing() for b in bundles.values())},
    }


def _bundle_entry(bundle_id: str, bundle: Bundle | None, items: list[ItemState], prices: tuple[float, float]) -> dict[str, Any]:
    mine = [s for s in items if s.bundle_id == bundle_id]
    usage = Usage()
    stages: dict[str, str] = {}
    for state in mine:
        usage = usage.add(state.usage)
        if stages.get(state.stage) != "rejected":  # a stage with one rejected item (a verifier) is rejected
            stages[state.stage] = state.status
    return {
        "complete": bundle is not None and not bundle.missing(),
        "lacks": bundle.missing() if bundle is not None else ["the bundle file"],
        "stages": stages,
        "attempts": sum(len(s.attempts) for s in mine),
        **_usage_json(usage, prices),
    }


def _scenario_funnel(run: RunFolder) -> dict[str, int]:
    records = read_json(run.root / "scenarios.json") or []
    decisions = Counter()
    for record in records:
        decision = record.get("decision") or ""
        kind = decision.split(" ", 1)[0].rstrip(":") if decision else "undecided"
        decisions[{"near-duplicate": "near_duplicate", "category": "category_cap", "not": "not_needed"}.get(kind, kind)] += 1
    return {"candidates": len(records), **dict(decisions)}


def write_provenance(run: RunFolder, bundles: dict[str, Bundle]) -> None:
    """RUN/provenance/<bundle_id>.json: how each bundle was made (models, prompts, attempts and tokens per stage)."""
    items = run.items()
    latest = (run.invocations() or [{}])[-1]
    for bundle_id, bundle in bundles.items():
        mine = [s for s in items if s.bundle_id == bundle_id]
        stages: dict[str, Any] = {}
        for state in mine:
            entry = stages.setdefault(state.stage, {"items": 0, "accepted": 0, "attempts": 0, "usage": Usage(), "notes": []})
            entry["items"] += 1
            entry["accepted"] += state.status == "accepted"
            entry["attempts"] += len(state.attempts)
            entry["usage"] = entry["usage"].add(state.usage)
            entry["notes"] += state.notes
        write_json(run.provenance_dir / f"{bundle_id}.json", {
            "bundle_id": bundle_id,
            "sha256": bundle.sha256,
            "models": sorted({s.model for s in mine if s.model}),
            "base_url": latest.get("base_url"),
            "prompt_versions": sorted({s.prompt_version for s in mine if s.prompt_version}),
            "prompt_digest": latest.get("prompt_digest", prompts.PROMPT_DIGEST),
            "stages": {name: {**{k: v for k, v in e.items() if k != "usage"}, **e["usage"].model_dump()} for name, e in stages.items()},
            "lacks": bundle.missing(),
        })


def render_report(report: dict[str, Any], console: Console, *, max_bundles: int = 30) -> None:
    prices = report["prices_usd_per_million"]
    priced = prices["prompt"] or prices["completion"]
    table = Table("stage", "items", "ok", "pass", "1st try", "retries", "429/5xx", "in tok", "out tok", "$",
                  title=f"Run {report['run']} ({', '.join(report['models']) or 'no model yet'})")
    for stage, row in report["stages"].items():
        if not row["items"]:
            continue
        table.add_row(stage, str(row["items"]), str(row["accepted"]), f"{row['pass_rate']:.0%}", str(row["first_try"]),
                      str(row["retries"]), str(row["http_retries"]), f"{row['prompt_tokens']:,}", f"{row['completion_tokens']:,}",
                      f"{row['cost_usd']:.4f}" if priced else "-")
    t = report["totals"]
    table.add_section()
    table.add_row("total", "", "", "", "", "", str(t["http_retries"]), f"{t['prompt_tokens']:,}", f"{t['completion_tokens']:,}",
                  f"{t['cost_usd']:.4f}" if priced else "-")
    console.print(table)
    if not priced:
        console.print("cost: no prices set (pass --price-in / --price-out, USD per million tokens)")
    causes = Table("stage", "cause", "failed attempts", "rejected items", "meaning", title="Failures by cause")
    for stage, counter in report["failed_attempts_by_cause"].items():
        for cause, count in counter.items():
            rejected = report["rejected_items_by_cause"].get(stage, {}).get(cause, 0)
            causes.add_row(stage, cause, str(count), str(rejected), CAUSES.get(cause, ""))
    if causes.row_count:
        console.print(causes)
    funnel = report["scenarios"]
    if funnel["candidates"]:
        console.print("scenarios: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in funnel.items()))
    bundles = Table("bundle", "complete", "attempts", "tokens", "cost $", "lacks", title="Bundles")
    for bundle_id, entry in list(report["bundles"].items())[:max_bundles]:
        bundles.add_row(bundle_id, "yes" if entry["complete"] else "no", str(entry["attempts"]),
                        f"{entry['prompt_tokens'] + entry['completion_tokens']:,}",
                        f"{entry['cost_usd']:.4f}" if priced else "-", "; ".join(entry["lacks"]) or "-")
    if bundles.row_count:
        console.print(bundles)
    hidden = len(report["bundles"]) - max_bundles
    if hidden > 0:
        console.print(f"... and {hidden} more bundle(s) in report.json")
    console.print(f"{t['complete_bundles']} of {t['bundles']} bundle(s) complete")


def save_report(run: RunFolder, report: dict[str, Any]) -> None:
    write_json(run.root / "report.json", report)
