"""An evaluation's summary: pass@k (unbiased estimator), per-environment and per-task rates, outcomes, means.

pass@k for one task with n episodes of which c are complete is 1 - C(n-c, k) / C(n, k) (Chen et al., 2021),
the probability that k episodes drawn from the n include a success; the run's pass@k is its mean over tasks.
pass@1 is the mean of c/n. A task counts towards pass@k only once it has at least k episodes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from math import comb
from statistics import fmean
from typing import Any

from rich.console import Group
from rich.table import Table

from awm_release.agent.outcomes import OUTCOMES, SUCCESS


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one task: n episodes, c of them successes."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    return 1.0 - comb(n - c, k) / comb(n, k)


def task_counts(records: Iterable[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """"bundle:idx" -> (episodes, complete episodes)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        entry = counts[f"{record['bundle_id']}:{record['task_idx']}"]
        entry[0] += 1
        entry[1] += record["outcome"] == SUCCESS
    return {key: (n, c) for key, (n, c) in sorted(counts.items())}


def summarize(records: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """The summary of a run's results; deterministic in the results (no timings), so a resumed run matches."""
    k = int(config["k"])
    expected = list(config["tasks"])
    wanted = set(expected)
    records = sorted((r for r in records if f"{r['bundle_id']}:{r['task_idx']}" in wanted),
                     key=lambda r: (r["bundle_id"], r["task_idx"], r["sample"]))
    counts = task_counts(records)
    by_bundle: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_bundle[record["bundle_id"]].append(record)
    return {
        "model": config["model"], "dataset": config["dataset"], "split": config["split"],
        "verify_mode": config["verify_mode"], "k": k,
        "tasks": len(expected), "tasks_evaluated": len(counts),
        "episodes_expected": len(expected) * k,
        "finished": len(records) == len(expected) * k,
        **_rates(records, counts, k),
        "mean_turns": _mean(r["turns"] for r in records),
        "mean_tool_calls": _mean(r["tool_calls"] for r in records),
        "mean_prompt_tokens": _mean(r["prompt_tokens"] for r in records),
        "mean_completion_tokens": _mean(r["completion_tokens"] for r in records),
        "per_environment": {bundle: {"tasks": len(task_counts(rs)), **_rates(rs, task_counts(rs), k)}
                            for bundle, rs in sorted(by_bundle.items())},
        "per_task": {key: {"episodes": n, "complete": c, "rate": round(c / n, 6)} for key, (n, c) in counts.items()},
    }


def _rates(records: list[dict[str, Any]], counts: dict[str, tuple[int, int]], k: int) -> dict[str, Any]:
    pass_at = {}
    for j in range(1, k + 1):
        eligible = [pass_at_k(n, c, j) for n, c in counts.values() if n >= j]
        pass_at[str(j)] = round(fmean(eligible), 6) if eligible else None
    outcomes = Counter(r["outcome"] for r in records)
    return {
        "episodes": len(records),
        "pass_at": pass_at,
        "mean_reward": _mean(r["reward"] for r in records),
        "outcomes": {o: outcomes.get(o, 0) for o in OUTCOMES},
        "outcome_rates": {o: round(outcomes.get(o, 0) / len(records), 6) if records else None for o in OUTCOMES},
    }


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(fmean(values), 6) if values else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render_summary(summary: dict[str, Any]) -> Group:
    """Tables for the console: headline rates and outcomes, then one row per environment."""
    k = summary["k"]
    headline = Table(title=f"{summary['model']} on {summary['dataset']} ({summary['split']}, {summary['verify_mode']} mode)",
                     show_header=True)
    for column in ("tasks", "episodes", "pass@1", f"pass@{k}", "mean reward", "mean turns", "mean tokens (in/out)"):
        headline.add_column(column, justify="right")
    tokens = "-" if summary["mean_prompt_tokens"] is None else f"{summary['mean_prompt_tokens']:.0f}/{summary['mean_completion_tokens']:.0f}"
    headline.add_row(f"{summary['tasks_evaluated']}/{summary['tasks']}", f"{summary['episodes']}/{summary['episodes_expected']}",
                     _pct(summary["pass_at"]["1"]), _pct(summary["pass_at"][str(k)]),
                     "-" if summary["mean_reward"] is None else f"{summary['mean_reward']:.3f}",
                     "-" if summary["mean_turns"] is None else f"{summary['mean_turns']:.1f}", tokens)
    outcomes = Table(title="outcomes", show_header=True)
    for outcome in OUTCOMES:
        outcomes.add_column(outcome.replace("_", " "), justify="right")
    outcomes.add_row(*(f"{summary['outcomes'][o]} ({_pct(summary['outcome_rates'][o])})" for o in OUTCOMES))
    environments = Table("environment", "tasks", "episodes", "pass@1", f"pass@{k}", "complete", "format errors",
                         title="per environment")
    for bundle, env in summary["per_environment"].items():
        environments.add_row(bundle, str(env["tasks"]), str(env["episodes"]), _pct(env["pass_at"]["1"]),
                             _pct(env["pass_at"][str(k)]), str(env["outcomes"]["complete"]), str(env["outcomes"]["format_error"]))
    return Group(headline, outcomes, environments)
