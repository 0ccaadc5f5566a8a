"""Pages of long lists (episodes, run folders, table rows): every list the viewer shows is cut into pages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

PER_PAGE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # from 1
    pages: int
    total: int


def clamp(total: int, number: int, per_page: int = PER_PAGE) -> tuple[int, int, int]:
    """(page number, page count, offset of its first item): numbers out of range go to the first or last page."""
    pages = max(1, math.ceil(total / per_page))
    number = min(max(number, 1), pages)
    return number, pages, (number - 1) * per_page


def paginate(items: Sequence[T], number: int, per_page: int = PER_PAGE) -> Page[T]:
    number, pages, offset = clamp(len(items), number, per_page)
    return Page(list(items[offset:offset + per_page]), number, pages, len(items))
