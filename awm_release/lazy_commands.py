"""Command groups imported only when they are used.

Each command group pulls in heavy libraries (openai for `gen`, verl and torch helpers for `train`, Starlette
and sqlite-utils for `view`, the runtime for `bundle check`): imported eagerly, every `awm` call paid for all
of them, about 3 s before `awm demo` printed a line. A lazy entry imports its module when the command is
resolved to run it or to show its own help; the group's command list shows the entry's summary instead, so
`awm` and `awm --help` import nothing either.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup


class LazyCommand(NamedTuple):
    target: str  # "module:attribute": a Typer app or a command function
    summary: str  # the first paragraph of its help, listed by the group without importing it (a test keeps them equal)


def lazy_group(**commands: LazyCommand) -> type[TyperGroup]:
    """A TyperGroup class (for `typer.Typer(cls=...)`) with extra commands, each imported on first use."""

    class LazyGroup(TyperGroup):
        listing = False  # True while the group's help lists its commands

        def list_commands(self, ctx: Any) -> list[str]:
            listed = super().list_commands(ctx)
            return [*listed, *(name for name in commands if name not in listed)]

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name in commands and cmd_name not in self.commands:
                if self.listing:  # a help line needs only the summary: a stand-in that is never kept or run
                    return TyperCommand(cmd_name, help=commands[cmd_name].summary)
                self.commands[cmd_name] = _command_of(cmd_name, commands[cmd_name].target)
            return super().get_command(ctx, cmd_name)

        def format_commands(self, ctx: Any, formatter: Any) -> None:
            self.listing = True
            try:
                super().format_commands(ctx, formatter)
            finally:
                self.listing = False

    return LazyGroup


def _command_of(name: str, target: str) -> Any:
    """The click command typer makes of `module:attribute`, as add_typer / app.command() would have made it."""
    module, attribute = target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        return typer.main.get_group(found)  # a group even with one command, as add_typer made it
    single = typer.Typer(rich_markup_mode=None, add_completion=False)
    single.command(name)(found)
    return typer.main.get_command(single)
