"""The one error renderer: followupd's errors become a message and their exit code,
anything else one line (a traceback with --debug). Applied to every command by
`handle_errors`, once, where the commands are registered."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from followupd.cli.context import Ctx
from followupd.errors import EXIT_USAGE, FollowupdError

F = TypeVar("F", bound=Callable[..., Any])


def catch_errors(func: F) -> F:
    """One place that turns errors into messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FollowupdError as exc:
            click.echo(f"followupd: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # an unknown error: one line, traceback with --debug
            ctx = click.get_current_context().find_object(Ctx)
            if ctx is not None and ctx.debug:
                raise
            click.echo(
                f"followupd: unexpected error: {type(exc).__name__}: {exc} "
                "(run with --debug for details)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def handle_errors(command: click.Command) -> click.Command:
    """`command` (and, for a group, each of its subcommands) with `catch_errors`."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            handle_errors(sub)
    elif command.callback is not None:
        command.callback = catch_errors(command.callback)
    return command


def run_group(group: click.Group) -> None:
    """Run the root group; click's own errors (usage, abort) get their exit codes."""
    try:
        group(standalone_mode=False, prog_name="followupd")
    except click.exceptions.NoSuchOption as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    sys.exit(0)
