"""Benchmark the release at the scale of AWM-1K: 1,000 demo-size bundles packed, loaded and served from.

Generates 1,000 synthetic bundles by renaming and perturbing the three demo bundles (names, descriptions,
task wording, a comment in the code: every bundle distinct, all valid and servable), writes them as bundle
files, then measures, in one run (medians of --repeats):

- pack:          `awm release pack` of the 1,000 files (target < 60 s); baseline: reading and validating the
                 1,000 files (`read_bundles`), which pack has to do anyway
- load_dataset:  the stock `datasets.load_dataset(DIR, "envs")` into a fresh cache (target < 10 s)
- first serve:   in a fresh interpreter (imports excluded, as `awm-serve` has made them before it hydrates),
                 load_bundles(DIR, bundle_ids=[one]) + build_template_image + load_environment (target < 1 s);
                 baseline: the same hydration after reading all 1,000 bundle files, which is what serving
                 one bundle from a folder of bundle files costs today (`awm-serve ID --bundles DIR`)

    python bench/bench_release.py                 # prints a table, writes bench/results/release.json
    python bench/bench_release.py --repeats 1     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from datasets import load_dataset

from awm_release.bundle import Bundle
from awm_release.bundle_io import read_bundles, write_bundle
from awm_release.demo import demo_bundle_ids, load_demo_bundle
from awm_release.release.pack import PackOptions, pack_release

RESULTS = Path(__file__).parent / "results"
TARGETS_S = {"pack": 60.0, "load_dataset": 10.0, "first_serve": 1.0}

_FIRST_SERVE = """
import json, sys, time
from awm_release import load_bundles
from awm_release.bundle_io import read_bundles
from awm_release.database import build_template_image
from env_server.runtime import load_environment

mode, source, bundle_id = sys.argv[1:4]
start, cpu = time.perf_counter(), time.process_time()
if mode == "release":
    bundle = load_bundles(source, bundle_ids=[bundle_id], progress=False)[bundle_id]
else:
    bundle = read_bundles([source])[bundle_id]
loaded = time.perf_counter()
build_template_image(bundle)
load_environment(bundle)
done = time.perf_counter()
print(json.dumps({"read": loaded - start, "hydrate": done - loaded, "total": done - start, "cpu": time.process_time() - cpu}))
"""


def synthetic_bundles(n: int) -> list[Bundle]:
    """n distinct, valid bundles of demo size: the demo bundles renamed and lightly perturbed."""
    demos = [load_demo_bundle(b) for b in demo_bundle_ids()]
    out = []
    for i in range(n):
        base = demos[i % len(demos)]
        out.append(base.model_copy(update={
            "bundle_id": f"{base.bundle_id}_{i:04d}",
            "display_name": f"{base.display_name} #{i}",
            "description": f"{base.description} (variant {i})",
            "tasks": [f"{task} [variant {i}]" for task in base.tasks],
            "env_code": f"{base.env_code}\n# synthetic variant {i}\n",
        }))
    return out


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (pack's reader processes): wall time on a busy
    machine says little, CPU time says what the work costs."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def first_serve(mode: str, source: Path, bundle_id: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _FIRST_SERVE, mode, str(source), bundle_id],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="awm-bench-release-") as tmp:
        work = Path(tmp)
        files = work / "bundles"
        for bundle in synthetic_bundles(args.bundles):
            write_bundle(bundle, files)
        size_mb = sum(p.stat().st_size for p in files.iterdir()) / 1e6
        print(f"{args.bundles} bundle files, {size_mb:.0f} MB")

        read_all, pack, pack_cpu = [], [], []
        for r in range(args.repeats):
            start = time.perf_counter()
            read_bundles([files])
            read_all.append(time.perf_counter() - start)
            start, cpu = time.perf_counter(), cpu_seconds()
            pack_release([files], work / f"release-{r}", PackOptions(version="1.0.0", progress=False))
            pack.append(time.perf_counter() - start)
            pack_cpu.append(cpu_seconds() - cpu)
        release = work / "release-0"
        identical = all((work / f"release-{r}" / p.relative_to(release)).read_bytes() == p.read_bytes()
                        for r in range(1, args.repeats) for p in release.rglob("*") if p.is_file())
        shard_mb = sum(p.stat().st_size for p in (release / "data").rglob("*.parquet")) / 1e6

        loads = []
        for r in range(args.repeats):
            start = time.perf_counter()
            envs = load_dataset(str(release), "envs", cache_dir=str(work / f"datasets-cache-{r}"))
            loads.append(time.perf_counter() - start)
        assert envs["environments"].num_rows == args.bundles

        one = f"clinic_booking_1_{args.bundles // 2 - (args.bundles // 2) % 3 + 1:04d}"
        served = [first_serve("release", release, one) for _ in range(args.repeats)]
        baseline = [first_serve("files", files, one) for _ in range(args.repeats)]

    results = {
        "bundles": args.bundles, "bundle_files_mb": round(size_mb, 1), "parquet_mb": round(shard_mb, 1),
        "repeats": args.repeats, "byte_identical_repacks": identical,
        "read_all_bundle_files_s": median(read_all), "pack_s": median(pack), "pack_cpu_s": median(pack_cpu),
        "cores": len(os.sched_getaffinity(0)), "load_average_1min": os.getloadavg()[0],
        "load_dataset_envs_s": median(loads),
        "first_serve_from_release_s": {k: median([s[k] for s in served]) for k in ("read", "hydrate", "total", "cpu")},
        "first_serve_from_bundle_files_s": {k: median([s[k] for s in baseline]) for k in ("read", "hydrate", "total", "cpu")},
    }
    rows = [
        ("pack 1,000 bundles", results["pack_s"], TARGETS_S["pack"], "read+validate all files", results["read_all_bundle_files_s"]),
        ("load_dataset(envs)", results["load_dataset_envs_s"], TARGETS_S["load_dataset"], "read+validate all files", results["read_all_bundle_files_s"]),
        ("first serve, one bundle", results["first_serve_from_release_s"]["total"], TARGETS_S["first_serve"],
         "same from bundle files", results["first_serve_from_bundle_files_s"]["total"]),
    ]
    print(f"\n{'measure (median)':<26}{'seconds':>9}{'target':>7} {'':<5}{'baseline':<24}{'seconds':>9}{'ratio':>8}")
    for name, value, target, base_name, base in rows:
        flag = "ok" if value < target else "over"
        print(f"{name:<26}{value:>9.2f}{target:>7.0f} {flag:<5}{base_name:<24}{base:>9.2f}{value / base:>7.2f}x")
    split = results["first_serve_from_release_s"]
    print(f"\npack used {results['pack_cpu_s']:.1f} CPU-seconds on {results['cores']} core(s) "
          f"(load average {results['load_average_1min']:.1f} at the end: other work shares the cores)")
    print(f"first serve from the release: read {split['read']:.3f} s + hydrate {split['hydrate']:.3f} s "
          f"({split['cpu']:.3f} CPU-s; from bundle files {results['first_serve_from_bundle_files_s']['cpu']:.1f} CPU-s); "
          f"parquet {shard_mb:.0f} MB for {size_mb:.0f} MB of bundle files; repacks byte-identical: {identical}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "release.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
