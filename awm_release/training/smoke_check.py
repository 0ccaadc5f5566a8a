"""The verdict of recipes/verl/gpu_smoke.sh: read verl's console log of a short run and check what a working
setup must show, one PASS/FAIL line each.

    python -m awm_release.training.smoke_check run.log --steps 2

verl's console logger prints one line per step, `step:N - key:value - key:value ...` (from the TaskRunner
actor, so Ray may prefix it with `(TaskRunnerV1 pid=...)`). The checks: every step was logged; rollouts took
more than one turn on average (tools were called and answered); the policy loss is finite; the log-probs vLLM
sampled with agree with the trainer's (`training/rollout_probs_diff_mean`, the mean absolute difference of token
probabilities, small when both run the same weights); and nothing ran out of GPU memory.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

STEP_LINE = re.compile(r"step:(\d+) - (.*)$")
OUT_OF_MEMORY = re.compile(r"CUDA out of memory|OutOfMemoryError|out of memory", re.IGNORECASE)
DEFAULT_MAX_PROB_DIFF = 0.05


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def read_steps(log: str) -> dict[int, dict[str, float]]:
    """Each logged step's numeric metrics (verl prints numbers only; nan and inf included)."""
    steps: dict[int, dict[str, float]] = {}
    for line in log.splitlines():
        match = STEP_LINE.search(line)
        if not match:
            continue
        metrics = steps.setdefault(int(match.group(1)), {})
        for pair in match.group(2).split(" - "):
            key, _, value = pair.rpartition(":")
            try:
                metrics[key.strip()] = float(value)
            except ValueError:
                continue
    return steps


def smoke_checks(log: str, steps: int, max_prob_diff: float = DEFAULT_MAX_PROB_DIFF) -> list[Check]:
    logged = read_steps(log)
    wanted = list(range(1, steps + 1))

    def values(key: str) -> list[float]:
        return [logged[s][key] for s in wanted if key in logged.get(s, {})]

    turns, losses, diffs = values("awm_turns"), values("actor/pg_loss"), values("training/rollout_probs_diff_mean")
    oom = [line.strip() for line in log.splitlines() if OUT_OF_MEMORY.search(line)]
    return [
        Check(f"{steps} steps logged", all(s in logged for s in wanted),
              f"steps logged: {sorted(logged) or 'none'}"),
        Check("mean turns > 1", len(turns) == steps and sum(turns) / steps > 1,
              f"awm_turns per step: {turns or 'not logged'}"),
        Check("finite policy loss", len(losses) == steps and all(math.isfinite(v) for v in losses),
              f"actor/pg_loss per step: {losses or 'not logged'}"),
        Check("rollout and actor log-probs agree", len(diffs) == steps and all(v < max_prob_diff for v in diffs),
              f"training/rollout_probs_diff_mean per step: {diffs or 'not logged'} (must stay below {max_prob_diff})"),
        Check("no out-of-memory", not oom, oom[0][:200] if oom else "no OOM in the log"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path, help="the run's console output")
    parser.add_argument("--steps", type=int, default=2, help="steps the run had to log (default: %(default)s)")
    parser.add_argument("--max-prob-diff", type=float, default=DEFAULT_MAX_PROB_DIFF,
                        help="largest acceptable rollout-vs-actor probability difference (default: %(default)s)")
    args = parser.parse_args(argv)
    checks = smoke_checks(args.log.read_text(errors="replace"), args.steps, args.max_prob_diff)
    for check in checks:
        print(check.line())
    passed = all(check.ok for check in checks)
    print(f"GPU smoke check: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
