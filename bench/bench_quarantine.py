"""Benchmark import + validate + pack of 1,000 generated environments of which 5 % are broken.

Generates AgentWorldModel-1K files (`gen_*.jsonl`) for 1,000 scenarios (the demo bundles renamed and
perturbed, as bench_release does) and breaks 50 of them so that their environment cannot run: 25 whose
code does not parse, 25 with a declared table whose DDL fails and that no model of the code creates.
Then times, as a user runs them, `awm import-awm1k`, `awm bundle validate` and `awm release pack`, and
checks that everything finishes, that import and validate report all 50, and that the release carries the
950 good environments' tasks while listing the 50 as quarantined. Baseline, in the same run: the same
three commands on the 950 good scenarios alone (what a clean dataset costs).

    python bench/bench_quarantine.py       # prints a table, writes bench/results/quarantine.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_release import synthetic_bundles

from awm_release.awm1k import write_awm1k
from awm_release.bundle import Bundle, TableSchema

RESULTS = Path(__file__).parent / "results"
AWM = [sys.executable, "-m", "awm_release.cli"]


def broken(bundle: Bundle, i: int) -> Bundle:
    """An environment that cannot run: code that does not parse (even i) or a table nothing creates (odd i)."""
    if i % 2 == 0:
        return bundle.model_copy(update={"env_code": bundle.env_code + "\ndef broken(:\n    pass\n"})
    ghost = TableSchema(name="ghost_table", ddl="CREATE TABLE ghost_table (id INTEGER PRIMARY KEY,")
    return bundle.model_copy(update={"tables": [*bundle.tables, ghost]})


def timed(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall and CPU seconds (the command and its reader processes: wall time on a shared machine says little)."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.perf_counter() - start, cpu, done


def pipeline(awm1k: Path, work: Path) -> dict:
    """import, validate and pack, each as the command a user runs; seconds and outputs."""
    import_s, import_cpu, imported = timed([*AWM, "import-awm1k", str(awm1k), str(work / "bundles"), "--allow-problems"])
    validate_s, validate_cpu, validated = timed([*AWM, "bundle", "validate", str(work / "bundles")])
    pack_s, pack_cpu, packed = timed([*AWM, "release", "pack", str(work / "bundles"), "--out", str(work / "release"), "--version", "1.0.0"])
    for name, done in (("import", imported), ("validate", validated), ("pack", packed)):
        if done.returncode != 0:
            raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    manifest = json.loads((work / "release" / "manifest.json").read_text())
    return {"import_s": round(import_s, 2), "validate_s": round(validate_s, 2), "pack_s": round(pack_s, 2),
            "total_s": round(import_s + validate_s + pack_s, 2), "import_cpu_s": round(import_cpu, 1),
            "validate_cpu_s": round(validate_cpu, 1), "pack_cpu_s": round(pack_cpu, 1), "total_cpu_s": round(import_cpu + validate_cpu + pack_cpu, 1),
            "import_output": imported.stdout, "validate_output": validated.stdout,
            "manifest": manifest}


def reported(output: str, bundle_ids: set[str], marker: str) -> int:
    """How many of `bundle_ids` have a line in `output` holding `marker` (the bundle's problem line)."""
    return sum(1 for b in bundle_ids if any(b in line and marker in line for line in output.splitlines()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=1000)
    args = parser.parse_args()
    # display names that normalize to the bundle id, so the AWM-1K files name one scenario per bundle
    good = [b.model_copy(update={"display_name": b.bundle_id.replace("_", " ").title()}) for b in synthetic_bundles(args.environments)]
    with_broken = [broken(b, i // 20) if i % 20 == 0 else b for i, b in enumerate(good)]  # every 20th: 5 %
    clean = [b for i, b in enumerate(good) if i % 20 != 0]
    broken_ids = {b.bundle_id for i, b in enumerate(with_broken) if i % 20 == 0}
    with tempfile.TemporaryDirectory(prefix="awm-bench-quarantine-") as tmp:
        work = Path(tmp)
        write_awm1k(with_broken, work / "awm1k-broken")
        write_awm1k(clean, work / "awm1k-clean")
        measured = pipeline(work / "awm1k-broken", work / "broken")
        baseline = pipeline(work / "awm1k-clean", work / "clean")
    manifest = measured["manifest"]
    trainable = sum(1 for b, entry in manifest["bundles"].items() if entry["tasks"] and b not in manifest["quarantined"])
    results = {"environments": len(with_broken), "broken": len(broken_ids), "cores": len(os.sched_getaffinity(0)),
               "load_average_1min": os.getloadavg()[0],
               "with_broken": {k: v for k, v in measured.items() if k.endswith("_s")},
               "baseline_clean": {k: v for k, v in baseline.items() if k.endswith("_s")},
               "reported_by_import": reported(measured["import_output"], broken_ids, "problems"),
               "reported_by_validate": reported(measured["validate_output"], broken_ids, "problem(s)"),
               "quarantined_in_manifest": len(set(manifest["quarantined"]) & broken_ids),
               "environments_in_release": len(manifest["bundles"]), "environments_with_tasks_in_release": trainable,
               "tasks_in_release": manifest["counts"]["tasks_total"]}
    print(f"{'step':<10}{f'{len(with_broken)} ({len(broken_ids)} broken)':>26}{f'{len(clean)} clean (base)':>26}{'CPU ratio':>10}")
    for step in ("import", "validate", "pack", "total"):
        a, b = results["with_broken"], results["baseline_clean"]
        print(f"{step:<10}{a[step + '_s']:>9.1f} s ({a[step + '_cpu_s']:>6.1f} CPU-s){b[step + '_s']:>9.1f} s ({b[step + '_cpu_s']:>6.1f} CPU-s)"
              f"{a[step + '_cpu_s'] / b[step + '_cpu_s']:>9.2f}x")
    n = len(broken_ids)
    print(f"\nbroken reported: import {results['reported_by_import']}/{n}, validate {results['reported_by_validate']}/{n}, "
          f"quarantined in the manifest {results['quarantined_in_manifest']}/{n}; release: {results['environments_in_release']} environments, "
          f"{trainable} with their tasks ({results['tasks_in_release']:,} tasks); load average {results['load_average_1min']:.1f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quarantine.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
