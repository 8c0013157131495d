"""One exception root; the CLI turns these into messages and exit codes."""

from __future__ import annotations

# Exit codes fixed by DESIGN.md (sysexits.h values).
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69
EXIT_NOPERM = 77
EXIT_CONFIG = 78


class FollowupdError(Exception):
    """A problem the user can act on; `str()` says what happened and what to do."""

    exit_code = 1


class ConfigError(FollowupdError):
    exit_code = EXIT_CONFIG

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class TemplateError(FollowupdError):
    """A template that cannot render: names the template and line."""

    exit_code = EXIT_CONFIG


class AuthError(FollowupdError):
    """Not logged in, or Google refused the token."""

    exit_code = EXIT_NOPERM


class KeyringUnavailable(AuthError):
    """No usable Secret Service (headless box, locked collection, no session bus)."""


class GoogleUnavailable(FollowupdError):
    """Google (or the sandbox) did not answer after retries."""

    exit_code = EXIT_UNAVAILABLE


class NotFound(FollowupdError):
    exit_code = EXIT_USAGE
