"""The test API over HTTP, under /_sandbox/ (JSON in, JSON out; never counted or faulted)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from .errors import Response, TestApiError
from .gmail.views import jsonable
from .state import SandboxState

Json = dict[str, Any]
Route = Callable[[SandboxState, dict[str, str], Any, dict[str, list[str]]], Any]

_ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        _ROUTES.append((method, re.compile("^/_sandbox" + pattern + "/?$"), fn))
        return fn

    return register


def _obj(body: Any) -> Json:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise TestApiError(400, "expected a JSON object")
    return body


def _need(body: Json, key: str) -> Any:
    if key not in body:
        raise TestApiError(400, f"missing {key!r}")
    return body[key]


@route("GET", "")
def _info(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return {
        "url": sb.url,
        "user": {"email": sb.user_email, "name": sb.user_name},
        "routes": sorted({f"{m} {r.pattern[1:-3]}" for m, r, _ in _ROUTES}),
    }


@route("POST", "/events")
def _add_event(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    event = _need(b, "event")
    return sb.add_event(event, b.get("calendarId", "primary"))


@route("GET", "/events")
def _list_events(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.events((q.get("calendarId") or ["primary"])[0])


@route("GET", "/events/(?P<cal>[^/]+)/(?P<id>[^/]+)")
def _get_event(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.get_event(p["cal"], p["id"])


@route("PATCH", "/events/(?P<cal>[^/]+)/(?P<id>[^/]+)")
def _patch_event(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.update_event(p["cal"], p["id"], _obj(body))


@route("POST", "/events/(?P<cal>[^/]+)/(?P<id>[^/]+)/cancel")
def _cancel_event(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.cancel_event(p["cal"], p["id"])


@route("DELETE", "/events/(?P<cal>[^/]+)/(?P<id>[^/]+)")
def _delete_event(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.delete_event(p["cal"], p["id"])
    return {}


@route("POST", "/calendars")
def _add_calendar(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    return sb.add_calendar(
        _need(b, "id"),
        str(b.get("summary") or b["id"]),
        selected=bool(b.get("selected", True)),
        primary=bool(b.get("primary", False)),
        access_role=b.get("accessRole", "owner"),
        time_zone=b.get("timeZone", "UTC"),
        hidden=bool(b.get("hidden", False)),
    )


@route("POST", "/invalidate-sync-tokens")
def _invalidate(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.invalidate_sync_tokens()
    return {}


@route("GET", "/drafts")
def _drafts(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return [jsonable(v) for v in sb.drafts()]


@route("GET", "/sent")
def _sent(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return [jsonable(v) for v in sb.sent_messages()]


@route("GET", "/messages")
def _messages(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return [jsonable(v) for v in sb.messages()]


@route("POST", "/messages")
def _add_message(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    raw = _need(b, "raw")
    return jsonable(
        sb.add_message(str(raw).encode("utf-8"), b.get("labels", ["INBOX"]), b.get("threadId"))
    )


@route("POST", "/drafts/(?P<id>[^/]+)/edit")
def _edit_draft(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    return jsonable(
        sb.user_edit_draft(p["id"], str(_need(b, "text")), bool(b.get("keepCustomHeaders", False)))
    )


@route("POST", "/drafts/(?P<id>[^/]+)/delete")
def _delete_draft(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.user_delete_draft(p["id"])
    return {}


@route("POST", "/drafts/(?P<id>[^/]+)/send")
def _send_draft(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return jsonable(sb.user_send_draft(p["id"]))


@route("POST", "/threads/(?P<id>[^/]+)/reply")
def _reply(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    return jsonable(
        sb.user_reply(p["id"], str(_need(b, "from")), str(_need(b, "text")), b.get("subject"))
    )


@route("POST", "/revoke-all")
def _revoke_all(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.revoke_all_tokens()
    return {}


@route("POST", "/expire-access-tokens")
def _expire(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.expire_access_tokens()
    return {}


@route("POST", "/tokens")
def _tokens(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    kwargs = {k: str(b[k]) for k in ("client_id", "client_secret") if k in b}
    return sb.issue_tokens(list(_need(b, "scopes")), **kwargs)


@route("GET", "/oauth")
def _get_oauth(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return {"deny_scopes": sorted(sb.deny_scopes), "access_token_ttl": sb.access_token_ttl}


@route("PUT", "/oauth")
def _put_oauth(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    if "deny_scopes" in b:
        sb.deny_scopes = set(b["deny_scopes"])
    if "access_token_ttl" in b:
        sb.access_token_ttl = int(b["access_token_ttl"])
    return {"deny_scopes": sorted(sb.deny_scopes), "access_token_ttl": sb.access_token_ttl}


@route("POST", "/faults")
def _add_fault(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    b = _obj(body)
    rate = b.get("rate")
    sb.inject_fault(
        str(_need(b, "kind")),
        method=b.get("method"),
        count=None if rate is not None else int(b.get("count") or 1),
        rate=None if rate is None else float(rate),
        retry_after=int(b.get("retry_after", 1)),
    )
    return sb.faults()


@route("GET", "/faults")
def _list_faults(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.faults()


@route("DELETE", "/faults")
def _clear_faults(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.clear_faults()
    return {}


@route("PUT", "/fault-seed")
def _fault_seed(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.fault_seed = int(_need(_obj(body), "seed"))
    return {"seed": sb.fault_seed}


@route("GET", "/counts")
def _counts(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    return sb.counts()


@route("POST", "/counts/reset")
def _reset_counts(sb: SandboxState, p: dict[str, str], body: Any, q: dict[str, list[str]]) -> Any:
    sb.reset_counts()
    return {}


def handle_test_api(sb: SandboxState, req: Any) -> Response:
    path = req.path
    methods_for_path: list[str] = []
    for method, pattern, fn in _ROUTES:
        m = pattern.match(path)
        if not m:
            continue
        if method != req.method:
            methods_for_path.append(method)
            continue
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Response.json({"error": "request body is not JSON"}, 400)
        params = {k: unquote(v) for k, v in m.groupdict().items()}
        query = req.query if isinstance(req.query, dict) else parse_qs("")
        try:
            result = fn(sb, params, body, query)
        except TestApiError as exc:
            return Response.json({"error": exc.message}, exc.status)
        except KeyError as exc:
            return Response.json({"error": f"not found: {exc.args[0] if exc.args else ''}"}, 404)
        except (ValueError, TypeError) as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json(result)
    if methods_for_path:
        resp = Response.json(
            {"error": f"method not allowed; use {', '.join(methods_for_path)}"}, 405
        )
        resp.headers["Allow"] = ", ".join(methods_for_path)
        return resp
    return Response.json({"error": f"no test API route {path}"}, 404)
