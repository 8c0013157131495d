"""Fault injection, seen through the real client stack (googleapiclient + httplib2)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from support.sandbox_clients import COMPOSE, Login, calendar, gmail, raw_message

from followupd.sandbox import Sandbox


def _no_sleep(request: Any) -> Any:
    request._sleep = lambda seconds: None  # googleapiclient's retry backoff
    return request


def test_429_has_retry_after_and_is_counted(sb: Sandbox, login: Login) -> None:
    service = calendar(sb, login(sb))
    sb.inject_fault("429", method="calendar.events.list", retry_after=7)
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary").execute()
    assert info.value.status_code == 429
    assert info.value.resp["retry-after"] == "7"
    error = json.loads(info.value.content)["error"]
    assert error["errors"][0]["reason"] == "rateLimitExceeded"
    assert error["status"] == "RESOURCE_EXHAUSTED"
    # only that method, only once
    service.calendarList().list().execute()
    service.events().list(calendarId="primary").execute()
    assert sb.counts()["calendar.events.list"] == 2


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503)])
def test_server_errors_and_client_retries(
    sb: Sandbox, login: Login, kind: str, status: int
) -> None:
    service = calendar(sb, login(sb))
    sb.inject_fault(kind, count=2)  # any method
    with pytest.raises(HttpError) as info:
        service.calendarList().list().execute()
    assert info.value.status_code == status
    assert json.loads(info.value.content)["error"]["errors"][0]["reason"] == "backendError"
    # one fault left: execute(num_retries=1) gets through on the second attempt
    result = _no_sleep(service.events().list(calendarId="primary")).execute(num_retries=1)
    assert result["kind"] == "calendar#events"
    assert sb.counts() == {
        "oauth.auth": 1,
        "oauth.token": 1,
        "calendar.calendarList.list": 1,
        "calendar.events.list": 2,
    }


def test_dropped_connection_before_acting(sb: Sandbox, login: Login) -> None:
    service = gmail(sb, login(sb, [COMPOSE]))
    body = {"message": {"raw": raw_message()}}
    # one drop: httplib2 quietly sends the request again; nothing was done the first time
    sb.inject_fault("drop", method="gmail.users.drafts.create")
    service.users().drafts().create(userId="me", body=body).execute()
    assert len(sb.drafts()) == 1
    assert sb.counts()["gmail.users.drafts.create"] == 2
    # two drops in a row reach the caller as a connection error
    sb.inject_fault("drop", method="gmail.users.drafts.create", count=2)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        service.users().drafts().create(userId="me", body=body).execute()
    assert len(sb.drafts()) == 1


def test_drop_after_acting_duplicates_a_post(sb: Sandbox, login: Login) -> None:
    service = gmail(sb, login(sb, [COMPOSE]))
    sb.inject_fault("drop_after", method="gmail.users.drafts.create")
    created = (
        service.users()
        .drafts()
        .create(userId="me", body={"message": {"raw": raw_message(Message_ID="<once@followupd>")}})
        .execute()
    )
    drafts = sb.drafts()
    # the client saw one draft; Gmail holds two with the same Message-ID
    assert len(drafts) == 2
    assert created["id"] in {d["id"] for d in drafts}
    assert {d["rfc822_message_id"] for d in drafts} == {"<once@followupd>"}
    assert sb.counts()["gmail.users.drafts.create"] == 2


def test_drop_after_on_send_leaves_it_sent(sb: Sandbox, login: Login) -> None:
    drafts = gmail(sb, login(sb, [COMPOSE])).users().drafts()
    draft = drafts.create(userId="me", body={"message": {"raw": raw_message()}}).execute()
    sb.inject_fault("drop_after", method="gmail.users.drafts.send")
    # httplib2 resends; the second attempt finds the draft gone
    with pytest.raises(HttpError) as info:
        drafts.send(userId="me", body={"id": draft["id"]}).execute()
    assert info.value.status_code == 404
    assert len(sb.sent_messages()) == 1 and sb.drafts() == []


def test_random_faults_are_reproducible(sb: Sandbox, login: Login) -> None:
    service = calendar(sb, login(sb))

    def pattern() -> list[int]:
        out = []
        for _ in range(30):
            try:
                service.calendarList().list().execute()
                out.append(200)
            except HttpError as exc:
                out.append(exc.status_code)
        return out

    sb.fault_seed = 42
    sb.inject_fault("503", method="calendar.calendarList.list", rate=0.3)
    first = pattern()
    sb.fault_seed = 42
    assert pattern() == first
    assert 0 < first.count(503) < 30
    sb.clear_faults()
    assert pattern() == [200] * 30


def test_token_endpoint_faults(sb: Sandbox, login: Login) -> None:
    creds = login(sb)
    service = calendar(sb, creds)
    sb.expire_access_tokens()
    sb.inject_fault("drop", method="oauth.token", count=2)
    import google.auth.exceptions

    with pytest.raises(google.auth.exceptions.TransportError):
        service.calendarList().list().execute()
    service.calendarList().list().execute()  # the fault is spent
    assert sb.counts()["oauth.token"] >= 3


def test_test_api_is_never_counted_or_faulted(sb: Sandbox) -> None:
    import urllib.request

    sb.inject_fault("500", count=5)
    with urllib.request.urlopen(sb.url + "/_sandbox/counts", timeout=5) as resp:
        assert json.loads(resp.read()) == {}
    assert sb.counts() == {}
    assert len(sb.faults()) == 1 and sb.faults()[0]["count"] == 5
    with pytest.raises(ValueError):
        sb.inject_fault("418")
