"""Media uploads (/upload/... URLs): the JSON metadata part and the media bytes."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .server import Request

Json = dict[str, Any]


@dataclass
class Upload:
    """A media upload: the JSON metadata part (if any) and the message bytes."""

    meta: Json
    media: bytes


def parse_multipart(req: Request) -> Upload:
    """Split a multipart/related upload byte-exactly: JSON metadata, then the media."""
    header = req.headers.get("content-type", "")
    found = re.search(r'boundary="?([^";]+)"?', header, re.IGNORECASE)
    if not header.lower().startswith("multipart/") or found is None:
        raise ApiError(400, "Multipart upload needs a multipart/related body.", "badContent")
    parts: list[tuple[dict[str, str], bytes]] = []
    for segment in req.body.split(b"--" + found.group(1).encode("latin-1"))[1:]:
        if segment.startswith(b"--"):
            break
        segment = segment[2:] if segment.startswith(b"\r\n") else segment.lstrip(b"\n")
        head, sep, content = segment.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = segment.partition(b"\n\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            content = base64.b64decode(content)
        parts.append((headers, content))
    if len(parts) != 2:
        raise ApiError(
            400, "Multipart upload needs a metadata part and a media part.", "badContent"
        )
    meta_raw, media = parts[0][1], parts[1][1]
    try:
        meta = json.loads(meta_raw) if meta_raw.strip() else {}
    except json.JSONDecodeError:
        raise ApiError(400, "Invalid JSON payload received.", "parseError") from None
    if not isinstance(meta, dict):
        meta = {}
    return Upload(meta=meta, media=media)
