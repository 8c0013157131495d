"""Gmail v1 against the sandbox with the real google-api-python-client."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from support.sandbox_clients import COMPOSE, METADATA, READONLY, Login, gmail, raw_message

from followupd.sandbox import Sandbox


def _error(exc: HttpError) -> dict[str, Any]:
    return dict(json.loads(exc.content)["error"])


def _headers(message: dict[str, Any]) -> dict[str, str]:
    return {h["name"]: h["value"] for h in message["payload"]["headers"]}


def _text(message: dict[str, Any]) -> str:
    payload = message["payload"]
    parts = payload.get("parts") or [payload]
    for part in parts:
        if part["mimeType"] == "text/plain":
            return base64.urlsafe_b64decode(part["body"]["data"]).decode()
    raise AssertionError("no text/plain part")


def test_draft_lifecycle(sb: Sandbox, login: Login) -> None:
    service = gmail(sb, login(sb, [COMPOSE]))
    drafts = service.users().drafts()
    created = drafts.create(
        userId="me", body={"message": {"raw": raw_message(Message_ID="<fu-1@followupd>")}}
    ).execute()
    draft_id, first_mid = created["id"], created["message"]["id"]
    assert created["message"]["labelIds"] == ["DRAFT"]
    assert created["message"]["threadId"]

    got = drafts.get(userId="me", id=draft_id).execute()
    assert got["message"]["id"] == first_mid
    assert _headers(got["message"])["Message-ID"] == "<fu-1@followupd>"  # kept
    assert _text(got["message"]).strip() == "Hello Bob, thanks for today."
    raw = drafts.get(userId="me", id=draft_id, format="raw").execute()["message"]["raw"]
    assert b"Subject: Thank you" in base64.urlsafe_b64decode(raw)

    listed = drafts.list(userId="me").execute()
    assert listed["drafts"] == [
        {"id": draft_id, "message": {"id": first_mid, "threadId": created["message"]["threadId"]}}
    ]

    updated = drafts.update(
        userId="me", id=draft_id, body={"message": {"raw": raw_message(text="Second version")}}
    ).execute()
    assert updated["id"] == draft_id and updated["message"]["id"] != first_mid
    assert (
        _text(drafts.get(userId="me", id=draft_id).execute()["message"]).strip() == "Second version"
    )

    sent = drafts.send(userId="me", body={"id": draft_id}).execute()
    assert sent["labelIds"] == ["SENT"]
    assert sent["id"] not in (first_mid, updated["message"]["id"])
    assert sent["threadId"] == updated["message"]["threadId"]
    assert sb.drafts() == []
    [record] = sb.sent_messages()
    assert record["draft_id"] == draft_id and record["id"] == sent["id"]
    assert record["parsed"]["Subject"] == "Thank you"
    assert "Second version" in record["parsed"].get_body(("plain",)).get_content()

    calls: list[Callable[[], Any]] = [
        lambda: drafts.send(userId="me", body={"id": draft_id}),
        lambda: drafts.get(userId="me", id=draft_id),
        lambda: drafts.update(userId="me", id=draft_id, body={"message": {"raw": raw_message()}}),
        lambda: drafts.delete(userId="me", id=draft_id),
    ]
    for call in calls:
        with pytest.raises(HttpError) as info:
            call().execute()
        assert info.value.status_code == 404
        assert _error(info.value)["errors"][0]["reason"] == "notFound"
    assert sb.counts()["gmail.users.drafts.send"] == 2


def test_user_actions_in_the_gmail_ui(sb: Sandbox, login: Login) -> None:
    drafts = gmail(sb, login(sb, [COMPOSE])).users().drafts()
    d1 = drafts.create(
        userId="me", body={"message": {"raw": raw_message(X_Followupd="fu-1")}}
    ).execute()
    d2 = drafts.create(userId="me", body={"message": {"raw": raw_message()}}).execute()
    d3 = drafts.create(userId="me", body={"message": {"raw": raw_message()}}).execute()

    edited = sb.user_edit_draft(d1["id"], "Dear Bob,\nI rewrote this myself.")
    assert edited["id"] == d1["id"] and edited["message_id"] != d1["message"]["id"]
    assert edited["thread_id"] == d1["message"]["threadId"]
    got = drafts.get(userId="me", id=d1["id"]).execute()["message"]
    assert got["id"] == edited["message_id"]
    assert "I rewrote this myself." in _text(got)
    assert _headers(got)["To"] == "bob@acme.example"
    assert "X-Followupd" not in _headers(got)  # the web UI does not keep custom headers

    sb.user_delete_draft(d2["id"])
    with pytest.raises(HttpError) as info:
        drafts.get(userId="me", id=d2["id"]).execute()
    assert info.value.status_code == 404

    sent = sb.user_send_draft(d3["id"])
    assert sent["label_ids"] == ["SENT"] and sent["draft_id"] == d3["id"]
    with pytest.raises(HttpError) as info:
        drafts.send(userId="me", body={"id": d3["id"]}).execute()
    assert info.value.status_code == 404
    assert [d["id"] for d in sb.drafts()] == [d1["id"]]
    assert [m["draft_id"] for m in sb.sent_messages()] == [d3["id"]]


def test_threading_and_replies(sb: Sandbox, login: Login) -> None:
    service = gmail(sb, login(sb, [COMPOSE, METADATA]))
    users = service.users()
    sent = (
        users.messages()
        .send(
            userId="me", body={"raw": raw_message(subject="Thank you, Acme", Message_ID="<t1@x>")}
        )
        .execute()
    )
    thread = sent["threadId"]
    reply = sb.user_reply(thread, "Bob <bob@acme.example>", "Thanks, talk soon!")
    assert reply["thread_id"] == thread and reply["label_ids"] == ["INBOX", "UNREAD"]
    assert reply["parsed"]["In-Reply-To"] == "<t1@x>"

    got = (
        users.threads()
        .get(userId="me", id=thread, format="metadata", metadataHeaders=["From", "Subject"])
        .execute()
    )
    assert [m["id"] for m in got["messages"]] == [sent["id"], reply["id"]]
    assert _headers(got["messages"][1]) == {
        "From": "Bob <bob@acme.example>",
        "Subject": "Re: Thank you, Acme",
    }
    assert got["messages"][1]["labelIds"] == ["INBOX", "UNREAD"]

    # a draft in the thread (threadId + matching subject) joins it; a different subject does not
    same = (
        users.drafts()
        .create(
            userId="me",
            body={
                "message": {"raw": raw_message(subject="Re: Thank you, Acme"), "threadId": thread}
            },
        )
        .execute()
    )
    other = (
        users.drafts()
        .create(
            userId="me",
            body={"message": {"raw": raw_message(subject="Something else"), "threadId": thread}},
        )
        .execute()
    )
    loose = (
        users.drafts()
        .create(userId="me", body={"message": {"raw": raw_message(subject="Re: Thank you, Acme")}})
        .execute()
    )
    assert same["message"]["threadId"] == thread
    assert other["message"]["threadId"] != thread
    assert loose["message"]["threadId"] != thread  # no threadId: a new thread
    # drafts.update replaces the whole message, threadId included
    moved = (
        users.drafts()
        .update(
            userId="me",
            id=same["id"],
            body={"message": {"raw": raw_message(subject="Re: Thank you, Acme")}},
        )
        .execute()
    )
    assert moved["message"]["threadId"] != thread
    with pytest.raises(HttpError) as info:
        users.threads().get(userId="me", id="ffffffffffffffff", format="minimal").execute()
    assert info.value.status_code == 404


def test_metadata_scope_restrictions(sb: Sandbox, login: Login) -> None:
    msg = sb.add_message(
        b"From: Bob <bob@acme.example>\r\nTo: candidate@example.com\r\nSubject: Next steps\r\n"
        b"Message-ID: <n1@acme.example>\r\n\r\nCan you send your references?\r\n"
    )
    metadata_only = gmail(sb, login(sb, [METADATA]))
    messages = metadata_only.users().messages()
    for fmt in (None, "full", "raw"):
        kwargs = {"format": fmt} if fmt else {}
        with pytest.raises(HttpError) as info:
            messages.get(userId="me", id=msg["id"], **kwargs).execute()
        assert info.value.status_code == 403
        assert _error(info.value)["errors"][0]["reason"] == "forbidden"
    meta = messages.get(userId="me", id=msg["id"], format="metadata").execute()
    assert _headers(meta)["Subject"] == "Next steps" and "parts" not in meta["payload"]
    assert "body" not in meta["payload"] and meta["snippet"] == "Can you send your references?"
    minimal = messages.get(userId="me", id=msg["id"], format="minimal").execute()
    assert "payload" not in minimal and minimal["labelIds"] == ["INBOX"]
    assert messages.list(userId="me").execute()["messages"] == [
        {"id": msg["id"], "threadId": msg["thread_id"]}
    ]
    with pytest.raises(HttpError) as info:
        messages.list(userId="me", q="from:bob").execute()
    assert info.value.status_code == 403
    with pytest.raises(HttpError) as info:  # metadata cannot read drafts at all
        metadata_only.users().drafts().list(userId="me").execute()
    assert info.value.status_code == 403
    assert _error(info.value)["errors"][0]["reason"] == "insufficientPermissions"

    full = gmail(sb, login(sb, [READONLY])).users().messages()
    body = full.get(userId="me", id=msg["id"]).execute()
    assert _text(body).strip() == "Can you send your references?"


def test_messages_list_queries(sb: Sandbox, login: Login) -> None:
    service = gmail(sb, login(sb, [COMPOSE, READONLY]))
    users = service.users()
    users.messages().send(
        userId="me",
        body={
            "raw": raw_message(
                to="lee@acme.example", subject="Following up", Message_ID="<fu-42@followupd>"
            )
        },
    ).execute()
    sb.add_message(
        b"From: Lee <lee@acme.example>\r\nTo: candidate@example.com\r\n"
        b"Subject: Offer\r\n\r\nWe are happy to...\r\n",
        labels=("INBOX", "UNREAD"),
    )
    nudge = EmailMessage()
    nudge["From"] = nudge["To"] = "candidate@example.com"
    nudge["Subject"] = "[followupd] Draft ready"
    nudge.set_content("Reply 'send' to send it.")
    to_self = (
        users.messages()
        .send(userId="me", body={"raw": base64.urlsafe_b64encode(nudge.as_bytes()).decode()})
        .execute()
    )
    assert set(to_self["labelIds"]) == {"SENT", "INBOX", "UNREAD"}  # mail to yourself

    def ids(**kw: Any) -> list[str]:
        resp = users.messages().list(userId="me", **kw).execute()
        return [m["id"] for m in resp.get("messages", [])]

    assert len(ids(q="in:sent")) == 2
    [found] = ids(q="rfc822msgid:<fu-42@followupd>")
    assert ids(q="rfc822msgid:fu-42@followupd") == [found]
    assert len(ids(q="from:lee@acme.example")) == 1
    assert len(ids(q='subject:"draft ready" is:unread')) == 1
    assert len(ids(labelIds=["UNREAD"])) == 2
    assert len(ids(q="from:lee@acme.example OR {subject:nothing subject:ready}")) == 2
    assert len(ids(q="-in:sent")) == 1
    assert ids(q="subject:nothing-like-this") == []
    assert users.messages().list(userId="me", q="subject:nothing").execute() == {
        "resultSizeEstimate": 0
    }
    first = users.messages().list(userId="me", maxResults=2).execute()
    second = (
        users.messages().list(userId="me", maxResults=2, pageToken=first["nextPageToken"]).execute()
    )
    assert len(first["messages"]) == 2 and len(second["messages"]) == 1
    profile = users.getProfile(userId="me").execute()
    assert profile["emailAddress"] == "candidate@example.com" and profile["messagesTotal"] == 3


def test_body_and_recipient_validation(sb: Sandbox, login: Login) -> None:
    users = gmail(sb, login(sb, [COMPOSE])).users()
    with pytest.raises(HttpError) as info:
        users.drafts().create(
            userId="me", body={"message": {"raw": raw_message()}, "bogus": 1}
        ).execute()
    assert info.value.status_code == 400 and "bogus" in _error(info.value)["message"]
    with pytest.raises(HttpError) as info:
        users.drafts().create(userId="me", body={"message": {}}).execute()
    assert info.value.status_code == 400
    with pytest.raises(HttpError) as info:  # no recipient
        msg = EmailMessage()
        msg["Subject"] = "x"
        msg.set_content("x")
        users.messages().send(
            userId="me", body={"raw": base64.urlsafe_b64encode(msg.as_bytes()).decode()}
        ).execute()
    assert info.value.status_code == 400
    with pytest.raises(HttpError) as info:
        users.drafts().list(userId="someone.else@example.com").execute()
    assert info.value.status_code == 403
    assert sb.drafts() == [] and sb.sent_messages() == []


def test_multipart_upload_path(sb: Sandbox) -> None:
    import urllib.request

    token = sb.issue_tokens([COMPOSE])["access_token"]
    raw = base64.urlsafe_b64decode(raw_message(subject="Uploaded"))
    boundary = "b0undary"
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n"
            f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        ).encode()
        + raw
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        sb.url + "/upload/gmail/v1/users/me/drafts?uploadType=multipart",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f'multipart/related; boundary="{boundary}"',
        },
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        draft = json.loads(resp.read())
    assert draft["message"]["labelIds"] == ["DRAFT"]
    [stored] = sb.drafts()
    assert stored["id"] == draft["id"] and stored["parsed"]["Subject"] == "Uploaded"
    assert sb.counts()["gmail.users.drafts.create"] == 1
