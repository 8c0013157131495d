"""The test API's views of stored messages: parsed, and made JSON for HTTP."""

from __future__ import annotations

import copy
from email.message import EmailMessage
from typing import Any

from .mime import msgids, parse_compat, parse_modern
from .store import Mailbox, StoredMessage

Json = dict[str, Any]


def message_view(mb: Mailbox, rec: StoredMessage) -> Json:
    """The test API's view of one stored message."""
    parsed = parse_modern(rec.raw)
    return {
        "id": rec.id,
        "message_id": rec.id,
        "thread_id": rec.thread_id,
        "label_ids": list(rec.labels),
        "draft_id": rec.draft_id or rec.from_draft,
        "rfc822_message_id": next(iter(msgids(parse_compat(rec.raw).get("Message-ID"))), None),
        "internal_date": rec.internal_date,
        "raw_bytes": rec.raw,
        "parsed": parsed,
    }


def draft_view(mb: Mailbox, draft_id: str) -> Json:
    rec = mb.draft_message(draft_id)
    view = message_view(mb, rec)
    view["id"] = draft_id
    view["draft_id"] = draft_id
    return view


def jsonable(view: Json) -> Json:
    """A message view for the HTTP test API: raw bytes as text, the parsed message summarized."""
    out = {k: v for k, v in view.items() if k not in ("raw_bytes", "parsed")}
    raw: bytes = view["raw_bytes"]
    out["raw"] = raw.decode("utf-8", "replace")
    parsed: EmailMessage = view["parsed"]
    out["headers"] = {k: str(v) for k, v in parsed.items()}
    body = parsed.get_body(preferencelist=("plain", "html"))
    out["text"] = body.get_content() if body is not None else ""
    return copy.deepcopy(out)
