"""Atomic file writes: a crash mid-write never leaves a truncated file where a good one was.

Files get the modes any new file gets (0666 less the umask; an overwritten file keeps its own), not the
0600 of `tempfile.mkstemp`: bundles, dataset cards and manifests are meant to be shared.
"""

import os
import secrets
import stat
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` via a temporary sibling, fsync, then rename over the target."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL never reuses or follows an existing path; 0o666 lets the kernel apply the umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass  # a new file: the umask decided
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def umask_mode(mode: int) -> int:
    """`mode` less the process's umask: what a folder made with `mode` would get (for `tempfile.mkdtemp`'s 0700)."""
    return mode & ~_umask()


def _umask() -> int:
    try:  # Linux reports it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        current = os.umask(0o022)  # elsewhere: read by setting, then restore at once
        os.umask(current)
        return current
