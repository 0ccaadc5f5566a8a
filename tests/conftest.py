"""Shared fixtures: the real AWM-1K sample, imported bundles, and a real `awm-serve` on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from awm_release.awm1k import read_awm1k
from awm_release.bundle_io import write_bundle

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO.parent / "shared" / "awm1k-sample"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not SAMPLE_DIR.is_dir():
        pytest.fail(f"the AWM-1K sample is expected at {SAMPLE_DIR} (shared/ beside the repository)")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def imported_dir(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample imported as bundle files (what `awm import-awm1k` writes)."""
    out = tmp_path_factory.mktemp("bundles")
    for bundle in read_awm1k(sample_dir).bundles:
        write_bundle(bundle, out)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    def __init__(self, args: list[str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "env_server.cli", *args, "--port", str(self.port), "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"awm-serve exited with {self.proc.returncode}:\n{self.proc.stdout.read()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("awm-serve did not answer /health within 60 s")
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_server(args: list[str]) -> Iterator[RunningServer]:
    server = RunningServer(args)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(imported_dir: Path) -> Iterator[RunningServer]:
    """All demo bundles plus the sample's servable content_platform_1, in one real server process."""
    yield from run_server(["bookstore_1", "task_tracker_1", "clinic_booking_1", "content_platform_1",
                           "--bundles", str(imported_dir)])
