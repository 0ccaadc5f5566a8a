"""The attack suite: hostile bundles served beside an honest one by one sandboxed awm-serve.

Every row of issue 11's attack table, plus more: environment code (at import time and in handlers) and verifier
code try to read secrets and host files, write, spawn, fork, signal, reach the network and the server, forge
frames, tamper with other bundles and sessions, and abuse the sqlite3 module; the REST edge gets oversized and
malformed input. For each: the attack is contained with a clear error, no fake secret from the server's
environment appears in any response or file, the honest bundle's correct solution still verifies `complete`
and an untouched session `others`, and after shutdown no process the server started is alive.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from awm_release.bundle import VerifierCode
from awm_release.bundle_io import write_bundle
from awm_release.demo import demo_solutions, load_demo_bundle
from tests.conftest import RunningServer

SECRETS = {"HF_TOKEN": "hf_FAKEsecretTOKEN0123456789", "AWS_SECRET_ACCESS_KEY": "FAKEawsSECRETkey0123456789",
           "AWM_JUDGE_API_KEY": "sk-FAKEjudgeKEY0123456789", "OPENAI_API_KEY": "sk-FAKEopenaiKEY0123456789"}
HONEST = "bookstore_1"
PWNED = "/tmp/awm-attack-pwned"  # a file the front would create if it ever ran a forged frame

# Handler bodies: each runs in a tool `attack(port)` of its own bundle and returns what it achieved.
ENV_ATTACKS = {
    "env_secrets": "return dict(os.environ)",
    "import_time_secrets": "return STOLEN",
    "read_ssh": "return open(os.path.expanduser('~root/.ssh/id_rsa')).read()",
    "read_passwd": "return open('/etc/passwd').read()",
    "list_root": "return os.listdir('/root')",
    "read_hf_cache": "return os.listdir(os.path.expanduser('~root/.cache/huggingface'))",
    "write_repo": f"open({str(Path(__file__).resolve().parents[1] / 'pwned.txt')!r}, 'w').write('x'); return 'wrote'",
    "write_shared_tmp": "open('/tmp/other-worker-file', 'w').write('x'); return 'wrote'",
    "spawn_sh": "import subprocess; return subprocess.run(['sh', '-c', 'id'], capture_output=True).stdout",
    "fork_survivor": "pid = os.fork()\n    if pid == 0:\n        import time; time.sleep(600)\n    return pid",
    "connect_server": "import socket; socket.create_connection(('127.0.0.1', port), timeout=2); return 'connected'",
    "connect_internet": "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2); return 'connected'",
    "patch_other_bundle": "import sys; hit = [m for m in sys.modules if m.startswith('awm_env_') and m != __name__]\n"
                          "    for m in hit: sys.modules[m].verify = None\n    return hit or None",
    "edit_other_sessions": "import gc, sqlite3\n    dbs = [o for o in gc.get_objects() if isinstance(o, sqlite3.Connection)]\n"
                           "    names = [r[0] for d in dbs for r in d.execute(\"SELECT name FROM sqlite_master WHERE name='cart_items'\")]\n"
                           "    return None if set(names) <= {'cart_items'} else names",
    "forge_frames": "import pickle, struct\n    class P:\n        def __reduce__(self): return (open, (%r, 'w'))\n"
                    "    blob = pickle.dumps((0, 'ok', P()))\n    wrote = []\n    for fd in range(3, 64):\n"
                    "        try:\n            os.write(fd, struct.pack('>I', len(blob)) + blob); wrote.append(fd)\n"
                    "        except OSError:\n            pass\n    return wrote or None" % PWNED,
    "kill_everyone": "os.kill(-1, 9); return 'killed'",
    "kill_pid_1": "os.kill(1, 9); return 'killed'",
    "pidfd": "os.pidfd_open(1); return 'opened'",
    "ptrace": "import ctypes; r = ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0)\n    return None if r != 0 else 'attached'",
    "unshare": "import ctypes; r = ctypes.CDLL(None, use_errno=True).unshare(0x10000000)\n    return None if r != 0 else 'unshared'",
    "proc_environ": "return open('/proc/1/environ').read()",
    "sibling_memory": "return [open(f'/proc/{p}/environ').read() for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]",
}
# Verifier bodies for task 0 of bundles of their own; each returns {"result": "complete", ...} if it got through.
VERIFIER_ATTACKS = {
    "v_environ": "import os\n    return {'result': 'complete', 'env': dict(os.environ)}",
    "v_gadget": "os = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__\n"
                "    return {'result': 'complete', 'env': dict(os['environ'])}",
    "v_attach": "import sqlite3\n    c = sqlite3.connect(initial_db_path)\n"
                "    c.execute(\"ATTACH DATABASE '/etc/passwd' AS host\")\n    return {'result': 'complete'}",
    "v_load_extension": "import sqlite3\n    c = sqlite3.connect(initial_db_path)\n    c.enable_load_extension(True)\n"
                        "    c.load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')\n    return {'result': 'complete'}",
    "v_forge_frames": "import os, json, struct\n    blob = json.dumps({'id': 1, 'ok': True, 'value': {'result': 'complete'}}).encode()\n"
                      "    for fd in range(0, 64):\n        try:\n            os.write(fd, struct.pack('>I', len(blob)) + blob)\n"
                      "        except OSError:\n            pass\n    return {'result': 'others'}",
    "v_pidfd_kill": "import os, signal\n    fd = os.pidfd_open(1)\n    signal.pidfd_send_signal(fd, 9)\n    return {'result': 'complete'}",
    "v_close_and_sleep": "import os, time\n    os.closerange(0, 1024)\n    time.sleep(600)\n    return {'result': 'complete'}",
    "v_write_database": "import sqlite3\n    c = sqlite3.connect(final_db_path)\n    c.execute('DELETE FROM cart_items')\n    c.commit()\n"
                        "    return {'result': 'complete'}",
}


def hostile_env(name: str) -> str:
    prelude = "import os\nSTOLEN = dict(os.environ)\n" if name == "import_time_secrets" else "import os\n"
    body = ENV_ATTACKS[name]
    return f"\n\n{prelude}\n@app.get('/attack', operation_id='attack')\ndef attack(port: int = 0):\n    {body}\n"


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    base = load_demo_bundle(HONEST)
    folder, runs = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("runs")
    for name in ENV_ATTACKS:
        write_bundle(base.model_copy(update={"bundle_id": name, "env_code": base.env_code + hostile_env(name)}), folder)
    for name, body in VERIFIER_ATTACKS.items():
        code = f"def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    {body}\n"
        verifiers = [v.model_copy(update={"code": VerifierCode(code=code)}) if v.task_idx == 0 else v for v in base.verifiers]
        write_bundle(base.model_copy(update={"bundle_id": name, "verifiers": verifiers}), folder)
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    try:
        server = RunningServer([HONEST, *ENV_ATTACKS, *VERIFIER_ATTACKS, "--bundles", str(folder), "--workers", "1",
                                "--verifier-timeout", "3", "--verifier-pool-size", "2", "--runs-dir", str(runs)],
                               startup_timeout_s=120).start()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    try:
        yield server, runs
    finally:
        server.stop()


def leaked(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def session(server: RunningServer, bundle_id: str, task_idx: int | None = None) -> str:
    response = server.client.post("/sessions", json={"bundle_id": bundle_id, "task_idx": task_idx})
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def test_hostile_environments_are_contained(attacked):
    server, _ = attacked
    port = int(server.url.rsplit(":", 1)[1])
    honest = session(server, HONEST, 0)
    for name in ENV_ATTACKS:
        sid = session(server, name)
        response = server.client.post(f"/sessions/{sid}/call", json={"tool": "attack", "arguments": {"port": port}})
        assert response.status_code == 200 and not leaked(response.text), (name, response.text[:500])
        outcome = response.json()
        achieved = outcome.get("result") if outcome["ok"] else None
        if name in ("env_secrets", "import_time_secrets"):
            assert achieved is not None and "HOME" in achieved, (name, outcome)  # ran, and saw only the allowlist
        elif name == "list_root":  # only the mount points of the Python installation, where it lives below /root
            assert achieved is None or not {".ssh", ".cache", ".bashrc"} & set(achieved), (name, outcome)
        else:
            assert achieved is None or name == "forge_frames" and outcome["error"], (name, outcome)
            if not outcome["ok"]:
                assert outcome["error"]["type"] in ("environment_error", "server_error"), (name, outcome)
    assert not Path(PWNED).exists(), "a forged frame ran code in the front"
    assert not (Path(__file__).resolve().parents[1] / "pwned.txt").exists()
    # The honest bundle, in processes of its own, is untouched by all of that.
    for step in demo_solutions(HONEST)[0]["steps"]:
        assert server.client.post(f"/sessions/{honest}/call", json={"tool": step["tool"], "arguments": step["arguments"]}).json()["ok"]
    assert server.client.post(f"/sessions/{honest}/verify", json={}).json()["result"] == "complete"


def test_hostile_verifiers_are_contained_and_the_honest_bundle_still_verifies(attacked):
    server, runs = attacked
    for name in VERIFIER_ATTACKS:
        sid = session(server, name, 0)
        verdict = server.client.post(f"/sessions/{sid}/verify", json={}).json()
        assert not leaked(json.dumps(verdict)), (name, verdict)
        if name in ("v_environ", "v_gadget"):  # they run, and see only the sandbox's environment
            assert verdict["result"] == "complete" and "HOME" in verdict["details"]["env"], (name, verdict)
        elif name == "v_forge_frames":  # it can only garble its own result pipe
            assert verdict["result"] in ("others", "judge_error"), (name, verdict)
        else:
            assert verdict["result"] == "judge_error", (name, verdict)
        if name == "v_close_and_sleep":  # closing its pipe ends the request at once, and its process group is killed
            assert verdict["error"]["error_type"] in ("verifier_crash", "verifier_timeout"), verdict
    solved, untouched = session(server, HONEST, 0), session(server, HONEST, 0)
    for step in demo_solutions(HONEST)[0]["steps"]:
        server.client.post(f"/sessions/{solved}/call", json={"tool": step["tool"], "arguments": step["arguments"]})
    assert server.client.post(f"/sessions/{solved}/verify", json={}).json()["result"] == "complete"
    assert server.client.post(f"/sessions/{untouched}/verify", json={}).json()["result"] == "others"
    saved = server.client.delete(f"/sessions/{solved}", params={"save": "true"}).json()["saved_to"]
    assert Path(saved).is_dir()


def test_the_rest_edge_refuses_oversized_and_malformed_input(attacked):
    server, runs = attacked
    sid = session(server, HONEST, 0)
    big = server.client.post(f"/sessions/{sid}/call", content=b'{"tool": "search_books", "arguments": {"query": "' + b"x" * (50 << 20) + b'"}}',
                             headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["type"] == "request_too_large"
    nan = server.client.post(f"/sessions/{sid}/verify", content=b'{"rewards": {"complete": NaN}}', headers={"content-type": "application/json"})
    assert nan.status_code == 400 and "finite" in nan.json()["error"]["message"]
    surrogate = server.client.post(f"/sessions/{sid}/call", content=b'{"tool": "search_books", "arguments": {"query": "\\ud800"}}',
                                   headers={"content-type": "application/json"})
    assert surrogate.status_code in (200, 400), surrogate.text  # never a 500
    long_tool = server.client.post(f"/sessions/{sid}/call", json={"tool": "t" * 200, "arguments": {}}).json()
    assert len(long_tool["error"]["message"]) < 2500
    huge = "y" * (600 << 10)  # under the body cap, over the trajectory's bound
    server.client.post(f"/sessions/{sid}/call", json={"tool": "search_books", "arguments": {"query": huge}})
    saved = server.client.delete(f"/sessions/{sid}", params={"save": "true"}).json()["saved_to"]
    recorded = json.loads((Path(saved) / "trajectory.json").read_text())["calls"][-1]["arguments"]
    assert recorded["_truncated"] is True and recorded["bytes"] > 600 << 10
    every_file = "".join(p.read_text(errors="replace") for p in runs.rglob("*") if p.is_file())
    assert not leaked(every_file) and not leaked(server.output())


def test_nothing_the_server_started_outlives_it(attacked):
    server, _ = attacked
    started = psutil.Process(server.pid).children(recursive=True)
    assert len(started) >= 6, "zygote, workers and verifier servers, each under bubblewrap"
    before = len(server.output())
    server.stop()  # SIGTERM: a clean shutdown that replaces nothing and loses nothing on the way
    gone, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, [p.cmdline()[:4] for p in alive]
    after = server.output()[before:]
    assert server.proc.returncode == 0 and "stopped:" not in after and "zygote failed" not in after, after[-2000:]


def test_hub_datasets_need_consent_before_anything_runs():
    """Asked before anything starts: with its port taken as well, the server names the missing consent."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        run = subprocess.run([sys.executable, "-m", "env_server.cli", "e_commerce_33", "--dataset", "someone/envs", "--port", port],
                             capture_output=True, text=True, timeout=60, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 2 and "Pass --trust-remote-code" in run.stdout + run.stderr, run.stdout + run.stderr
    assert "in use" not in run.stdout + run.stderr


def test_no_sandbox_means_no_bundle_code(tmp_path, monkeypatch):
    """Fail closed: where bubblewrap cannot set up a sandbox (here: a bwrap that fails as it does in a container
    forbidding user namespaces), the check says why and what to do; bundle code in the front needs --sandbox off."""
    from awm_release.sandbox import launch

    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(launch, "bwrap_binary", lambda: str(fake))
    with pytest.raises(launch.SandboxUnavailable, match="setting up uid map: Permission denied.*user namespaces.*--sandbox off"):
        launch.Sandbox().check()
    run = subprocess.run([sys.executable, "-m", "env_server.cli", "--workers", "0"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--sandbox off" in run.stdout + run.stderr
