"""Shared fixtures: the real AWM-1K sample, imported bundles, and a real `awm-serve` on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer

from awm_release.awm1k import read_awm1k
from awm_release.bundle_io import write_bundle
from awm_release.cli import app as awm_app
from env_server.process import ServerProcess

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "tests" / "data" / "awm1k-sample"  # real AWM-1K records (CC BY 4.0, see tests/data/README.md)


@pytest.fixture(scope="session", autouse=True)
def private_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hugging Face caches in a temp folder, for this process and the servers it starts: tests never write to ~."""
    cache = tmp_path_factory.mktemp("hf-home")
    saved = {name: os.environ.get(name) for name in ("HF_HOME", "HF_DATASETS_CACHE")}
    os.environ["HF_HOME"] = str(cache)
    os.environ["HF_DATASETS_CACHE"] = str(cache / "datasets")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def command_groups_imported() -> None:
    """Import every lazily loaded `awm` command group now, as one `awm` process imports its group before anything
    changes its environment: Rich fixes a console's width from COLUMNS when it is made (at its module's import), so
    a group first imported inside a test's `CliRunner(env={"COLUMNS": ...})` would keep that width for every later test.
    """
    def resolve(group: typer.core.TyperGroup) -> None:
        for name in group.list_commands(None):
            command = group.get_command(None, name)
            if isinstance(command, typer.core.TyperGroup):
                resolve(command)

    resolve(typer.main.get_command(awm_app))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not SAMPLE_DIR.is_dir():
        pytest.fail(f"the AWM-1K sample is expected at {SAMPLE_DIR}; it is part of the repository (tests/data)")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def imported_dir(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample imported as bundle files (what `awm import-awm1k` writes)."""
    out = tmp_path_factory.mktemp("bundles")
    for bundle in read_awm1k(sample_dir).bundles:
        write_bundle(bundle, out)
    return out


class RunningServer(ServerProcess):
    """A started server with an HTTP client bound to it."""

    def start(self) -> "RunningServer":
        super().start()
        self.client = httpx.Client(base_url=self.url, timeout=60)
        return self


def pack_demo_release(folder: Path) -> Path:
    """The three demo bundles as bundle files (folder/bundles) and packed as release 1.0.0 (folder/release)."""
    from awm_release.demo import load_demo_bundles
    from awm_release.release.pack import PackOptions, pack_release  # imported here: datasets is slow to import

    for bundle in load_demo_bundles().values():
        write_bundle(bundle, folder / "bundles")
    pack_release([folder / "bundles"], folder / "release", PackOptions(version="1.0.0", progress=False))
    return folder / "release"


def run_server(args: list[str]) -> Iterator[RunningServer]:
    with RunningServer(args) as server:
        yield server


@pytest.fixture(scope="session")
def server(imported_dir: Path) -> Iterator[RunningServer]:
    """All demo bundles plus the sample's servable content_platform_1, in one real server process."""
    yield from run_server(["bookstore_1", "task_tracker_1", "clinic_booking_1", "content_platform_1",
                           "--bundles", str(imported_dir)])
