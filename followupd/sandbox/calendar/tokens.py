"""Page and sync tokens: opaque to the client, base64url JSON to the sandbox."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import ApiError
from .store import CalendarRecord, CalendarStore

Json = dict[str, Any]


def encode_token(data: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> Json:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def full_sync_required() -> ApiError:
    return ApiError(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        status="GONE",
    )


def events_sync_token(store: CalendarStore, cal: CalendarRecord, seq: int) -> str:
    return "sbx" + encode_token({"c": cal.id, "s": seq, "g": store.generation})


def read_events_sync_token(store: CalendarStore, cal: CalendarRecord, token: str) -> int:
    """The change number an events sync token stands for; 410 when it is stale."""
    try:
        if not token.startswith("sbx"):
            raise ValueError
        data = decode_token(token[3:])
        if data["c"] != cal.id or data["g"] != store.generation:
            raise ValueError
        seq = int(data["s"])
    except (ValueError, KeyError, TypeError):
        raise full_sync_required() from None
    return seq
