"""Every command is registered in one place, each with the one error renderer."""

from __future__ import annotations

import click

from followupd.cli import COMMANDS, cli


def _leaves(command: click.Command) -> list[click.Command]:
    if isinstance(command, click.Group):
        return [leaf for sub in command.commands.values() for leaf in _leaves(sub)]
    return [command]


def test_every_command_of_the_design_is_registered() -> None:
    names = set(cli.commands)
    assert {
        "init", "login", "logout", "run", "sync", "status", "list", "show", "approve",
        "skip", "note", "check", "preview", "templates", "demo", "service",
    } <= names  # fmt: skip
    assert len(COMMANDS) == len(names)


def test_every_command_runs_through_the_error_renderer() -> None:
    for command in _leaves(cli):
        assert command.callback is not None
        assert getattr(command.callback, "__wrapped__", None) is not None, command.name
