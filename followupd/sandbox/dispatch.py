"""Google's own endpoints over the sandbox's state: OAuth, Calendar v3 and Gmail v1.

Each request is counted and may meet an injected fault; an API call is then
authenticated, checked for scope, validated against the discovery documents, handed
to its method handler, and cut down to the `fields` asked for.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from .calendar.handlers import HANDLERS as CALENDAR_HANDLERS
from .calendar.store import CalendarStore
from .discovery import Discovery, Method
from .errors import ApiError, OAuthError, Response, insufficient_scope
from .faults import FaultRule, Faults, api_fault_response, oauth_fault_response
from .fields import apply_fields, parse_fields
from .gmail.handlers import HANDLERS as GMAIL_HANDLERS
from .gmail.handlers import Ctx
from .gmail.store import Mailbox
from .oauth import OAuth
from .server import Request
from .uploads import Upload, parse_multipart

Json = dict[str, Any]

OAUTH_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/o/oauth2/auth"): "oauth.auth",
    ("GET", "/o/oauth2/v2/auth"): "oauth.auth",
    ("POST", "/token"): "oauth.token",
    ("POST", "/o/oauth2/token"): "oauth.token",
    ("POST", "/oauth2/v4/token"): "oauth.token",
    ("POST", "/revoke"): "oauth.revoke",
    ("GET", "/revoke"): "oauth.revoke",
    ("POST", "/o/oauth2/revoke"): "oauth.revoke",
    ("GET", "/o/oauth2/revoke"): "oauth.revoke",
    ("GET", "/tokeninfo"): "oauth.tokeninfo",
    ("POST", "/tokeninfo"): "oauth.tokeninfo",
    ("GET", "/oauth2/v3/tokeninfo"): "oauth.tokeninfo",
}
METADATA_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/gmail.metadata",
        "https://www.googleapis.com/auth/gmail.addons.current.message.metadata",
    }
)


class GoogleEndpoints:
    """Answers every request that is not for the test API; shares the state's lock."""

    def __init__(
        self,
        *,
        discovery: Discovery,
        oauth: OAuth,
        calendar: CalendarStore,
        mail: Mailbox,
        faults: Faults,
        counts: Counter[str],
        lock: threading.RLock,
    ) -> None:
        self._discovery = discovery
        self._oauth = oauth
        self._calendar = calendar
        self._mail = mail
        self._faults = faults
        self._counts = counts
        self._lock = lock

    def handle(self, req: Request) -> Response:
        oauth_id = OAUTH_ROUTES.get((req.method, req.path))
        if oauth_id is not None:
            return self._handle_oauth(oauth_id, req)
        found = self._discovery.match(req.method, req.path)
        if found is None:
            if req.method == "GET" and req.path in ("/", ""):
                text = "followupd sandbox: Google Calendar v3, Gmail v1 and OAuth, locally.\n"
                return Response(body=text.encode(), content_type="text/plain; charset=utf-8")
            return _html_404(req.path)
        method, path_params = found
        return self._handle_api(method, path_params, req)

    def _fault(self, method_id: str) -> FaultRule | None:
        with self._lock:
            self._counts[method_id] += 1
            return self._faults.pick(method_id)

    def _handle_oauth(self, oauth_id: str, req: Request) -> Response:
        rule = self._fault(oauth_id)
        if rule is not None and rule.kind == "drop":
            return Response.dropped()
        if rule is not None and rule.kind in ("429", "500", "503"):
            return oauth_fault_response(rule)
        form: dict[str, list[str]] = {}
        if req.body:
            try:
                form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                form = {}
        merged = {**req.query, **form}
        try:
            with self._lock:
                if oauth_id == "oauth.auth":
                    resp = self._oauth.authorize(req.query)
                elif oauth_id == "oauth.token":
                    resp = self._oauth.token(form, req.headers)
                elif oauth_id == "oauth.revoke":
                    resp = self._oauth.revoke(_one(merged, "token"))
                else:
                    token = _one(merged, "access_token")
                    resp = self._oauth.tokeninfo(token)
        except OAuthError as exc:
            resp = exc.response()
        if rule is not None and rule.kind == "drop_after":
            resp.drop = True
        return resp

    def _handle_api(self, method: Method, path_params: dict[str, str], req: Request) -> Response:
        rule = self._fault(method.id)
        if rule is not None and rule.kind == "drop":
            return Response.dropped()
        if rule is not None and rule.kind in ("429", "500", "503"):
            return api_fault_response(rule)
        try:
            with self._lock:
                resp = self._answer(method, path_params, req)
        except ApiError as exc:
            resp = exc.response()
        if rule is not None and rule.kind == "drop_after":
            resp.drop = True
        return resp

    def _answer(self, method: Method, path_params: dict[str, str], req: Request) -> Response:
        """One API call, under the lock; Google's refusals raise ApiError."""
        token = self._oauth.authenticate(req.headers, _flat(req.query))
        params = self._discovery.validate_query(method, req.query)
        pretty = params.get("prettyPrint", True) is not False
        granting = set(token.scopes) & set(method.scopes)
        if not granting:
            raise insufficient_scope(method.id, method.api, method.scopes)
        restricted = granting <= METADATA_SCOPES
        body = _parse_body(method, req, params)
        if body is not None and not isinstance(body, Upload):
            self._discovery.validate_body(method, body)
        if isinstance(body, Upload) and body.meta:
            self._discovery.validate_body(method, body.meta)
        if method.api == "calendar":
            chandler = CALENDAR_HANDLERS.get(method.id)
            if chandler is None:
                raise _not_implemented(method.id)
            resp = chandler(self._calendar, path_params, params, body)
        else:
            ghandler = GMAIL_HANDLERS.get(method.id)
            if ghandler is None:
                raise _not_implemented(method.id)
            ctx = Ctx(path=path_params, params=params, body=body, restricted=restricted)
            resp = ghandler(self._mail, ctx)
        if resp.data is not None and resp.status == 200:
            data = resp.data
            if params.get("fields"):
                data = apply_fields(data, parse_fields(str(params["fields"])))
            if data is not resp.data or not pretty:
                resp = Response.json(data, resp.status, pretty=pretty)
        return resp


def _parse_body(method: Method, req: Request, params: Json) -> Any:
    if method.upload:
        kind = params.get("uploadType")
        if kind == "media":
            return Upload(meta={}, media=req.body)
        if kind == "multipart":
            return parse_multipart(req)
        raise ApiError(400, f"Unsupported uploadType: {kind}", "badRequest")
    if not req.body:
        return None
    try:
        return json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(
            400, "Invalid JSON payload received. Unexpected token.", "parseError"
        ) from None


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _flat(query: dict[str, list[str]]) -> Json:
    return {k: v[0] for k, v in query.items() if v}


def _not_implemented(method_id: str) -> ApiError:
    return ApiError(501, f"{method_id} is not implemented by the sandbox.", "notImplemented")


def _html_404(path: str) -> Response:
    body = (
        "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>"
        f"<p><b>404.</b> The requested URL <code>{path}</code> was not found on this server.\n"
    ).encode("utf-8", "replace")
    return Response(status=404, body=body, content_type="text/html; charset=UTF-8")
