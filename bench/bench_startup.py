"""Start-up: how long a user waits for `awm-serve` (README's first command) and for `awm --help`, each beside the
floor of the same work with nothing of ours in it, in one run.

- `awm-serve`: launch `python -m env_server.cli --port 0` (the embedded demo, sandboxed) until its `/health`
  answers; floor: a one-route FastAPI app under uvicorn, launched and polled the same way.
- `awm --help`: the whole command until it exits; floor: an interpreter that imports typer and exits.

Each round launches all four in rotating order, so drift in machine load spreads over all of them.

    python bench/bench_startup.py            # 7 rounds; prints medians, writes bench/results/startup.json
    python bench/bench_startup.py --quick    # 3 rounds
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parents[1]
ANNOUNCED = re.compile(r"REST +(http://\S+)/sessions")  # the line awm-serve prints once its port is bound
FLOOR_SERVER = """
import socket, uvicorn
from fastapi import FastAPI
app = FastAPI()
app.get("/health")(lambda: {"ok": True})
listener = socket.create_server(("127.0.0.1", 0))
print(f"REST    http://127.0.0.1:{listener.getsockname()[1]}/sessions", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
"""


def until_healthy(argv: list[str]) -> float:
    """Seconds from launching `argv` to the first 200 from the /health of the URL it announces."""
    started = time.monotonic()
    server = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = next((m.group(1) for line in server.stdout if (m := ANNOUNCED.search(line))), None)
        if url is None:
            raise SystemExit(f"{argv[:3]} exited (status {server.wait()}) before announcing its URL")
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.005)
    finally:
        server.terminate()
        server.wait(timeout=30)


def until_exit(argv: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, cwd=REPO, capture_output=True, check=True, env={**os.environ, "COLUMNS": "80"})
    return time.monotonic() - started


CASES: dict[str, Callable[[], float]] = {
    "awm-serve: launch to first /health": lambda: until_healthy([sys.executable, "-m", "env_server.cli", "--port", "0"]),
    "floor: FastAPI + uvicorn, launch to first /health": lambda: until_healthy([sys.executable, "-c", FLOOR_SERVER]),
    "awm --help": lambda: until_exit([sys.executable, "-m", "awm_release.cli", "--help"]),
    "floor: python -c 'import typer'": lambda: until_exit([sys.executable, "-c", "import typer"]),
}
PAIRS = {"awm-serve: launch to first /health": "floor: FastAPI + uvicorn, launch to first /health",
         "awm --help": "floor: python -c 'import typer'"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    rounds = 3 if parser.parse_args().quick else 7
    names = list(CASES)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names[round_number % len(names):] + names[:round_number % len(names)]:
            seconds[name].append(CASES[name]())
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    load = os.getloadavg()[0]
    print(f"{rounds} rounds, load {load:.1f}\n")
    for ours, floor in PAIRS.items():
        print(f"{ours:<50} {medians[ours]:6.2f} s")
        print(f"{floor:<50} {medians[floor]:6.2f} s   ({medians[ours] / medians[floor]:.1f}x the floor)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps({"rounds": rounds, "load": load, "seconds": seconds,
                                                      "medians": medians}, indent=1))
    print(f"\nwritten to {RESULTS / 'startup.json'}")


if __name__ == "__main__":
    main()
