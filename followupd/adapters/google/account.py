"""Which Google account followupd is logged in as.

The address (not a secret) is written to ``<state dir>/account`` (0600) at login, so
that the daemon knows which token store entry to read; ``google.account`` in the
config, when set, wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from followupd import paths
from followupd.errors import AuthError

if TYPE_CHECKING:
    from followupd.core.settings import Config

ACCOUNT_FILE = "account"
_ADDRESS = re.compile(r"^[^\s@]+@[^\s@]+$")


def is_address(text: str) -> bool:
    """True when *text* looks like one email address (something@somewhere)."""
    return bool(_ADDRESS.match(text))


def account_file() -> Path:
    return paths.state_dir() / ACCOUNT_FILE


def current_account(config: Config) -> str | None:
    """``google.account`` from the config, else the address the last login recorded."""
    configured = config.google.account.strip()
    if configured:
        return configured
    try:
        text = account_file().read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise AuthError(f"{account_file()}: cannot read it: {exc.strerror}") from None
    return text if is_address(text) else None


def write_account(account: str) -> None:
    state = paths.ensure_private_dir(paths.state_dir())
    paths.atomic_write(state / ACCOUNT_FILE, (account + "\n").encode("utf-8"), mode=0o600)
