"""Subcommands imported only when they run or their help is shown.

Each command group pulls in heavy libraries (openai for `gen`, verl and torch helpers for `train`, Starlette
and sqlite-utils for `view`, the runtime for `bundle check`): imported eagerly, every `awm` call paid for all
of them, about 3 s before `awm demo` printed a line. A lazy entry imports its module on first use only.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import click
import typer
from typer.core import TyperGroup


class LazyCommand(click.Command):
    """Stands in for `module:attribute` (a Typer app or a command function) until it is run or listed."""

    def __init__(self, name: str, target: str):
        super().__init__(name)
        self._load: Callable[[], click.Command] = functools.cache(lambda: _command_of(name, target))

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # The real command parses and runs: the context it makes is the one click invokes.
        return self._load().make_context(info_name, args, parent, **extra)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self._load().get_short_help_str(limit)


def lazy_group(**targets: str) -> type[TyperGroup]:
    """A TyperGroup class (for `typer.Typer(cls=...)`) that adds `name="module:attribute"` entries lazily."""

    class LazyGroup(TyperGroup):
        def __init__(self, **attrs: Any):
            super().__init__(**attrs)
            for name, target in targets.items():
                self.add_command(LazyCommand(name, target))

    return LazyGroup


def _command_of(name: str, target: str) -> click.Command:
    module, attribute = target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        return typer.main.get_group(found)  # a group even with one command, as add_typer made it
    single = typer.Typer(rich_markup_mode=None, add_completion=False)  # a command function, as app.command() made it
    single.command(name)(found)
    return typer.main.get_command(single)
