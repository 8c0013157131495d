"""`python -m followupd.sandbox` as a separate process, driven over /_sandbox/."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from support.sandbox_clients import CAL_RO, COMPOSE, calendar, credentials, gmail, raw_message

from followupd.sandbox import Sandbox


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def proc(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    seed = {
        "user": {"email": "ada@example.org", "name": "Ada Lovelace"},
        "calendars": [{"id": "primary", "summary": "Ada", "timeZone": "Europe/London"}],
        "events": [
            {
                "calendarId": "primary",
                "id": "intv1",
                "summary": "Interview with Acme",
                "startIn": "-40m",
                "duration": "45m",
                "attendees": [{"email": "lee@acme.example"}],
            }
        ],
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "followupd.sandbox",
            "--port",
            "0",
            "--seed",
            str(seed_file),
            "--user",
            "ada@example.org",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    line = p.stdout.readline().strip()
    assert line.startswith("sandbox listening on http://127.0.0.1:"), line
    url = line.rsplit(" ", 1)[1]
    try:
        yield p, url
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)


def test_process_serves_and_stops_on_sigterm(proc: tuple[subprocess.Popen[str], str]) -> None:
    p, url = proc
    status, info = call(url + "/_sandbox/")
    assert status == 200 and info["user"]["email"] == "ada@example.org"
    status, tokens = call(url + "/_sandbox/tokens", "POST", {"scopes": [CAL_RO, COMPOSE]})
    assert status == 200
    creds = credentials(url, tokens)
    events = calendar(url, creds).events().list(calendarId="primary").execute()
    assert [e["id"] for e in events["items"]] == ["intv1"]
    assert events["summary"] == "Ada" and events["timeZone"] == "Europe/London"
    status, counts = call(url + "/_sandbox/counts")
    assert counts == {"calendar.events.list": 1}

    p.send_signal(signal.SIGTERM)
    assert p.wait(5) == 0


def test_http_test_api_round_trip(proc: tuple[subprocess.Popen[str], str]) -> None:
    _, url = proc
    api = url + "/_sandbox"
    _, tokens = call(api + "/tokens", "POST", {"scopes": [CAL_RO, COMPOSE]})
    creds = credentials(url, tokens)
    cal = calendar(url, creds).events()
    mail = gmail(url, creds).users()

    # events
    status, ev = call(
        api + "/events",
        "POST",
        {"event": {"id": "phone1", "summary": "Phone screen", "startIn": "1h", "duration": "30m"}},
    )
    assert status == 200 and ev["status"] == "confirmed"
    sync = cal.list(calendarId="primary").execute()["nextSyncToken"]
    status, ev = call(api + "/events/primary/phone1", "PATCH", {"summary": "Phone screen (moved)"})
    assert status == 200 and ev["sequence"] == 1
    assert call(api + "/events/primary/intv1/cancel", "POST")[0] == 200
    assert call(api + "/events/primary/phone1", "DELETE") == (200, {})
    changed = cal.list(calendarId="primary", syncToken=sync).execute()["items"]
    assert sorted((i["id"], i["status"]) for i in changed) == [
        ("intv1", "cancelled"),
        ("phone1", "cancelled"),
    ]
    assert call(api + "/events/primary/nope", "PATCH", {"summary": "x"})[0] == 404
    assert call(api + "/invalidate-sync-tokens", "POST") == (200, {})
    with pytest.raises(HttpError) as info:
        cal.list(calendarId="primary", syncToken=sync).execute()
    assert info.value.status_code == 410

    # drafts, acting as the user
    ids = []
    for _ in range(3):
        d = mail.drafts().create(userId="me", body={"message": {"raw": raw_message()}}).execute()
        ids.append(d["id"])
    status, drafts = call(api + "/drafts")
    assert [d["id"] for d in drafts] == ids and drafts[0]["headers"]["To"] == "bob@acme.example"
    assert "Hello Bob" in drafts[0]["text"] and "Subject: Thank you" in drafts[0]["raw"]
    status, edited = call(api + f"/drafts/{ids[0]}/edit", "POST", {"text": "My own words"})
    assert status == 200 and edited["text"].strip() == "My own words"
    assert call(api + f"/drafts/{ids[1]}/delete", "POST") == (200, {})
    status, sent = call(api + f"/drafts/{ids[2]}/send", "POST")
    assert status == 200 and sent["label_ids"] == ["SENT"] and sent["draft_id"] == ids[2]
    status, sent_list = call(api + "/sent")
    assert [m["id"] for m in sent_list] == [sent["id"]]
    status, reply = call(
        api + f"/threads/{sent['thread_id']}/reply",
        "POST",
        {"from": "bob@acme.example", "text": "Thanks!"},
    )
    assert status == 200 and reply["thread_id"] == sent["thread_id"]
    assert call(api + f"/drafts/{ids[1]}/send", "POST")[0] == 404

    # faults and counts
    status, faults = call(
        api + "/faults",
        "POST",
        {"kind": "429", "method": "gmail.users.drafts.list", "count": 1, "retry_after": 3},
    )
    assert status == 200 and faults[0]["kind"] == "429"
    with pytest.raises(HttpError) as info:
        mail.drafts().list(userId="me").execute()
    assert info.value.status_code == 429 and info.value.resp["retry-after"] == "3"
    call(api + "/faults", "POST", {"kind": "500", "count": 3})
    assert call(api + "/faults", "DELETE") == (200, {})
    assert len(mail.drafts().list(userId="me").execute()["drafts"]) == 1
    assert call(api + "/counts")[1]["gmail.users.drafts.list"] == 2
    assert call(api + "/counts/reset", "POST") == (200, {})
    assert call(api + "/counts")[1] == {}

    # revocation
    assert call(api + "/revoke-all", "POST") == (200, {})
    creds.expiry = None
    import google.auth.exceptions

    call(api + "/expire-access-tokens", "POST")
    with pytest.raises(google.auth.exceptions.RefreshError):
        mail.drafts().list(userId="me").execute()
    assert call(api + "/bogus")[0] == 404
    assert call(api + "/counts", "DELETE")[0] == 405


def test_in_process_http_test_api_matches_python_api() -> None:
    with Sandbox() as sb:
        status, _ = call(
            sb.url + "/_sandbox/calendars",
            "POST",
            {"id": "team@group.calendar.google.com", "summary": "Team"},
        )
        assert status == 200
        status, _ = call(
            sb.url + "/_sandbox/events",
            "POST",
            {
                "calendarId": "team@group.calendar.google.com",
                "event": {"id": "t1111", "startIn": "1h", "duration": "1h"},
            },
        )
        assert status == 200
        assert [e["id"] for e in sb.events("team@group.calendar.google.com")] == ["t1111"]
        status, msg = call(
            sb.url + "/_sandbox/messages",
            "POST",
            {
                "raw": "From: a@b.example\r\nTo: candidate@example.com\r\n"
                "Subject: Hi\r\n\r\nHello\r\n"
            },
        )
        assert status == 200 and [m["id"] for m in sb.messages()] == [msg["id"]]
        status, cfg = call(
            sb.url + "/_sandbox/oauth", "PUT", {"deny_scopes": [COMPOSE], "access_token_ttl": 60}
        )
        assert cfg == {"deny_scopes": [COMPOSE], "access_token_ttl": 60}
        assert sb.deny_scopes == {COMPOSE} and sb.access_token_ttl == 60
        assert call(sb.url + "/_sandbox/fault-seed", "PUT", {"seed": 7}) == (200, {"seed": 7})
        assert sb.fault_seed == 7
        assert sb.counts() == {}
