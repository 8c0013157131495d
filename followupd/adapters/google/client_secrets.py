"""The OAuth client file (a Google Cloud "Desktop app" client JSON): where it is,
checking it, and importing a downloaded one into the config directory (mode 0600).

Google documents that an installed app's client secret cannot be kept confidential,
but the token endpoint still wants it for every refresh, so it stays in this file and
never goes into the token record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followupd import paths
from followupd.errors import ConfigError

if TYPE_CHECKING:
    from followupd.core.settings import Config

CLIENT_SECRETS_FILE = "client_secret.json"

# How to make a Desktop app client: said wherever the client is missing or refused.
CREATE_CLIENT_HELP = (
    "In Google Cloud Console open APIs & Services > Credentials > Create credentials > "
    'OAuth client ID, choose Application type "Desktop app", download its JSON and run '
    "`followupd login --client-secrets FILE`."
)


def client_secrets_path(config: Config) -> Path:
    """``google.client_secrets`` when set (relative to the config dir), else the copy
    :func:`import_client_secrets` makes."""
    configured = config.google.client_secrets.strip()
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else paths.config_dir() / path
    return paths.config_dir() / CLIENT_SECRETS_FILE


def _secrets_problem(path: Path, problem: str) -> ConfigError:
    return ConfigError([f"{path}: {problem}"])


def read_client_secrets(path: Path) -> dict[str, Any]:
    """The whole client JSON from *path*, checked to be a Desktop app client."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _secrets_problem(path, f"no such file. {CREATE_CLIENT_HELP}") from None
    except OSError as exc:
        raise _secrets_problem(path, f"cannot read it: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _secrets_problem(
            path, f"not JSON, so not an OAuth client file. {CREATE_CLIENT_HELP}"
        ) from None
    if not isinstance(data, dict):
        raise _secrets_problem(path, f"not an OAuth client file. {CREATE_CLIENT_HELP}")
    if "installed" not in data and "web" in data:
        raise _secrets_problem(
            path,
            'this is a "Web application" OAuth client; followupd needs a "Desktop app" '
            "client, whose loopback redirect works on any port of this machine. "
            + CREATE_CLIENT_HELP,
        )
    installed = data.get("installed")
    if not isinstance(installed, dict):
        raise _secrets_problem(
            path,
            'not an OAuth client file (expected {"installed": {"client_id": ..., '
            f'"client_secret": ...}}}}). {CREATE_CLIENT_HELP}',
        )
    missing = [
        key
        for key in ("client_id", "client_secret")
        if not isinstance(installed.get(key), str) or not installed[key].strip()
    ]
    if missing:
        raise _secrets_problem(
            path, f'the "installed" client lacks {" and ".join(missing)}. {CREATE_CLIENT_HELP}'
        )
    return data


def import_client_secrets(src: Path) -> Path:
    """Check *src* is a Desktop app client and copy it, mode 0600, into the config dir.

    Returns the path of the copy, which later logins reuse.
    """
    data = read_client_secrets(src)
    dest = paths.config_dir() / CLIENT_SECRETS_FILE
    body = json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    paths.atomic_write(dest, body, mode=0o600)
    return dest
