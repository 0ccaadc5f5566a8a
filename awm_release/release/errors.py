"""The one error type of the release: a dataset folder, Hub repo or request that cannot be used as asked."""


def first_line(exc: BaseException) -> str:
    """An exception's first line for a one-line message (its type when it has no text)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ReleaseError(ValueError):
    """What is wrong, where, and what to do about it, in one message (a ValueError, so callers that already
    report ValueErrors show it as it is)."""
