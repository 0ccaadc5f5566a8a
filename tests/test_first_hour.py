"""A new user's first hour: the rough edges of issue 14, each tried the way a user meets it."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from awm_release.bundle import BundleError
from awm_release.bundle_io import read_bundle, write_bundle
from awm_release.cli import app as awm_app
from awm_release.demo import load_demo_bundle
from awm_release.release.load import load_bundles
from awm_release.release.pack import PackOptions, pack_release
from env_server.cli import app as serve_app
from env_server.process import free_port

REPO = Path(__file__).resolve().parents[1]
SOURCES = [REPO / "awm_release", REPO / "env_server"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    code = "import sys; from awm_release.cli import main; sys.argv = ['awm', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO)


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))


@pytest.mark.parametrize("app", [awm_app, serve_app], ids=["awm", "awm-serve"])
def test_every_help_at_80_columns_shows_every_option_whole(app):
    runner = CliRunner()
    root = typer.main.get_command(app)
    for path, command in commands(root):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        for param in command.params:
            for name in [*param.opts, *param.secondary_opts]:
                if name.startswith("--"):
                    assert re.search(rf"(^|[\s,/]){re.escape(name)}([\s,=/]|$)", result.output, re.M), (path, name)
        assert "…" not in result.output and "[bold]" not in result.output, (path, result.output)


@pytest.mark.parametrize("group", [(), ("bundle",)], ids=["awm", "awm bundle"])
def test_a_command_list_imports_no_command_group_and_reads_as_theirs(group):
    """`awm` and `awm --help` list the lazily imported groups by their summaries, without importing any of them; each
    line reads as the group's own help makes it (at 400 columns, where every summary shows whole)."""
    listing = ("import sys; from awm_release.cli import app\n"
               "try:\n    app([*sys.argv[1:], '--help'], prog_name='awm', terminal_width=400, max_content_width=400)\n"
               "except SystemExit:\n    pass\n"
               "print(sorted(m for m in sys.modules if m.startswith('awm_release.') and m.endswith('.cli')))")
    run = subprocess.run([sys.executable, "-c", listing, *group], capture_output=True, text=True, timeout=120, cwd=REPO)
    help_text, imported = run.stdout.rstrip("\n").rsplit("\n", 1)
    assert imported == "['awm_release.cli']", imported
    command = typer.main.get_command(awm_app)
    for name in group:
        command = command.get_command(None, name)
    for name in command.list_commands(None):
        command.get_command(None, name)  # imports the lazy ones: the list shows their own help now
    context = command.context_class(command, terminal_width=400, max_content_width=400)
    formatter = context.make_formatter()
    command.format_commands(context, formatter)
    assert help_text.split("Commands:\n", 1)[1].rstrip() == formatter.getvalue().split("Commands:\n", 1)[1].rstrip()


