"""Gmail v1 method handlers: each maps one API method to the mailbox, with the
metadata-scope rules, paging and Google's errors."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, Response, bad_request, not_found
from ..uploads import Upload
from .mime import parse_compat, snippet
from .render import draft_json, render, short
from .search import matches, search
from .store import SYSTEM_LABELS, Mailbox, StoredMessage

Json = dict[str, Any]

RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required"


def decode_raw(value: Any) -> bytes:
    """A message's `raw` field: base64url RFC 822 bytes, as Gmail checks them."""
    if not isinstance(value, str) or not value.strip():
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    text = re.sub(r"\s+", "", value)
    if not re.fullmatch(r"[A-Za-z0-9_\-]*={0,2}", text):
        raise bad_request("Invalid value for ByteString: " + text[:40], reason="invalid")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad_request("Invalid value for ByteString: " + text[:40], reason="invalid") from None


@dataclass
class Ctx:
    """What a Gmail handler gets from the request, once it is authenticated."""

    path: dict[str, str]
    params: Json
    body: Any
    restricted: bool  # only gmail.metadata grants this call


Handler = Callable[[Mailbox, Ctx], Response]


def _user(mb: Mailbox, ctx: Ctx) -> None:
    uid = ctx.path.get("userId", "me")
    if uid != "me" and uid.lower() != mb.user_email.lower():
        raise ApiError(403, f"Delegation denied for {mb.user_email}", "forbidden")


def _message_input(ctx: Ctx, wrapper: str | None) -> tuple[bytes, str | None, Json]:
    """The message bytes and threadId of a create/update/send body (JSON or upload)."""
    body = ctx.body
    if isinstance(body, Upload):
        meta = body.meta
        inner = meta.get(wrapper, {}) if wrapper else meta
        if not isinstance(inner, dict):
            inner = {}
        thread = inner.get("threadId")
        return body.media, str(thread) if thread else None, meta
    if not isinstance(body, dict):
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    inner = body.get(wrapper) if wrapper else body
    if not isinstance(inner, dict):
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    raw = decode_raw(inner.get("raw"))
    thread = inner.get("threadId")
    return raw, str(thread) if thread else None, body


def _fmt(ctx: Ctx) -> str:
    fmt = str(ctx.params.get("format", "full"))
    if ctx.restricted and fmt not in ("metadata", "minimal"):
        raise ApiError(403, f"Metadata scope doesn't allow format {fmt.upper()}", "forbidden")
    return fmt


def _no_q(ctx: Ctx) -> None:
    if ctx.restricted and ctx.params.get("q"):
        raise ApiError(403, "Metadata scope does not support 'q' parameter", "forbidden")


def _page(items: list[Any], ctx: Ctx, default: int, cap: int) -> tuple[list[Any], str | None]:
    size = min(int(ctx.params.get("maxResults", default)), cap)
    offset = 0
    token = ctx.params.get("pageToken")
    if token:
        try:
            offset = int(
                base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)).decode()
            )
        except (ValueError, binascii.Error):
            raise bad_request("Invalid pageToken", reason="invalid") from None
    chunk = items[offset : offset + size]
    nxt = None
    if offset + size < len(items):
        nxt = base64.urlsafe_b64encode(str(offset + size).encode()).decode().rstrip("=")
    return chunk, nxt


