"""Gmail v1 behind the :class:`~followupd.adapters.mailbox.Mailbox` interface.

:class:`GoogleMailbox` speaks Gmail through
:class:`~followupd.adapters.google.transport.GoogleClients` and turns Gmail's label
strings into the interface's facts (sent, draft, inbox, junk). After a troubled create
it looks for drafts carrying the caller's Message-ID (returning the one that exists,
deleting duplicates); a send is never repeated by us, and a send whose connection
dropped raises :class:`~followupd.adapters.mailbox.SendUncertain`.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from followupd.adapters.google.api_errors import (
    ApiNotFound,
    OutcomeUnknown,
    ScopeMissing,
    Unavailable,
)
from followupd.adapters.mailbox import (
    DraftRef,
    MessageMeta,
    SendUncertain,
    SentRef,
    normalize_message_id,
)

if TYPE_CHECKING:
    from followupd.adapters.google.transport import GoogleClients

log = logging.getLogger(__name__)

METADATA_HEADERS = ["From", "Message-ID", "In-Reply-To", "Subject"]
SEARCH_LIMIT = 100  # messages returned by search_messages at most
_LIST_PAGE = 500
_JUNK_LABELS = frozenset({"SPAM", "TRASH"})


# --------------------------------------------------------------------------- helpers


def encode_raw(raw: bytes) -> str:
    """RFC 822 bytes as Gmail's ``raw`` field (base64url)."""
    return base64.urlsafe_b64encode(raw).decode("ascii")


def header(headers: list[dict[str, Any]] | None, name: str) -> str:
    """A header's value from a Gmail ``payload.headers`` list (names are case-blind)."""
    wanted = name.lower()
    for item in headers or []:
        if str(item.get("name", "")).lower() == wanted:
            return str(item.get("value", ""))
    return ""


def message_meta(message: dict[str, Any]) -> MessageMeta:
    """MessageMeta from a Gmail message resource in ``metadata`` format (or ``full``)."""
    headers = (message.get("payload") or {}).get("headers")
    millis = int(message.get("internalDate") or 0)
    labels = {str(label) for label in message.get("labelIds") or ()}
    return MessageMeta(
        id=str(message["id"]),
        thread_id=str(message.get("threadId", "")),
        sender=parseaddr(header(headers, "From"))[1].lower(),
        rfc_message_id=header(headers, "Message-ID").strip(),
        in_reply_to=header(headers, "In-Reply-To").strip(),
        internal_date=datetime.fromtimestamp(millis / 1000, UTC),
        subject=header(headers, "Subject"),
        sent="SENT" in labels,
        draft="DRAFT" in labels,
        inbox="INBOX" in labels,
        junk=bool(labels & _JUNK_LABELS),
    )


def plain_text(payload: dict[str, Any] | None) -> str:
    """The first text/plain part of a ``format=full`` payload, decoded ("" if none)."""
    if not payload:
        return ""
    parts = payload.get("parts")
    if parts:
        for part in parts:
            if str(part.get("filename") or ""):
                continue  # an attached .txt is not the message
            text = plain_text(part)
            if text:
                return text
        return ""
    if str(payload.get("mimeType", "")).lower() != "text/plain":
        return ""
    data = (payload.get("body") or {}).get("data")
    if not data:
        return ""
    raw = base64.urlsafe_b64decode(str(data) + "=" * (-len(str(data)) % 4))
    charset = "utf-8"
    for item in payload.get("headers") or []:
        if str(item.get("name", "")).lower() == "content-type":
            match = re.search(r'charset="?([\w.:-]+)', str(item.get("value", "")), re.I)
            if match:
                charset = match.group(1)
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def _draft_ref(draft: dict[str, Any]) -> DraftRef:
    message = draft.get("message") or {}
    return DraftRef(
        draft_id=str(draft["id"]),
        message_id=str(message.get("id", "")),
        thread_id=str(message.get("threadId", "")),
    )


