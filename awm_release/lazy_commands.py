"""Command groups imported only when they are used.

Each command group pulls in heavy libraries (openai for `gen`, verl and torch helpers for `train`, Starlette
and sqlite-utils for `view`, the runtime for `bundle check`): imported eagerly, every `awm` call paid for all
of them, about 3 s before `awm demo` printed a line. A lazy entry imports its module when the command is
resolved: to run it, or to list it in its group's help.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup


def lazy_group(**targets: str) -> type[TyperGroup]:
    """A TyperGroup class (for `typer.Typer(cls=...)`) with extra commands `name="module:attribute"`, each a Typer
    app or a command function, imported on first use."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            listed = super().list_commands(ctx)
            return [*listed, *(name for name in targets if name not in listed)]

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name in targets and cmd_name not in self.commands:
                self.commands[cmd_name] = _command_of(cmd_name, targets[cmd_name])
            return super().get_command(ctx, cmd_name)

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
