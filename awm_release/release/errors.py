"""The one error type of the release: a dataset folder, Hub repo or request that cannot be used as asked."""


class ReleaseError(ValueError):
    """What is wrong, where, and what to do about it, in one message (a ValueError, so callers that already
    report ValueErrors show it as it is)."""