def test_no_console_reads_text_as_markup():
    """Rich markup ate `[embeddings]` from an install hint; every console comes from awm_release.terminal now."""
    offenders = [f"{p.relative_to(REPO)}:{n}" for root in SOURCES for p in root.rglob("*.py") if p.name != "terminal.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if re.search(r"\bConsole\(", line)]
    assert offenders == []
    without_extra = ("import sys; sys.modules['sentence_transformers'] = None; from awm_release.cli import main; "
                     "sys.argv = ['awm', 'gen', 'all', sys.argv[1], '--count', '1', '--model', 'm', "
                     "'--base-url', 'http://127.0.0.1:9/v1']; main()")
    blocked = subprocess.run([sys.executable, "-c", without_extra, str(REPO / ".never-created-run")],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
    assert blocked.returncode == 2
    assert 'pip install "awm-release[embeddings]"' in blocked.stderr and blocked.stderr.startswith("error: ")


def test_a_port_in_use_is_one_line_before_any_banner():
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        run = subprocess.run([sys.executable, "-m", "env_server.cli", "--port", str(port), "--workers", "1"],
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "awm-serve:" not in run.stderr
    assert run.stderr.startswith(f"error: port {port} on 127.0.0.1 is already in use") and "--port " in run.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_get_the_umask_modes_and_keep_their_own(tmp_path):
    previous = os.umask(0o022)
    try:
        bundle_path = write_bundle(load_demo_bundle("bookstore_1"), tmp_path / "bundles")
        assert _mode(bundle_path) == 0o644
        release = tmp_path / "release"
        pack_release([tmp_path / "bundles"], release, PackOptions(version="1.0.0", progress=False))
        assert [_mode(release / name) for name in ("README.md", "manifest.json", ".")] == [0o644, 0o644, 0o755]
        os.chmod(bundle_path, 0o664)
        write_bundle(load_demo_bundle("bookstore_1"), bundle_path)
        assert _mode(bundle_path) == 0o664  # an overwritten file keeps its mode
        os.umask(0o077)
        private = write_bundle(load_demo_bundle("task_tracker_1"), tmp_path / "private")
        assert _mode(private) == 0o600
    finally:
        os.umask(previous)
    assert not list((tmp_path / "bundles").glob(".*"))  # no temporary files left behind


def test_a_truncated_bundle_file_names_file_place_and_remedy(tmp_path):
    path = write_bundle(load_demo_bundle("bookstore_1"), tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b'"env_code": "') + 5000])
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 1 problem(s)")
    assert re.search(r"line \d+ column 13 \(field env_code\): the file ends inside the string that starts here", message)
    assert "cut short" in message and "restore it from its source" in message
    rehash = CliRunner().invoke(awm_app, ["bundle", "rehash", str(path)])
    assert rehash.exit_code == 2 and str(path) in rehash.output and "(field env_code)" in rehash.output
    path.write_bytes(data.replace(b'"tasks": [', b'"tasks": [,', 1))
    with pytest.raises(BundleError, match=r"\(field tasks\): invalid JSON: Expecting value; fix it there"):
        read_bundle(path)


def test_load_bundles_reads_a_folder_of_bundle_files(tmp_path):
    for bundle_id in ("bookstore_1", "clinic_booking_1"):
        write_bundle(load_demo_bundle(bundle_id), tmp_path / "bundles")
    assert list(load_bundles(tmp_path / "bundles")) == ["bookstore_1", "clinic_booking_1"]
    assert list(load_bundles(str(tmp_path / "bundles") + "/", bundle_ids=["clinic_booking_1"])) == ["clinic_booking_1"]
    assert list(load_bundles(tmp_path / "bundles" / "bookstore_1.json")) == ["bookstore_1"]
    with pytest.raises(ValueError, match=r"none named 'bookstore' \(did you mean bookstore_1\?\)$"):
        load_bundles(tmp_path / "bundles", bundle_ids=["bookstore"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a dataset folder written by `awm release pack` .* and no bundle files"):
        load_bundles(tmp_path / "empty")


def test_wrong_shaped_rest_bodies_get_the_documented_error(server):
    client = server.client
    session_id = client.post("/sessions", json={"bundle_id": "bookstore_1"}).json()["session_id"]
    cases = [
        (client.post(f"/sessions/{session_id}/call", json={"tool": "search_books", "arguments": "Le Guin"}),
         422, "invalid_request", 'arguments: Input should be a valid dictionary (got "Le Guin")'),
        (client.post("/sessions", json={"bundle_id": "bookstore_1", "task_idx": "zero"}),
         422, "invalid_request", 'task_idx: Input should be a valid integer, unable to parse string as an integer (got "zero")'),
        (client.post("/sessions", content=b"{not json", headers={"content-type": "application/json"}),
         400, "invalid_json", "the request body is not valid JSON (Expecting property name enclosed in double quotes)"),
        (client.post(f"/sessions/{session_id}/call", json=[1]),
         422, "invalid_request", "the body: Input should be a valid dictionary"),
        (client.delete(f"/sessions/{session_id}", params={"save": "maybe"}),
         422, "invalid_request", 'query parameter save: Input should be a valid boolean, unable to interpret input (got "maybe")'),
    ]
    for response, status, kind, message in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["type"] == kind
        assert response.json()["error"]["message"].startswith(message), response.json()
    assert client.delete(f"/sessions/{session_id}").status_code == 200


def test_offline_hub_commands_fail_fast_or_plan_offline(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: the Hub "cannot be reached"
    unreachable = run_cli("eval", "--dataset", "awm/envs", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
                          "--out", str(tmp_path / "eval"), env={"HF_ENDPOINT": closed, "HF_HUB_OFFLINE": "0"})
    assert unreachable.returncode == 2 and unreachable.stderr.count("\n") == 1, unreachable.stderr
    assert unreachable.stderr.startswith(f"error: awm/envs: the Hugging Face Hub cannot be reached (no connection to {closed}")
    assert "a local folder written by `awm release pack`" in unreachable.stderr and "HF_HUB_OFFLINE=1" in unreachable.stderr
    offline = run_cli("eval", "--dataset", "awm/envs", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
                      "--out", str(tmp_path / "eval"), env={"HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 2 and "HF_HUB_OFFLINE is set, so only the Hugging Face cache is read" in offline.stderr

    write_bundle(load_demo_bundle("bookstore_1"), tmp_path / "bundles")
    pack_release([tmp_path / "bundles"], tmp_path / "awm-envs", PackOptions(version="1.0.0", progress=False))
    plan = run_cli("release", "push", str(tmp_path / "awm-envs"), "--repo", "awm/envs", "--dry-run",
                   env={"HF_ENDPOINT": closed, "HF_HUB_OFFLINE": "0"})
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert lines[0] == "create dataset repo awm/envs if it does not exist"
    assert "  upload manifest.json" in lines and "tag the commit v1.0.0" in lines
    assert lines[-1].startswith(f"not checked, because the Hub could not be asked (no connection to {closed}")
    assert "whether its tag v1.0.0 is taken" in lines[-1] and "the folder itself was checked" in lines[-1]
    json.loads((tmp_path / "awm-envs" / "manifest.json").read_text())  # the folder is untouched and readable
