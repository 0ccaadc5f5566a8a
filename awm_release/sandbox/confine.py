"""What a sandboxed process does to itself right before it runs bundle code (env workers, verifier children,
synthesis checks). Runs inside the bubblewrap sandbox, after fork from a zygote or fork server:

1. keep only its own channel: every other file descriptor is closed;
2. its own process group (so its parent can kill the group at a deadline), killed with its parent,
   not dumpable (no /proc/<pid>/mem, environ or ptrace from its siblings, which share its uid);
3. resource limits (address space, CPU, file size);
4. Landlock where the kernel has it: writes only below its own scratch folder, no TCP, and no signals or
   abstract-socket connections outside its own domain (ABI >= 6);
5. the UNTRUSTED seccomp filter (seccomp.py) on top of the sandbox's: no exec, no new processes, no signals.

Only the kernel's own mechanisms are used; the ctypes calls below are their documented system-call interfaces.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import struct
from collections.abc import Iterable
from dataclasses import dataclass

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 38, 22
SECCOMP_MODE_FILTER = 2
# Landlock: the same system-call numbers on every architecture (the generic table).
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# Write-side file-system rights by ABI: make/remove/write (1), refer (2), truncate (3).
_FS_WRITE = {1: 0b1_1111_1111_0010, 2: 0b11_1111_1111_0010, 3: 0b111_1111_1111_0010}
_NET_TCP = 0b11  # bind and connect (ABI 4)
_SCOPES = 0b11  # abstract unix sockets and signals (ABI 6)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int | None = None
    cpu_seconds: int | None = None
    file_bytes: int | None = None


def _prctl(option: int, value: int, pointer: ctypes.c_void_p | None = None) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), pointer, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed: {os.strerror(err)}")


def close_other_fds(keep: Iterable[int]) -> None:
    """Close every descriptor but `keep` (0-2 are pointed at /dev/null unless kept)."""
    kept = sorted(set(keep))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in kept:
            os.dup2(devnull, fd)
    os.close(devnull)
    low = 3
    for fd in kept + [1 << 20]:
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is absent or disabled."""
    abi = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(abi, 0)


def _landlock(writable: str | None) -> int:
    abi = landlock_abi()
    if abi == 0:
        return 0
    fs = _FS_WRITE[min(abi, 3)]
    attr = struct.pack("=QQQ", fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        if writable:
            folder = os.open(writable, os.O_PATH | os.O_DIRECTORY)
            try:
                rule = ctypes.create_string_buffer(struct.pack("=Qi", fs, folder), 12)
                if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule, ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), "landlock_add_rule failed")
            finally:
                os.close(folder)
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def load_seccomp(program: bytes) -> None:
    """Install a compiled BPF program (seccomp.py) on this process and all it starts."""
    count = len(program) // 8
    filters = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HL", count, ctypes.addressof(filters))  # struct sock_fprog {unsigned short len; filter *}
    holder = ctypes.create_string_buffer(fprog, len(fprog))
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.cast(holder, ctypes.c_void_p))


def confine(*, keep_fds: Iterable[int], limits: Limits, writable: str | None, seccomp_program: bytes | None,
            own_group: bool = True) -> int:
    """Lock this process down for bundle code; returns the Landlock ABI applied (0: none). Call once, after fork."""
    close_other_fds(keep_fds)
    if own_group:
        os.setpgid(0, 0)  # the parent does the same, so its killpg at a deadline never races this line
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(PR_SET_DUMPABLE, 0)
    for kind, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_bytes)):
        if value is not None:
            resource.setrlimit(kind, (value, value))
    abi = _landlock(writable)
    if seccomp_program:
        load_seccomp(program=seccomp_program)
    return abi
