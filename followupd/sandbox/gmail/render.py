"""Messages as the Gmail API shows them: formats minimal, raw, metadata and full
(the MIME tree as parts), the short form, drafts."""

from __future__ import annotations

from email.message import Message
from typing import Any

from .mime import b64url, header_text, parse_compat, snippet
from .store import StoredMessage

Json = dict[str, Any]


def _part_json(part: Message, part_id: str) -> Json:
    headers = [{"name": k, "value": header_text(str(v))} for k, v in part.items()]
    out: Json = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": headers,
    }
    if part.is_multipart():
        out["body"] = {"size": 0}
        subs = part.get_payload()
        assert isinstance(subs, list)
        out["parts"] = [
            _part_json(sub, f"{part_id}.{i}" if part_id else str(i)) for i, sub in enumerate(subs)
        ]
        return out
    data = part.get_payload(decode=True)
    payload = data if isinstance(data, bytes) else b""
    body: Json = {"size": len(payload)}
    if payload:
        body["data"] = b64url(payload)
    out["body"] = body
    return out


def render(
    rec: StoredMessage, fmt: str = "full", metadata_headers: list[str] | None = None
) -> Json:
    msg = parse_compat(rec.raw)
    out: Json = {
        "id": rec.id,
        "threadId": rec.thread_id,
        "labelIds": list(rec.labels),
        "snippet": snippet(msg),
        "sizeEstimate": len(rec.raw),
        "historyId": str(rec.history_id),
        "internalDate": str(rec.internal_date),
    }
    if fmt == "minimal":
        return out
    if fmt == "raw":
        out["raw"] = b64url(rec.raw)
        return out
    if fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers or []}
        headers = [
            {"name": k, "value": header_text(str(v))}
            for k, v in msg.items()
            if not wanted or k.lower() in wanted
        ]
        out["payload"] = {
            "partId": "",
            "mimeType": msg.get_content_type(),
            "filename": "",
            "headers": headers,
        }
        return out
    out["payload"] = _part_json(msg, "")
    return out


def short(rec: StoredMessage) -> Json:
    return {"id": rec.id, "threadId": rec.thread_id, "labelIds": list(rec.labels)}


def draft_json(draft_id: str, rec: StoredMessage, fmt: str | None = None) -> Json:
    message = short(rec) if fmt is None else render(rec, fmt)
    return {"id": draft_id, "message": message}
