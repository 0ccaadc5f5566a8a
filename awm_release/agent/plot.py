"""One PNG comparing evaluation runs: pass@k curves, and how each run's episodes ended."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from awm_release.agent.outcomes import OUTCOMES
from awm_release.atomic import write_atomic

OUTCOME_COLORS = {"complete": "#2e7d32", "partial": "#9ccc65", "agent_error": "#ef6c00",
                  "environment_error": "#6d4c41", "format_error": "#c62828", "verifier_error": "#9e9e9e"}


def plot_runs(runs: list[tuple[str, dict[str, Any]]], path: str | Path) -> Path:
    """Write the comparison of (label, summary) pairs to `path` (PNG), atomically."""
    if not runs:
        raise ValueError("nothing to plot: give at least one run")
    import matplotlib  # noqa: PLC0415 - pyplot takes half a second to import: only plotting pays it

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (curves, bars) = plt.subplots(1, 2, figsize=(12, 1.2 + 0.5 * max(len(runs), 4)),
                                          gridspec_kw={"width_ratios": [1, 1.4]})
    try:
        for label, summary in runs:
            points = [(int(j), v) for j, v in summary["pass_at"].items() if v is not None]
            curves.plot([j for j, _ in points], [100 * v for _, v in points], marker="o", label=label)
        curves.set(xlabel="k", ylabel="pass@k (%)", ylim=(0, 100), title="pass@k")
        curves.xaxis.get_major_locator().set_params(integer=True)
        curves.grid(alpha=0.3)
        curves.legend(fontsize="small")

        labels = [label for label, _ in runs]
        left = [0.0] * len(runs)
        for outcome in OUTCOMES:
            widths = [100 * (summary["outcome_rates"][outcome] or 0.0) for _, summary in runs]
            bars.barh(labels, widths, left=left, color=OUTCOME_COLORS[outcome], label=outcome.replace("_", " "))
            left = [a + b for a, b in zip(left, widths)]
        bars.set(xlabel="episodes (%)", xlim=(0, 100), title="outcomes")
        bars.invert_yaxis()
        bars.legend(fontsize="small", ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(runs) < 4 else -0.12))
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=120)
    finally:
        plt.close(figure)
    write_atomic(path, buffer.getvalue())
    return Path(path)
