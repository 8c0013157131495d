"""The Sandbox: state, request dispatch (OAuth, Calendar, Gmail) and the Python test API."""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import parse_qs

from . import calendar as cal_mod
from . import gmail as gmail_mod
from .calendar import CalendarStore
from .discovery import Discovery, Method
from .errors import ApiError, OAuthError, Response
from .faults import FaultRule, Faults, api_fault_response, oauth_fault_response
from .fields import apply_fields, parse_fields
from .gmail import Mailbox, Upload
from .oauth import OAuth, insufficient_scope
from .server import HttpServer, Request
from .timeutil import now

Json = dict[str, Any]
T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_EMAIL = "candidate@example.com"
DEFAULT_NAME = "Casey Candidate"

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


@functools.lru_cache(maxsize=1)
def _discovery() -> Discovery:
    return Discovery()


def _python_api(fn: Callable[Concatenate[Sandbox, P], T]) -> Callable[Concatenate[Sandbox, P], T]:
    """Python API calls: take the lock; unknown ids raise KeyError, bad input ValueError."""

    @functools.wraps(fn)
    def wrapper(self: Sandbox, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            try:
                return fn(self, *args, **kwargs)
            except ApiError as exc:
                if exc.code == 404:
                    raise KeyError(exc.message) from None
                raise ValueError(f"{exc.code} {exc.reason}: {exc.message}") from None

    return wrapper


class Sandbox:
    """A local fake of Google's OAuth, Calendar v3 and Gmail v1 endpoints."""

    def __init__(
        self,
        seed: Json | None = None,
        user_email: str | None = None,
        user_name: str | None = None,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        fault_seed: int = 0,
        verbose: bool = False,
    ) -> None:
        seed = seed or {}
        user = seed.get("user") or {}
        self.user_email: str = user_email or user.get("email") or DEFAULT_EMAIL
        self.user_name: str = user_name or user.get("name") or DEFAULT_NAME
        self.started_at = now()
        self.verbose = verbose
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._discovery = _discovery()
        scopes: set[str] = set()
        for m in self._discovery.by_id.values():
            scopes.update(m.scopes)
        self._calendar = CalendarStore(self.user_email, self.user_name)
        self._mail = Mailbox(self.user_email, self.user_name)
        self._oauth = OAuth(scopes, self.user_email)
        self._faults = Faults(fault_seed)
        self._counts: Counter[str] = Counter()
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._apply_seed(seed)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server = HttpServer((self._host, self._port), self.handle, verbose=self.verbose)
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self._host}:{self._port}"

    # ----------------------------------------------------------------- seed
    def _apply_seed(self, seed: Json) -> None:
        for c in seed.get("calendars") or []:
            c = dict(c)
            cid = c.pop("id")
            self._calendar.add_calendar(
                cid,
                c.pop("summary", cid if cid != "primary" else self.user_email),
                selected=bool(c.pop("selected", True)),
                primary=bool(c.pop("primary", False)),
                access_role=c.pop("accessRole", c.pop("access_role", "owner")),
                time_zone=c.pop("timeZone", c.pop("time_zone", "UTC")),
                hidden=bool(c.pop("hidden", False)),
                description=c.pop("description", None),
                **c,
            )
        for ev in seed.get("events") or []:
            ev = dict(ev)
            cal = ev.pop("calendarId", "primary")
            self._calendar.add_event(ev, cal, base=self.started_at)
        for m in seed.get("messages") or []:
            raw = m["raw"].encode("utf-8") if isinstance(m["raw"], str) else bytes(m["raw"])
            self._mail.add_message(raw, list(m.get("labels", ["INBOX"])), m.get("threadId"))
        oauth = seed.get("oauth") or {}
        if "deny_scopes" in oauth:
            self._oauth.deny_scopes = set(oauth["deny_scopes"])
        if "access_token_ttl" in oauth:
            self._oauth.access_token_ttl = int(oauth["access_token_ttl"])

    # ----------------------------------------------------- Python API: calendar
    @_python_api
    def add_event(self, event: Json, calendar_id: str = "primary") -> Json:
        return self._calendar.add_event(event, calendar_id)

    @_python_api
    def update_event(self, calendar_id: str, event_id: str, patch: Json) -> Json:
        return self._calendar.update_event(calendar_id, event_id, patch)

    @_python_api
    def cancel_event(self, calendar_id: str, event_id: str) -> Json:
        return self._calendar.cancel_event(calendar_id, event_id)

    @_python_api
    def delete_event(self, calendar_id: str, event_id: str) -> None:
        self._calendar.delete_event(calendar_id, event_id)

    @_python_api
    def get_event(self, calendar_id: str, event_id: str) -> Json:
        return self._calendar.get_event(calendar_id, event_id)

    @_python_api
    def events(self, calendar_id: str = "primary") -> list[Json]:
        return self._calendar.all_events(calendar_id)

    @_python_api
    def add_calendar(
        self,
        calendar_id: str,
        summary: str,
        selected: bool = True,
        primary: bool = False,
        access_role: str = "owner",
        time_zone: str = "UTC",
        hidden: bool = False,
    ) -> Json:
        return self._calendar.add_calendar(
            calendar_id,
            summary,
            selected=selected,
            primary=primary,
            access_role=access_role,
            time_zone=time_zone,
            hidden=hidden,
        )

    @_python_api
    def invalidate_sync_tokens(self) -> None:
        self._calendar.invalidate_sync_tokens()

    # -------------------------------------------------------- Python API: gmail
    @_python_api
    def drafts(self) -> list[Json]:
        ids = sorted(
            self._mail.drafts, key=lambda d: self._mail.messages[self._mail.drafts[d]].internal_date
        )
        return [gmail_mod.draft_view(self._mail, d) for d in ids]

    @_python_api
    def sent_messages(self) -> list[Json]:
        return [
            gmail_mod.message_view(self._mail, m)
            for m in self._mail.messages.values()
            if "SENT" in m.labels
        ]

    @_python_api
    def messages(self) -> list[Json]:
        return [gmail_mod.message_view(self._mail, m) for m in self._mail.messages.values()]

    @_python_api
    def user_edit_draft(
        self, draft_id: str, new_text_body: str, keep_custom_headers: bool = False
    ) -> Json:
        self._mail.user_edit_draft(draft_id, new_text_body, keep_custom_headers)
        return gmail_mod.draft_view(self._mail, draft_id)

    @_python_api
    def user_delete_draft(self, draft_id: str) -> None:
        self._mail.delete_draft(draft_id)

    @_python_api
    def user_send_draft(self, draft_id: str) -> Json:
        return gmail_mod.message_view(self._mail, self._mail.send_draft(draft_id))

    @_python_api
    def user_reply(
        self, thread_id: str, from_email: str, text: str, subject: str | None = None
    ) -> Json:
        return gmail_mod.message_view(
            self._mail, self._mail.reply(thread_id, from_email, text, subject)
        )

    @_python_api
    def add_message(
        self, raw: bytes, labels: Iterable[str] = ("INBOX",), thread_id: str | None = None
    ) -> Json:
        rec = self._mail.add_message(bytes(raw), list(labels), thread_id)
        return gmail_mod.message_view(self._mail, rec)

    # -------------------------------------------------------- Python API: OAuth
    def revoke_all_tokens(self) -> None:
        with self._lock:
            self._oauth.revoke_all()

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._oauth.expire_access_tokens()

    def issue_tokens(
        self,
        scopes: Iterable[str],
        client_id: str = "sandbox-client.apps.googleusercontent.com",
        client_secret: str = "sandbox-secret",  # noqa: S107 - a fake client
    ) -> Json:
        """Skip the consent page: a token response as if the user had approved `scopes`."""
        with self._lock:
            return self._oauth.issue(list(scopes), client_id, client_secret)

    @property
    def deny_scopes(self) -> set[str]:
        return self._oauth.deny_scopes

    @deny_scopes.setter
    def deny_scopes(self, value: Iterable[str]) -> None:
        with self._lock:
            self._oauth.deny_scopes = set(value)

    @property
    def access_token_ttl(self) -> int:
        return self._oauth.access_token_ttl

    @access_token_ttl.setter
    def access_token_ttl(self, value: int) -> None:
        with self._lock:
            self._oauth.access_token_ttl = int(value)

    # ------------------------------------------------------- Python API: faults
    def inject_fault(
        self,
        kind: str,
        method: str | None = None,
        count: int | None = 1,
        rate: float | None = None,
        retry_after: int = 1,
    ) -> None:
        with self._lock:
            self._faults.add(kind, method, count, rate, retry_after)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[Json]:
        with self._lock:
            return [r.as_dict() for r in self._faults.rules]

    @property
    def fault_seed(self) -> int:
        return self._faults.seed

    @fault_seed.setter
    def fault_seed(self, value: int) -> None:
        with self._lock:
            self._faults.seed = int(value)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    # ------------------------------------------------------------- dispatch
    def handle(self, req: Request) -> Response:
        if req.path == "/_sandbox" or req.path.startswith("/_sandbox/"):
            from .testapi import handle_test_api

            return handle_test_api(self, req)
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

    def _parse_body(self, method: Method, req: Request, params: Json) -> Any:
        if method.upload:
            kind = params.get("uploadType")
            if kind == "media":
                return Upload(meta={}, media=req.body)
            if kind == "multipart":
                return _multipart(req)
            raise ApiError(400, f"Unsupported uploadType: {kind}", "badRequest")
        if not req.body:
            return None
        try:
            return json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(
                400, "Invalid JSON payload received. Unexpected token.", "parseError"
            ) from None

    def _handle_api(self, method: Method, path_params: dict[str, str], req: Request) -> Response:
        rule = self._fault(method.id)
        if rule is not None and rule.kind == "drop":
            return Response.dropped()
        if rule is not None and rule.kind in ("429", "500", "503"):
            return api_fault_response(rule)
        pretty = True
        try:
            with self._lock:
                token = self._oauth.authenticate(req.headers, _flat(req.query))
                params = self._discovery.validate_query(method, req.query)
                pretty = params.get("prettyPrint", True) is not False
                granting = set(token.scopes) & set(method.scopes)
                if not granting:
                    raise insufficient_scope(method.id, method.api, method.scopes)
                restricted = granting <= METADATA_SCOPES
                body = self._parse_body(method, req, params)
                if body is not None and not isinstance(body, Upload):
                    self._discovery.validate_body(method, body)
                if isinstance(body, Upload) and body.meta:
                    self._discovery.validate_body(method, body.meta)
                if method.api == "calendar":
                    chandler = cal_mod.HANDLERS.get(method.id)
                    if chandler is None:
                        raise _not_implemented(method.id)
                    resp = chandler(self._calendar, path_params, params, body)
                else:
                    ghandler = gmail_mod.HANDLERS.get(method.id)
                    if ghandler is None:
                        raise _not_implemented(method.id)
                    ctx = gmail_mod.Ctx(
                        path=path_params, params=params, body=body, restricted=restricted
                    )
                    resp = ghandler(self._mail, ctx)
                if resp.data is not None and resp.status == 200:
                    data = resp.data
                    if params.get("fields"):
                        data = apply_fields(data, parse_fields(str(params["fields"])))
                    if data is not resp.data or not pretty:
                        resp = Response.json(data, resp.status, pretty=pretty)
        except ApiError as exc:
            resp = exc.response()
        if rule is not None and rule.kind == "drop_after":
            resp.drop = True
        return resp


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


def _multipart(req: Request) -> Upload:
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
