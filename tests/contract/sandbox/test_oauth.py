"""OAuth against the sandbox with the real google-auth-oauthlib / google-auth."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import google.auth.exceptions
import pytest
from googleapiclient.errors import HttpError
from support.sandbox_clients import CAL_RO, COMPOSE, METADATA, Login, calendar, gmail

from followupd.sandbox import Sandbox


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _get_no_redirect(url: str) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(url: str, form: dict[str, str]) -> tuple[int, Any]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _auth_url(sb: Sandbox, **params: str) -> str:
    base = {
        "client_id": "cid",
        "redirect_uri": "http://127.0.0.1:9/",
        "response_type": "code",
        "scope": CAL_RO,
        "state": "xyz",
    }
    base.update(params)
    return sb.url + "/o/oauth2/auth?" + urllib.parse.urlencode(base)


def test_installed_app_flow_yields_working_credentials(sb: Sandbox, login: Login) -> None:
    creds = login(sb)
    assert creds.token and creds.refresh_token
    assert set(creds.granted_scopes) == {CAL_RO, COMPOSE, METADATA}
    assert creds.token_uri == sb.url + "/token"
    items = calendar(sb, creds).calendarList().list().execute()["items"]
    assert [c["id"] for c in items] == ["candidate@example.com"]
    assert items[0]["primary"] is True
    counts = sb.counts()
    assert counts["oauth.auth"] == 1
    assert counts["oauth.token"] == 1
    assert counts["calendar.calendarList.list"] == 1


def test_expired_access_token_is_refreshed_transparently(sb: Sandbox, login: Login) -> None:
    creds = login(sb)
    service = calendar(sb, creds)
    old = creds.token
    sb.expire_access_tokens()
    service.calendarList().list().execute()
    assert creds.token != old
    assert sb.counts()["oauth.token"] == 2
    # the 401 that triggered the refresh was counted too
    assert sb.counts()["calendar.calendarList.list"] == 2


def test_revoked_refresh_token_raises_refresh_error(sb: Sandbox, login: Login) -> None:
    creds = login(sb)
    service = calendar(sb, creds)
    sb.revoke_all_tokens()
    with pytest.raises(google.auth.exceptions.RefreshError) as info:
        service.calendarList().list().execute()
    assert info.value.args[1]["error"] == "invalid_grant"
    assert info.value.args[1]["error_description"] == "Token has been expired or revoked."
    assert info.value.retryable is False


def test_revoke_endpoint_revokes_the_grant(sb: Sandbox, login: Login) -> None:
    creds = login(sb)
    status, body = _post(sb.url + "/revoke", {"token": creds.refresh_token})
    assert (status, body) == (200, {})
    # its access token went with it
    with pytest.raises(google.auth.exceptions.RefreshError):
        calendar(sb, creds).calendarList().list().execute()
    status, body = _post(sb.url + "/revoke", {"token": "nonsense"})
    assert status == 400 and body["error"] == "invalid_token"
    assert sb.counts()["oauth.revoke"] == 2


def test_user_unticking_a_scope(sb: Sandbox, login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    sb.deny_scopes.add(METADATA)
    with pytest.raises(Warning, match="Scope has changed"):
        login(sb)
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    creds = login(sb)
    assert set(creds.granted_scopes) == {CAL_RO, COMPOSE}
    service = gmail(sb, creds)
    with pytest.raises(HttpError) as info:
        service.users().threads().get(userId="me", id="x", format="metadata").execute()
    assert info.value.status_code == 403
    error = json.loads(info.value.content)["error"]
    assert error["status"] == "PERMISSION_DENIED"
    assert error["errors"][0]["reason"] == "insufficientPermissions"
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert 'error="insufficient_scope"' in info.value.resp["www-authenticate"]


def test_missing_or_bogus_bearer_token_is_401(sb: Sandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        req = urllib.request.Request(sb.url + "/calendar/v3/users/me/calendarList", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code == 401
        err = json.loads(info.value.read())["error"]
        assert err["status"] == "UNAUTHENTICATED"
        assert err["errors"][0]["reason"] in ("required", "authError")


def test_scope_enforcement_uses_the_discovery_scopes(sb: Sandbox) -> None:
    token = sb.issue_tokens([COMPOSE])["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> int:
        req = urllib.request.Request(sb.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return err.code

    assert get("/gmail/v1/users/me/profile") == 200  # compose may read the profile
    assert get("/gmail/v1/users/me/drafts") == 200
    assert get("/gmail/v1/users/me/messages") == 403  # but not list messages
    assert get("/calendar/v3/users/me/calendarList") == 403


def test_auth_endpoint_validates_the_request(sb: Sandbox) -> None:
    status, headers, _ = _get_no_redirect(_auth_url(sb))
    assert status == 302
    location = urllib.parse.urlsplit(headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert location.netloc == "127.0.0.1:9"
    assert query["state"] == ["xyz"] and query["scope"] == [CAL_RO] and query["code"]
    # not a loopback redirect: Google shows an error page instead of redirecting
    status, headers, body = _get_no_redirect(_auth_url(sb, redirect_uri="https://evil.example/cb"))
    assert status == 400 and "Location" not in headers and b"redirect_uri_mismatch" in body
    status, _, body = _get_no_redirect(_auth_url(sb, scope="https://example.com/not-a-scope"))
    assert status == 400 and b"invalid_scope" in body
    status, _, _ = _get_no_redirect(_auth_url(sb, response_type="token"))
    assert status == 400


def test_code_exchange_checks_pkce_client_and_redirect(sb: Sandbox) -> None:
    def code(**extra: str) -> str:
        _, headers, _ = _get_no_redirect(_auth_url(sb, **extra))
        return urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]

    base = {
        "grant_type": "authorization_code",
        "client_id": "cid",
        "client_secret": "s1",
        "redirect_uri": "http://127.0.0.1:9/",
    }
    # PKCE (plain): the verifier is required and must match
    c = code(code_challenge="verifier-123", code_challenge_method="plain")
    status, body = _post(sb.url + "/token", {**base, "code": c, "code_verifier": "wrong"})
    assert status == 400 and body["error"] == "invalid_grant"
    c = code(code_challenge="verifier-123", code_challenge_method="plain")
    status, body = _post(sb.url + "/token", {**base, "code": c, "code_verifier": "verifier-123"})
    assert status == 200 and body["token_type"] == "Bearer" and body["refresh_token"]
    assert body["expires_in"] == 3600
    # a code works once
    status, body = _post(sb.url + "/token", {**base, "code": c, "code_verifier": "verifier-123"})
    assert status == 400 and body["error"] == "invalid_grant"
    # the redirect_uri must be the one used on the consent page
    status, body = _post(
        sb.url + "/token", {**base, "code": code(), "redirect_uri": "http://127.0.0.1:8/"}
    )
    assert status == 400 and body["error"] == "redirect_uri_mismatch"
    # the client secret must stay the same for one client id
    status, body = _post(sb.url + "/token", {**base, "code": code(), "client_secret": "other"})
    assert status == 401 and body["error"] == "invalid_client"
    # refresh: new access token, no new refresh token
    c = code()
    _, tokens = _post(sb.url + "/token", {**base, "code": c})
    status, body = _post(
        sb.url + "/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "cid",
            "client_secret": "s1",
        },
    )
    assert (
        status == 200
        and "refresh_token" not in body
        and body["access_token"] != tokens["access_token"]
    )


def test_access_token_ttl(sb: Sandbox) -> None:
    sb.access_token_ttl = 0
    token = sb.issue_tokens([CAL_RO])["access_token"]
    req = urllib.request.Request(
        sb.url + "/calendar/v3/users/me/calendarList", headers={"Authorization": f"Bearer {token}"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 401
