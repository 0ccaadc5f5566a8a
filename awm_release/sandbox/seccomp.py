"""Seccomp filters, compiled by libseccomp (through pyseccomp) in the trusted front, loaded inside the sandbox.

Two programs, both "allow by default, refuse what untrusted code has no business doing":

- SANDBOX: every process in a sandbox (bubblewrap loads it with `--seccomp FD` just before running Python):
  no ptrace or access to other processes' memory, no pidfds, no mount or new namespaces, no bpf, perf,
  kernel modules, keyrings, userfaultfd or io_uring. clone3 answers ENOSYS so that libc falls back to
  clone, whose flags a filter can read.
- UNTRUSTED: stacked on top by a sandboxed process right before it runs bundle code (confine.py): no exec,
  no new processes (threads only), no signals at all. The zygote and the fork servers themselves keep
  fork and kill, because they run only this package's code.

Compiled here rather than inside the sandbox so the sandbox needs neither libseccomp nor a compiler of BPF.
"""

from __future__ import annotations

import errno
import functools
import tempfile

CLONE_THREAD = 0x00010000
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080)

SANDBOX_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "mount_setattr", "unshare", "setns",
    "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "open_by_handle_at", "name_to_handle_at",
    "lookup_dcookie", "fanotify_init", "personality", "uselib", "vhangup", "iopl", "ioperm",
)
UNTRUSTED_DENIED = (
    "execve", "execveat", "fork", "vfork",
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
)


def _compile(build) -> bytes:
    import pyseccomp as seccomp  # noqa: PLC0415 - only the front compiles filters

    program = seccomp.SyscallFilter(seccomp.ALLOW)
    build(seccomp, program)
    with tempfile.TemporaryFile() as out:
        program.export_bpf(out)
        out.seek(0)
        return out.read()


def _deny(seccomp, program, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            program.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            pass  # a syscall this architecture does not have


@functools.cache
def sandbox_filter() -> bytes:
    def build(seccomp, program) -> None:
        _deny(seccomp, program, SANDBOX_DENIED)
        program.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        for flag in CLONE_NAMESPACE_FLAGS:
            program.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))

    return _compile(build)


@functools.cache
def untrusted_filter() -> bytes:
    def build(seccomp, program) -> None:
        _deny(seccomp, program, UNTRUSTED_DENIED)
        program.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))

    return _compile(build)
