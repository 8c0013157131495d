"""What the sandbox holds (one account's calendars, mailbox, OAuth grants, faults and
request counts, behind one lock), its seed, and the Python test API over it."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Concatenate, ParamSpec, TypeVar

from .calendar.store import CalendarStore
from .discovery import Discovery
from .errors import ApiError
from .faults import Faults
from .gmail.store import Mailbox
from .gmail.views import draft_view, message_view
from .oauth import OAuth
from .timeutil import now

Json = dict[str, Any]
T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_EMAIL = "candidate@example.com"
DEFAULT_NAME = "Casey Candidate"


@functools.lru_cache(maxsize=1)
def shared_discovery() -> Discovery:
    return Discovery()


def _python_api(
    fn: Callable[Concatenate[SandboxState, P], T],
) -> Callable[Concatenate[SandboxState, P], T]:
    """Python API calls: take the lock; unknown ids raise KeyError, bad input ValueError."""

    @functools.wraps(fn)
    def wrapper(self: SandboxState, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            try:
                return fn(self, *args, **kwargs)
            except ApiError as exc:
                if exc.code == 404:
                    raise KeyError(exc.message) from None
                raise ValueError(f"{exc.code} {exc.reason}: {exc.message}") from None

    return wrapper


class SandboxState:
    """The faked account and the Python test API; `Sandbox` serves it over HTTP."""

    def __init__(
        self,
        seed: Json | None = None,
        user_email: str | None = None,
        user_name: str | None = None,
        *,
        fault_seed: int = 0,
    ) -> None:
        seed = seed or {}
        user = seed.get("user") or {}
        self.user_email: str = user_email or user.get("email") or DEFAULT_EMAIL
        self.user_name: str = user_name or user.get("name") or DEFAULT_NAME
        self.started_at = now()
        self._lock = threading.RLock()
        self._discovery = shared_discovery()
        scopes: set[str] = set()
        for m in self._discovery.by_id.values():
            scopes.update(m.scopes)
        self._calendar = CalendarStore(self.user_email, self.user_name)
        self._mail = Mailbox(self.user_email, self.user_name)
        self._oauth = OAuth(scopes, self.user_email)
        self._faults = Faults(fault_seed)
        self._counts: Counter[str] = Counter()
        self._apply_seed(seed)

    @property
    def url(self) -> str:
        """Where the sandbox is served; only a started `Sandbox` has one."""
        raise RuntimeError("sandbox not started")

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
        return [draft_view(self._mail, d) for d in ids]

    @_python_api
    def sent_messages(self) -> list[Json]:
        return [
            message_view(self._mail, m) for m in self._mail.messages.values() if "SENT" in m.labels
        ]

    @_python_api
    def messages(self) -> list[Json]:
        return [message_view(self._mail, m) for m in self._mail.messages.values()]

    @_python_api
    def user_edit_draft(
        self, draft_id: str, new_text_body: str, keep_custom_headers: bool = False
    ) -> Json:
        self._mail.user_edit_draft(draft_id, new_text_body, keep_custom_headers)
        return draft_view(self._mail, draft_id)

    @_python_api
    def user_delete_draft(self, draft_id: str) -> None:
        self._mail.delete_draft(draft_id)

    @_python_api
    def user_send_draft(self, draft_id: str) -> Json:
        return message_view(self._mail, self._mail.send_draft(draft_id))

    @_python_api
    def user_reply(
        self, thread_id: str, from_email: str, text: str, subject: str | None = None
    ) -> Json:
        return message_view(self._mail, self._mail.reply(thread_id, from_email, text, subject))

    @_python_api
    def add_message(
        self, raw: bytes, labels: Iterable[str] = ("INBOX",), thread_id: str | None = None
    ) -> Json:
        rec = self._mail.add_message(bytes(raw), list(labels), thread_id)
        return message_view(self._mail, rec)

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