def _message_body(raw: bytes, thread_id: str | None) -> dict[str, Any]:
    # JSON, never media_body: media uploads keep https even for an http endpoint.
    body: dict[str, Any] = {"raw": encode_raw(raw)}
    if thread_id:
        body["threadId"] = thread_id
    return body


# --------------------------------------------------------------------------- adapter


class GoogleMailbox:
    """Gmail v1 for user "me"."""

    def __init__(self, clients: GoogleClients, *, create_attempts: int = 3) -> None:
        self._clients = clients
        self._create_attempts = max(1, create_attempts)
        self._email: str | None = None

    def _gmail(self) -> Any:
        return self._clients.gmail().users()

    def profile_email(self) -> str:
        if self._email is None:
            profile = self._clients.call(self._gmail().getProfile(userId="me"), idempotent=True)
            self._email = str(profile["emailAddress"])
        return self._email

    # -- drafts

    def create_draft(
        self, raw: bytes, *, rfc_message_id: str, thread_id: str | None = None
    ) -> DraftRef:
        body = {"message": _message_body(raw, thread_id)}
        troubled: Unavailable | None = None
        for attempt in range(1, self._create_attempts + 1):
            if troubled is not None:
                # The last create may have worked although its answer was lost.
                existing = self._keep_one(rfc_message_id, keep=None)
                if existing is not None:
                    log.info("drafts.create: found the draft made by an unanswered request")
                    return existing
                if not self._clients.pause(attempt - 1, troubled, method="drafts.create"):
                    raise troubled
            request = self._gmail().drafts().create(userId="me", body=body)
            try:
                created = self._clients.call(request, idempotent=False)
            except Unavailable as exc:  # OutcomeUnknown included
                troubled = exc
                continue
            ref = _draft_ref(created)
            if troubled is not None:
                self._keep_one(rfc_message_id, keep=ref)
            return ref
        assert troubled is not None
        existing = self._keep_one(rfc_message_id, keep=None)
        if existing is not None:
            return existing
        raise troubled

    def _keep_one(self, rfc_message_id: str, *, keep: DraftRef | None) -> DraftRef | None:
        """Leave one draft with this Message-ID and return it: ``keep`` when given (the
        draft a create just returned), else the newest found; delete the others. None
        when there is none."""
        drafts = self.find_drafts_by_message_id(rfc_message_id)
        kept = keep or (drafts[0] if drafts else None)
        for draft in drafts:
            if kept is not None and draft.draft_id != kept.draft_id:
                log.warning("drafts.create: deleting duplicate draft %s", draft.draft_id)
                self.delete_draft(draft.draft_id)
        return kept

    def get_draft(self, draft_id: str) -> DraftRef | None:
        request = self._gmail().drafts().get(userId="me", id=draft_id, format="minimal")
        try:
            return _draft_ref(self._clients.call(request, idempotent=True))
        except ApiNotFound:
            return None

    def update_draft(
        self, draft_id: str, raw: bytes, *, thread_id: str | None = None
    ) -> DraftRef | None:
        body = {"id": draft_id, "message": _message_body(raw, thread_id)}
        request = self._gmail().drafts().update(userId="me", id=draft_id, body=body)
        try:
            # A PUT: repeating it stores the same content again.
            return _draft_ref(self._clients.call(request, idempotent=True))
        except ApiNotFound:
            return None

    def delete_draft(self, draft_id: str) -> None:
        request = self._gmail().drafts().delete(userId="me", id=draft_id)
        with contextlib.suppress(ApiNotFound):  # already gone: fine
            self._clients.call(request, idempotent=True)

    def find_drafts_by_message_id(self, rfc_message_id: str) -> list[DraftRef]:
        wanted = normalize_message_id(rfc_message_id)
        drafts = self._gmail().drafts()
        found: list[DraftRef] = []
        page_token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"userId": "me", "maxResults": _LIST_PAGE}
            if page_token:
                kwargs["pageToken"] = page_token
            page = self._clients.call(drafts.list(**kwargs), idempotent=True)
            for item in page.get("drafts") or []:
                request = drafts.get(userId="me", id=item["id"], format="metadata")
                try:
                    draft = self._clients.call(request, idempotent=True)
                except ApiNotFound:
                    continue  # sent or deleted meanwhile
                headers = ((draft.get("message") or {}).get("payload") or {}).get("headers")
                if normalize_message_id(header(headers, "Message-ID")) == wanted:
                    found.append(_draft_ref(draft))
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    # -- sending

    def send_draft(self, draft_id: str) -> SentRef | None:
        request = self._gmail().drafts().send(userId="me", body={"id": draft_id})
        try:
            sent = self._clients.call(request, idempotent=False)
        except ApiNotFound:
            return None
        except OutcomeUnknown as exc:
            raise SendUncertain(f"drafts.send for draft {draft_id}: {exc}") from exc
        return SentRef(message_id=str(sent["id"]), thread_id=str(sent.get("threadId", "")))

    def send_message(self, raw: bytes, *, thread_id: str | None = None) -> SentRef:
        request = self._gmail().messages().send(userId="me", body=_message_body(raw, thread_id))
        try:
            sent = self._clients.call(request, idempotent=False)
        except OutcomeUnknown as exc:
            raise SendUncertain(f"messages.send: {exc}") from exc
        return SentRef(message_id=str(sent["id"]), thread_id=str(sent.get("threadId", "")))

    # -- reading

    def thread(self, thread_id: str) -> list[MessageMeta] | None:
        request = (
            self._gmail()
            .threads()
            .get(userId="me", id=thread_id, format="metadata", metadataHeaders=METADATA_HEADERS)
        )
        try:
            found = self._clients.call(request, idempotent=True)
        except ApiNotFound:
            return None
        metas = [message_meta(m) for m in found.get("messages") or []]
        return sorted(metas, key=lambda m: m.internal_date)

    def thread_texts(self, thread_id: str) -> list[tuple[MessageMeta, str]] | None:
        request = self._gmail().threads().get(userId="me", id=thread_id, format="full")
        try:
            found = self._clients.call(request, idempotent=True)
        except ApiNotFound:
            return None
        result = [
            (message_meta(m), plain_text(m.get("payload"))) for m in found.get("messages") or []
        ]
        return sorted(result, key=lambda item: item[0].internal_date)

    def search_messages(self, query: str) -> list[MessageMeta] | None:
        messages = self._gmail().messages()
        ids: list[str] = []
        page_token: str | None = None
        try:
            while len(ids) < SEARCH_LIMIT:
                kwargs: dict[str, Any] = {"userId": "me", "q": query, "maxResults": SEARCH_LIMIT}
                if page_token:
                    kwargs["pageToken"] = page_token
                page = self._clients.call(messages.list(**kwargs), idempotent=True)
                ids.extend(str(m["id"]) for m in page.get("messages") or [])
                page_token = page.get("nextPageToken")
                if not page_token:
                    break
        except ScopeMissing:
            return None
        result: list[MessageMeta] = []
        for message_id in ids[:SEARCH_LIMIT]:
            request = messages.get(
                userId="me", id=message_id, format="metadata", metadataHeaders=METADATA_HEADERS
            )
            try:
                result.append(message_meta(self._clients.call(request, idempotent=True)))
            except ApiNotFound:
                continue
        return result

    def recent_sent(self, limit: int = 25) -> list[MessageMeta] | None:
        messages = self._gmail().messages()
        try:
            page = self._clients.call(
                messages.list(userId="me", labelIds=["SENT"], maxResults=limit), idempotent=True
            )
        except ScopeMissing:
            return None
        result: list[MessageMeta] = []
        for item in page.get("messages") or []:
            request = messages.get(
                userId="me", id=str(item["id"]), format="metadata", metadataHeaders=METADATA_HEADERS
            )
            try:
                result.append(message_meta(self._clients.call(request, idempotent=True)))
            except (ApiNotFound, ScopeMissing):
                continue
        return result
