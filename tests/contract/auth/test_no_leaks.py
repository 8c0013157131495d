"""No token in a log record, in what login says, or in any file but the token store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from support.auth_home import CLIENT_SECRET, Browser, config_for
from support.google_refresh import refresh_credentials

from followupd import paths
from followupd.adapters.google.credentials import load_credentials
from followupd.adapters.google.login import login
from followupd.adapters.google.revoke import logout
from followupd.adapters.tokens import FileTokenStore


def _record_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = []
    for record in caplog.records:
        if record.name.startswith("followupd.sandbox"):
            continue  # the fake Google's own logging is not the product's
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(repr(record.exc_info[1]))
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


def _files_containing(root: Path, needle: str) -> set[Path]:
    found = set()
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.add(path)
    return found


def test_tokens_stay_out_of_logs_and_files(
    sandbox: Any, client_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = config_for(sandbox.url)
    store = FileTokenStore(paths.state_dir())
    browser = Browser()
    result = login(
        config,
        client_secrets=client_file,
        open_browser=False,
        timeout=20,
        say=browser.say,
        token_store=store,
    )
    browser.join()
    record = store.load(result.account)
    assert record is not None
    refresh_token = record["refresh_token"]

    creds = load_credentials(config, store)
    refresh_credentials(creds)
    access_token = creds.token
    assert access_token

    # Files: the refresh token only in the token store, the client secret only in the
    # user's download and its 0600 copy, the access token nowhere.
    assert _files_containing(tmp_path, refresh_token) == {store.path}
    assert _files_containing(tmp_path, CLIENT_SECRET) == {
        client_file,
        paths.config_dir() / "client_secret.json",
    }
    assert _files_containing(tmp_path, access_token) == set()

    said: list[str] = []
    logout(config, store, say=said.append)

    secrets = [refresh_token, access_token, CLIENT_SECRET, "4/0sandbox-"]
    assert caplog.records, "expected some log records at DEBUG"
    texts = _record_texts(caplog) + browser.lines + said
    for secret in secrets:
        leaks = [text for text in texts if secret in text]
        assert not leaks, f"a secret reached a log record or the terminal: {leaks[:1]}"
    assert _files_containing(tmp_path, refresh_token) == set()
