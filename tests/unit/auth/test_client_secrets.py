"""Importing the OAuth client file: checks, messages, 0600 copy."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from support.auth_home import CLIENT_ID, write_client_file

from followupd import paths
from followupd.adapters.google.client_secrets import client_secrets_path, import_client_secrets
from followupd.errors import ConfigError


def test_import_copies_a_desktop_client_with_mode_0600(client_file: Path) -> None:
    client_file.chmod(0o644)
    dest = import_client_secrets(client_file)
    assert dest == paths.config_dir() / "client_secret.json"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert json.loads(dest.read_text())["installed"]["client_id"] == CLIENT_ID
    assert not list(dest.parent.glob(".*.tmp")), "the atomic write left a temp file"
    # Importing the copy onto itself works too (re-running login with the same path).
    assert import_client_secrets(dest) == dest


def test_web_client_gets_a_clear_message(tmp_path: Path) -> None:
    path = write_client_file(tmp_path / "web.json", kind="web")
    with pytest.raises(ConfigError) as info:
        import_client_secrets(path)
    message = str(info.value)
    assert str(path) in message
    assert "Web application" in message
    assert "Desktop app" in message
    assert "followupd login --client-secrets" in message
    assert not (paths.config_dir() / "client_secret.json").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not an OAuth client file"),
        ('{"other": {}}', 'expected {"installed"'),
        ('{"installed": {"client_id": "x"}}', "lacks client_secret"),
        ('{"installed": {"client_secret": "x", "client_id": ""}}', "lacks client_id"),
    ],
)
def test_broken_files_name_the_file_and_the_fix(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "client.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        import_client_secrets(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "Desktop app" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        import_client_secrets(tmp_path / "nope.json")


def test_configured_path_is_relative_to_the_config_dir(tmp_path: Path) -> None:
    from support.auth_home import config_for

    assert client_secrets_path(config_for()) == paths.config_dir() / "client_secret.json"
    assert client_secrets_path(config_for(client_secrets="c.json")) == paths.config_dir() / "c.json"
    absolute = tmp_path / "x.json"
    assert client_secrets_path(config_for(client_secrets=str(absolute))) == absolute
