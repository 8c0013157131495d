"""Which scopes a config asks for, and where the OAuth and API requests go."""

from __future__ import annotations

import os

import pytest
from support.auth_home import config_for

from followupd.adapters.google.endpoints import Endpoints, is_loopback_url
from followupd.adapters.google.scopes import (
    CALENDAR_READONLY,
    GMAIL_COMPOSE,
    GMAIL_METADATA,
    GMAIL_READONLY,
    scope_gaps,
    scopes_for,
)
from followupd.core.settings import Config
from followupd.errors import ConfigError


def _scopes(config: Config) -> list[str]:
    return [info.scope for info in scopes_for(config)]


def test_default_config_asks_for_the_core_and_metadata() -> None:
    infos = scopes_for(Config())
    assert [i.scope for i in infos] == [CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA]
    assert [i.core for i in infos] == [True, True, False]
    for info in infos:
        assert info.reason and info.feature
    assert infos[2].name == "gmail.metadata"


def test_metadata_scope_can_be_turned_off() -> None:
    assert _scopes(config_for(metadata_scope=False)) == [CALENDAR_READONLY, GMAIL_COMPOSE]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"google": {"readonly_scope": True}}, "google.readonly_scope"),
        ({"nudge": {"reply_approval": True}}, "nudge.reply_approval"),
        ({"drafts": {"thread_with_invite": True}}, "drafts.thread_with_invite"),
    ],
)
def test_readonly_replaces_metadata_when_a_feature_needs_it(
    data: dict[str, object], key: str
) -> None:
    infos = scopes_for(Config.model_validate(data))
    scopes = [i.scope for i in infos]
    assert GMAIL_READONLY in scopes
    # Gmail applies the metadata limits to any token that carries gmail.metadata.
    assert GMAIL_METADATA not in scopes
    readonly = infos[-1]
    assert key in readonly.reason
    assert not readonly.core
    # The features metadata would have served are now served (and lost) with readonly.
    assert "reply detection" in readonly.feature


def test_scope_gaps_name_what_a_token_lacks() -> None:
    config = Config.model_validate({"nudge": {"reply_approval": True}})
    gaps = scope_gaps(config, [CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA])
    assert [g.scope for g in gaps] == [GMAIL_READONLY]


def test_google_endpoints_by_default() -> None:
    ep = Endpoints.for_config(Config())
    assert ep.base == "" and not ep.is_loopback
    assert ep.auth_uri == "https://accounts.google.com/o/oauth2/auth"
    assert ep.token_uri == "https://oauth2.googleapis.com/token"
    assert ep.revoke_uri == "https://oauth2.googleapis.com/revoke"
    assert ep.gmail_api == "https://gmail.googleapis.com/"


def test_sandbox_endpoints_and_insecure_transport_only_for_loopback() -> None:
    ep = Endpoints.for_config(config_for("http://127.0.0.1:8765/"))
    assert ep.auth_uri == "http://127.0.0.1:8765/o/oauth2/auth"
    assert ep.token_uri == "http://127.0.0.1:8765/token"
    assert ep.revoke_uri == "http://127.0.0.1:8765/revoke"
    assert ep.gmail_api == "http://127.0.0.1:8765/"
    assert os.environ.get("OAUTHLIB_INSECURE_TRANSPORT") == "1"

    # Back to Google: the variable must not stay in force.
    Endpoints.for_config(Config())
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ

    # A non-loopback https endpoint: not set either.
    Endpoints.for_config(config_for("https://google.example.net"))
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:1", True),
        ("http://127.8.9.10:1", True),
        ("http://[::1]:8080", True),
        ("http://localhost:8080", True),
        ("http://LOCALHOST.:8080", True),
        ("http://localhost.evil.example:8080", False),
        ("http://127.0.0.1.nip.io", False),
        ("http://10.0.0.1:80", False),
        ("https://oauth2.googleapis.com", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        Endpoints.for_config(config_for("http://10.1.2.3:8080"))
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
