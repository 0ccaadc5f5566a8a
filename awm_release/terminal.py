"""Terminal output shared by the command-line tools: consoles that print text as it is, and labelled lines.

Rich reads `[word]` in printed strings as markup and drops it, so `pip install "awm-release[embeddings]"` became
`pip install "awm-release"`. Every console here has markup off: messages, paths and hints print verbatim, and
colour comes only from the labels built as `Text`.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.text import Text


def plain_console(*, stderr: bool = False) -> Console:
    """A console that never interprets markup; long lines stay whole (paths and commands remain copyable)."""
    return Console(stderr=stderr, soft_wrap=True, markup=False, highlight=False)


def labelled(label: str, style: str, *message: RenderableType) -> tuple[RenderableType, ...]:
    """`label:` in colour, then the message verbatim: `console.print(*labelled("warning", "yellow", text))`."""
    return (Text(f"{label}:", style=style), *message)


def print_error(console: Console, message: str) -> None:
    """One red `error:` line with the message as it is."""
    console.print(*labelled("error", "red", message))