def h_profile(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    return Response.json(
        {
            "emailAddress": mb.user_email,
            "messagesTotal": len(mb.messages),
            "threadsTotal": len(mb.threads),
            "historyId": str(mb.history_id),
        }
    )


def h_drafts_create(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    raw, thread, _ = _message_input(ctx, "message")
    draft_id, rec = mb.create_draft(raw, thread)
    return Response.json(draft_json(draft_id, rec))


def h_drafts_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    rec = mb.draft_message(ctx.path["id"])
    return Response.json(draft_json(ctx.path["id"], rec, fmt))


def h_drafts_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    recs = [mb.messages[mid] for mid in mb.drafts.values() if mid in mb.messages]
    q = ctx.params.get("q")
    if q:
        recs = [r for r in recs if matches(r, str(q))]
    recs.sort(key=lambda r: (r.internal_date, r.id), reverse=True)
    chunk, nxt = _page(recs, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(recs)}
    if chunk:
        out["drafts"] = [
            {"id": r.draft_id, "message": {"id": r.id, "threadId": r.thread_id}} for r in chunk
        ]
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_drafts_update(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    mb.draft_message(ctx.path["id"])  # 404 first
    raw, thread, _ = _message_input(ctx, "message")
    rec = mb.update_draft(ctx.path["id"], raw, thread)
    return Response.json(draft_json(ctx.path["id"], rec))


def h_drafts_delete(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    mb.delete_draft(ctx.path["id"])
    return Response.empty()


def h_drafts_send(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    body = ctx.body
    meta = body.meta if isinstance(body, Upload) else body
    if not isinstance(meta, dict) or not meta.get("id"):
        raise bad_request("Invalid draft", reason="invalidArgument")
    draft_id = str(meta["id"])
    mb.draft_message(draft_id)  # 404 when sent or deleted
    has_new = isinstance(body, Upload) or (
        isinstance(meta.get("message"), dict) and "raw" in meta["message"]
    )
    if has_new:
        raw, thread, _ = _message_input(ctx, "message")
        mb.update_draft(draft_id, raw, thread)
    rec = mb.send_draft(draft_id)
    return Response.json(short(rec))


def h_messages_send(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    raw, thread, _ = _message_input(ctx, None)
    rec = mb.send_message(raw, thread)
    return Response.json(short(rec))


def _message(mb: Mailbox, mid: str) -> StoredMessage:
    rec = mb.messages.get(mid)
    if rec is None:
        raise not_found()
    return rec


def h_messages_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    rec = _message(mb, ctx.path["id"])
    return Response.json(render(rec, fmt, ctx.params.get("metadataHeaders")))


def _listed(mb: Mailbox, ctx: Ctx) -> list[StoredMessage]:
    """The messages a messages.list or threads.list asks for (q, labelIds, spam/trash)."""
    _user(mb, ctx)
    _no_q(ctx)
    return search(
        mb,
        ctx.params.get("q"),
        ctx.params.get("labelIds"),
        bool(ctx.params.get("includeSpamTrash")),
    )


def h_messages_list(mb: Mailbox, ctx: Ctx) -> Response:
    recs = _listed(mb, ctx)
    chunk, nxt = _page(recs, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(recs)}
    if chunk:
        out["messages"] = [{"id": r.id, "threadId": r.thread_id} for r in chunk]
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_messages_modify(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    body = ctx.body if isinstance(ctx.body, dict) else {}
    mb.modify(rec, list(body.get("addLabelIds") or []), list(body.get("removeLabelIds") or []))
    return Response.json(short(rec))


def h_messages_trash(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    rec.labels = [label for label in rec.labels if label != "INBOX"]
    if "TRASH" not in rec.labels:
        rec.labels.append("TRASH")
    rec.history_id = mb.bump()
    return Response.json(short(rec))


def h_messages_untrash(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    rec.labels = [label for label in rec.labels if label != "TRASH"]
    rec.history_id = mb.bump()
    return Response.json(short(rec))


def h_messages_delete(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    if rec.draft_id:
        mb.drafts.pop(rec.draft_id, None)
    mb.remove(rec.id)
    return Response.empty()


def _thread_messages(mb: Mailbox, tid: str) -> list[StoredMessage]:
    recs = [m for m in mb.messages.values() if m.thread_id == tid]
    if not recs:
        raise not_found()
    recs.sort(key=lambda r: (r.internal_date, r.id))
    return recs


def h_threads_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    recs = _thread_messages(mb, ctx.path["id"])
    headers = ctx.params.get("metadataHeaders")
    return Response.json(
        {
            "id": ctx.path["id"],
            "historyId": str(max(r.history_id for r in recs)),
            "messages": [render(r, fmt, headers) for r in recs],
        }
    )


def h_threads_list(mb: Mailbox, ctx: Ctx) -> Response:
    recs = _listed(mb, ctx)
    seen: dict[str, StoredMessage] = {}
    for r in recs:
        seen.setdefault(r.thread_id, r)
    threads = list(seen.values())
    chunk, nxt = _page(threads, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(threads)}
    if chunk:
        items = []
        for r in chunk:
            members = _thread_messages(mb, r.thread_id)
            latest = members[-1]
            items.append(
                {
                    "id": r.thread_id,
                    "snippet": snippet(parse_compat(latest.raw)),
                    "historyId": str(max(m.history_id for m in members)),
                }
            )
        out["threads"] = items
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_labels_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    return Response.json(
        {"labels": [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]}
    )


HANDLERS: dict[str, Handler] = {
    "gmail.users.getProfile": h_profile,
    "gmail.users.drafts.create": h_drafts_create,
    "gmail.users.drafts.get": h_drafts_get,
    "gmail.users.drafts.list": h_drafts_list,
    "gmail.users.drafts.update": h_drafts_update,
    "gmail.users.drafts.delete": h_drafts_delete,
    "gmail.users.drafts.send": h_drafts_send,
    "gmail.users.messages.send": h_messages_send,
    "gmail.users.messages.get": h_messages_get,
    "gmail.users.messages.list": h_messages_list,
    "gmail.users.messages.modify": h_messages_modify,
    "gmail.users.messages.trash": h_messages_trash,
    "gmail.users.messages.untrash": h_messages_untrash,
    "gmail.users.messages.delete": h_messages_delete,
    "gmail.users.threads.get": h_threads_get,
    "gmail.users.threads.list": h_threads_list,
    "gmail.users.labels.list": h_labels_list,
}
