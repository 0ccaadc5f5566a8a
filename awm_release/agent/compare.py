"""`awm eval compare`: two runs task by task, with a paired significance test.

Runs are paired on the tasks both evaluated. Each task contributes its success rate (complete / episodes)
in each run; the Wilcoxon signed-rank test asks whether the per-task differences are centred on zero. Tasks
where both runs agree carry no information about the direction and are left out of the test (Wilcoxon's
zero_method), which with one episode per task makes it a sign test on the tasks that changed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from awm_release.agent.results import read_config, read_results
from awm_release.agent.summary import task_counts

# Settings that make two runs measure different things; a difference is reported, not refused.
_COMPARABLE = ("dataset", "split", "verify_mode", "k", "protocol", "sampling")


@dataclass(frozen=True)
class TaskDifference:
    key: str
    a: tuple[int, int]  # (episodes, complete) in run A
    b: tuple[int, int]

    @property
    def difference(self) -> float:
        return self.b[1] / self.b[0] - self.a[1] / self.a[0]


@dataclass
class Comparison:
    a_label: str
    b_label: str
    tasks: list[TaskDifference]
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[TaskDifference]:
        return sorted((t for t in self.tasks if t.difference), key=lambda t: (-abs(t.difference), t.key))

    @property
    def mean_difference(self) -> float | None:
        return fmean(t.difference for t in self.tasks) if self.tasks else None

    def wilcoxon(self) -> tuple[float | None, float | None]:
        """(statistic, two-sided p-value); p is 1 when no task changed, None with no shared tasks."""
        if not self.tasks:
            return None, None
        differences = [t.difference for t in self.tasks]
        if not any(differences):
            return 0.0, 1.0
        from scipy.stats import wilcoxon  # noqa: PLC0415 - scipy loads in ~0.5 s; only compare needs it

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns that ties force its normal approximation; that is expected
            result = wilcoxon(differences, zero_method="wilcox")
        return float(result.statistic), float(result.pvalue)


def compare_runs(a: Path, b: Path) -> Comparison:
    """Pair the tasks of two `awm eval` folders."""
    configs = read_config(a), read_config(b)
    counts = task_counts(read_results(a)), task_counts(read_results(b))
    shared = sorted(set(counts[0]) & set(counts[1]))
    comparison = Comparison(
        a_label=f"{a} ({configs[0]['model']})", b_label=f"{b} ({configs[1]['model']})",
        tasks=[TaskDifference(key, counts[0][key], counts[1][key]) for key in shared],
        only_a=sorted(set(counts[0]) - set(counts[1])), only_b=sorted(set(counts[1]) - set(counts[0])))
    for name in _COMPARABLE:
        if configs[0].get(name) != configs[1].get(name):
            comparison.notes.append(f"the runs differ in {name}: {configs[0].get(name)!r} vs {configs[1].get(name)!r}")
    return comparison


def render_comparison(comparison: Comparison) -> Group:
    table = Table("task", "A complete", "B complete", "B - A", title="tasks whose success rate differs (A: "
                  f"{comparison.a_label}, B: {comparison.b_label})")
    for task in comparison.changed:
        table.add_row(task.key, f"{task.a[1]}/{task.a[0]}", f"{task.b[1]}/{task.b[0]}", f"{100 * task.difference:+.0f} pts")
    better = sum(t.difference > 0 for t in comparison.tasks)
    worse = sum(t.difference < 0 for t in comparison.tasks)
    statistic, p_value = comparison.wilcoxon()
    lines = [f"{len(comparison.tasks)} shared task(s): B better on {better}, worse on {worse}, "
             f"equal on {len(comparison.tasks) - better - worse}"]
    if comparison.mean_difference is not None:
        lines.append(f"mean per-task difference (B - A): {100 * comparison.mean_difference:+.2f} points of pass@1")
        lines.append(f"Wilcoxon signed-rank test (paired by task, two-sided): statistic {statistic:g}, p = {p_value:.4g}")
    for label, keys in (("only in A", comparison.only_a), ("only in B", comparison.only_b)):
        if keys:
            lines.append(f"{len(keys)} task(s) {label}, not compared: {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}")
    lines += [f"note: {note}" for note in comparison.notes]
    parts: list[Any] = [table] if comparison.changed else [Text("no task's success rate differs")]
    return Group(*parts, *(Text(line) for line in lines))
