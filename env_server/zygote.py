"""The zygote: a sandboxed process with the serving stack imported, forking one worker per bundle on request.

Started by the front (env_server.worker_pool) inside the sandbox as `python -I -m env_server.zygote FD SECCOMP_HEX`.
It imports FastAPI, SQLAlchemy, Pydantic, uvloop and the runtime once, so a bundle's worker costs a fork
(copy-on-write: the libraries' memory is shared by all workers) instead of a Python start-up. It runs only this
package's code, never bundle code. Its channel is a SOCK_SEQPACKET socket, one msgpack message per packet:

    {"id", "op": "fork", "config"} + the worker's channel (SCM_RIGHTS)  ->  {"id", "pid"}
    {"id", "op": "kill", "pid"}                                           ->  {"id", "killed"}
    {"id", "op": "stats"}                                                 ->  {"id", "rss": [[pid, bytes], ...]}

It reaps its children, kills only its own live children, and when its channel closes it kills them all and exits
(they also die with it: confine sets their parent-death signal).
"""

from __future__ import annotations

import gc
import os
import select
import signal
import socket
import sys
from typing import Any

from awm_release.sandbox.frames import ProtocolError, decode, encode

PACKET_LIMIT = 1 << 20


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Zygote:
    def __init__(self, channel: socket.socket, seccomp_program: bytes):
        self.channel = channel
        self.seccomp_program = seccomp_program
        self.children: set[int] = set()

    def reap(self) -> None:
        while self.children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def fork(self, config: dict[str, Any], channel_fd: int) -> int:
        from env_server.worker import config_from_dict, run  # noqa: PLC0415 - imported at start-up already

        pid = os.fork()
        if pid == 0:
            try:
                run(channel_fd, config_from_dict(config), self.seccomp_program)
            finally:
                os._exit(0)
        os.close(channel_fd)
        self.children.add(pid)
        return pid

    def kill(self, pid: int) -> bool:
        self.reap()
        if pid not in self.children:
            return False
        os.kill(pid, signal.SIGKILL)
        return True

    def answer(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        op = request.get("op")
        if op == "fork" and len(fds) == 1 and isinstance(request.get("config"), dict):
            return {"pid": self.fork(request["config"], fds[0])}
        for fd in fds:
            os.close(fd)
        if op == "kill" and isinstance(request.get("pid"), int):
            return {"killed": self.kill(request["pid"])}
        if op == "stats":
            self.reap()
            return {"rss": [[pid, _rss(pid)] for pid in self.children]}
        return {"error": f"bad zygote request {str(op)[:40]!r}"}

    def serve(self) -> None:
        while True:
            self.reap()
            if not select.select([self.channel], [], [], 1.0)[0]:
                continue
            message, fds, _, _ = socket.recv_fds(self.channel, PACKET_LIMIT, 1)
            if not message:
                break
            try:
                request = decode(message)
            except ProtocolError:
                break
            if not isinstance(request, dict):
                break
            self.channel.send(encode({**self.answer(request, list(fds)), "id": request.get("id")})[4:])
        for pid in list(self.children):
            self.kill(pid)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):  # the front owns our lifetime: a terminal's ^C or a group
        signal.signal(signum, signal.SIG_IGN)       # SIGTERM must not kill workers behind its back
    channel = socket.socket(fileno=int(sys.argv[1]))
    seccomp_program = bytes.fromhex(sys.argv[2]) if len(sys.argv) > 2 else b""
    import uvloop  # noqa: F401,PLC0415 - the whole serving stack, imported once for every worker

    import env_server.worker  # noqa: F401,PLC0415

    gc.freeze()
    Zygote(channel, seccomp_program).serve()


if __name__ == "__main__":
    main()
