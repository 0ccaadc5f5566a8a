"""Start `awm-serve` as a child process and wait until it answers: for tests, benchmarks and launchers."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from types import TracebackType

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`with ServerProcess(["bookstore_1"]) as server: httpx.get(server.url + "/health")`.

    The server is started with --exit-with-parent: it never outlives this process, even one killed with SIGKILL.
    """

    def __init__(self, args: list[str], *, host: str = "127.0.0.1", port: int | None = None,
                 startup_timeout_s: float = 60.0, log_level: str = "warning"):
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.command = [sys.executable, "-m", "env_server.cli", *args, "--host", host, "--port", str(self.port),
                        "--log-level", log_level, "--exit-with-parent"]
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not started"
        return self.proc.pid

    def start(self) -> ServerProcess:
        # A file, not a pipe: nobody reads the server's output while it runs, and a full pipe would block it.
        self.log = tempfile.TemporaryFile(mode="w+", prefix="awm-serve-", suffix=".log")
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"awm-serve exited with status {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"awm-serve did not answer {self.url}/health within {self.startup_timeout_s:g} s")

    def output(self) -> str:
        """Everything the server has printed so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
