"""README.md as a user meets it: every Python block runs as a file, and every command of its bash blocks exists.

Python blocks run one by one, each as its own file in a working folder, against what the README has the reader
start or make: the demo `awm-serve` (command 1; `127.0.0.1:8000` and `localhost:8000` in a block are replaced by
its loopback address), a Hugging Face Hub (a loopback stand-in holding `awm/envs` v1.0.0: the AWM-1K sample and the
demo bundles; HF_ENDPOINT points there), and in the working folder `bundles/` (bundle files, as `awm import-awm1k`
writes) and `awm-envs/` (that release, as `awm release pack` writes).

A block that cannot run here starts with a `# needs: ...` line saying what it needs (a GPU, vLLM, a hosted
model): it is reported as skipped with that reason and its README line, never silently left out. Bash blocks: each
`awm` / `awm-serve` command's `--help` runs, and every option it is given exists; scripts it runs exist.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from huggingface_hub import HfApi
from typer.testing import CliRunner

from awm_release.bundle_io import write_bundle
from awm_release.cli import app as awm_app
from awm_release.demo import load_demo_bundles
from awm_release.release.publish import execute_push, plan_push
from env_server.cli import app as serve_app
from tests.conftest import run_server
from tests.loopback_datasets_hub import datasets_hub
from tests.test_release_pack import pack_sample_and_demo

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
NEEDS = re.compile(r"^#\s*needs:\s*(.+)$")
CLIS = {"awm": awm_app, "awm-serve": serve_app}


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # of the opening fence, 1-based
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks(text: str) -> list[Block]:
    blocks, current, start, language = [], None, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^```(\w*)\s*$", line)
        if current is None and fence:
            current, start, language = [], number, fence.group(1)
        elif current is not None and line.startswith("```"):
            blocks.append(Block(language, start, "\n".join(current) + "\n"))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.language == "python"]
BASH = [b for b in BLOCKS if b.language in ("bash", "sh", "shell")]


@dataclass
class World:
    server_address: str  # host:port of the demo awm-serve
    env: dict[str, str]
    workdir: Path


@pytest.fixture(scope="module")
def world(imported_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("readme-workdir")
    for bundle in load_demo_bundles().values():
        write_bundle(bundle, workdir / "bundles")
    for path in imported_dir.glob("*.json"):
        (workdir / "bundles" / path.name).write_bytes(path.read_bytes())
    release = pack_sample_and_demo(imported_dir, workdir / "awm-envs")
    with datasets_hub() as hub:
        api = HfApi(endpoint=hub.url, token="hf_loopback")
        execute_push(plan_push(release, "awm/envs", api), api)
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path_factory.mktemp("hf")),
               "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONPATH": str(REPO)}
        env.pop("HF_DATASETS_CACHE", None)
        for server in run_server(["--workers", "1"]):  # command 1 of the README: `awm-serve`, the demo bundle
            yield World(f"127.0.0.1:{server.port}", env, workdir)


@pytest.mark.parametrize("block", PYTHON, ids=str)
def test_python_block_runs_as_written(block: Block, world: World):
    first = block.code.lstrip().splitlines()[0] if block.code.strip() else ""
    if needs := NEEDS.match(first):
        pytest.skip(f"README.md line {block.line}: needs {needs.group(1)} (marked '# needs:', not run here)")
    code = re.sub(r"(127\.0\.0\.1|localhost):8000\b", world.server_address, block.code)
    path = world.workdir / f"readme_line_{block.line}.py"
    path.write_text(code, encoding="utf-8")
    run = subprocess.run([sys.executable, path.name], cwd=world.workdir, env=world.env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, (f"README.md line {block.line}: the Python block exits with {run.returncode} when run as "
                                 f"a file:\n{run.stderr[-3000:]}")


def commands_of(block: Block) -> Iterator[tuple[int, list[str]]]:
    """(README line, argv) of each command in a bash block: continuations joined, comments, env and pipes split off."""
    lines = block.code.splitlines()
    number = 0
    while number < len(lines):
        first, text = number, lines[number]
        while text.endswith("\\") and number + 1 < len(lines):
            number += 1
            text = text[:-1] + " " + lines[number]
        number += 1
        try:
            words = shlex.split(text, comments=True)
        except ValueError as exc:
            raise AssertionError(f"README.md line {block.line + 1 + first}: cannot parse {text!r}: {exc}") from None
        command: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", "||", ";", "|"):
                while command and re.match(r"^[A-Za-z_]\w*=", command[0]):
                    command.pop(0)
                if command:
                    yield block.line + 1 + first, command
                command = []
            else:
                command.append(word)


def check_command(argv: list[str]) -> str | None:
    """What is wrong with one README command (None when nothing is)."""
    program = Path(argv[0]).name
    if program in ("python", "python3", "bash", "sh") and len(argv) > 1 and re.search(r"\.(py|sh)$", argv[1]):
        return None if (REPO / argv[1]).is_file() else f"{argv[1]} does not exist"
    if program not in CLIS:
        return None  # other tools (curl, pip, vllm, hf): not ours to check
    app = CLIS[program]
    command: Any = typer.main.get_command(app)  # typer 0.29 vendors click: no click.Group to test against
    path = []
    for word in argv[1:]:
        found = command.get_command(None, word) if hasattr(command, "get_command") else None  # lazy groups load here
        if found is not None:
            command = found
            path.append(word)
        elif hasattr(command, "get_command") and not word.startswith("-"):
            return f"{program} has no command {' '.join([*path, word])!r}"
        else:
            break
    shown = CliRunner().invoke(app, [*path, "--help"])
    if shown.exit_code != 0:
        return f"`{program} {' '.join(path)} --help` exits with {shown.exit_code}: {shown.output[-500:]}"
    known = {name for param in command.params for name in (*param.opts, *param.secondary_opts)} | {"--help"}
    unknown = [w.split("=")[0] for w in argv[1:] if w.startswith("-") and w.split("=")[0] not in known]
    return f"unknown option(s) {', '.join(unknown)} for `{program} {' '.join(path)}`" if unknown else None


@pytest.mark.parametrize("block", BASH, ids=str)
def test_bash_block_commands_exist(block: Block):
    problems = [f"README.md line {line}: {problem}" for line, argv in commands_of(block) if (problem := check_command(argv))]
    assert problems == []
