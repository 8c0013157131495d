"""The desktop channel: ``org.freedesktop.Notifications`` on the session bus, with
action buttons that are acted on only for notifications we showed.

A nudge's title and body may hold user data: they are never logged.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
import webbrowser
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jeepney import HeaderFields, MessageType, message_bus, new_method_call
from jeepney.io.common import RouterClosed

from followupd.adapters.notify import dbus
from followupd.adapters.notify.base import Delivery, NotifyError
from followupd.core.model import ACTIONS, Nudge

log = logging.getLogger(__name__)

ACTION_LABELS = {"approve": "Approve", "skip": "Skip", "open": "Open in Gmail"}

# Freedesktop urgency: 0 low, 1 normal, 2 critical (critical ones stay on screen).
_URGENCY = {
    "draft_ready": 1,
    "reminder": 1,
    "closing": 2,
    "checkin": 1,
    "sent": 0,
    "expired": 0,
    "problem": 2,
}
_MAX_TRACKED = 256

# --- opening a URL --------------------------------------------------------------


def open_url(url: str) -> None:
    """Open *url* in the user's browser without ever blocking the caller."""
    xdg_open = shutil.which("xdg-open")
    if xdg_open:
        proc = subprocess.Popen(
            [xdg_open, url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        threading.Thread(target=proc.wait, name="xdg-open-reaper", daemon=True).start()
    elif os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        # webbrowser may wait for the browser to exit: keep it off the caller's thread.
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    else:
        log.info("no browser available to open the nudge's link")


def _safe_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


@dataclass(frozen=True)
class _Shown:
    followup_id: str
    actions: tuple[str, ...]
    open_url: str | None


class DesktopNotifier:
    """``org.freedesktop.Notifications`` on the session bus, with action buttons.

    :meth:`send` may be called from any thread; :meth:`listen` runs in one daemon
    thread and reports the buttons the user pressed. Every D-Bus call has a timeout:
    a notification server that owns the name but never answers costs at most
    *timeout* seconds per nudge.
    """

    name = "desktop"

    def __init__(
        self,
        timeout: float = 5.0,
        bus_address: str | None = None,
        *,
        app_name: str = "followupd",
        app_icon: str = "mail-message-new",
        opener: Callable[[str], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.app_name = app_name
        self.app_icon = app_icon
        self._bus_address = bus_address
        self._opener = opener or self._open_default
        self._conn_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._router: dbus.Router | None = None
        self._caps: tuple[str, frozenset[str]] | None = None  # (server, capabilities)
        # (server unique name, notification id) -> what was shown
        self._shown: OrderedDict[tuple[str, int], _Shown] = OrderedDict()
        self._latest: dict[str, tuple[str, int]] = {}  # followup id -> last shown key
        self.listening = threading.Event()  # set while listen() is subscribed
        self._listeners = 0  # listen() calls running

    # connection ------------------------------------------------------------------

    def _get_router(self, timeout: float) -> dbus.Router:
        with self._conn_lock:
            router = self._router
            if router is not None and router.alive:
                return router
            if router is not None:
                router.shutdown()
                self._router = None
                self._caps = None
            router = dbus.connect(self._bus_address, timeout)
            self._router = router
            return router

    def _drop(self, router: dbus.Router) -> None:
        with self._conn_lock:
            if self._router is router:
                self._router = None
                self._caps = None
        router.shutdown()

    def close(self) -> None:
        with self._conn_lock:
            router, self._router = self._router, None
        if router is not None:
            router.shutdown()

    def _open_default(self, url: str) -> None:
        """Open *url* through the desktop portal, else with xdg-open.

        The portal (xdg-desktop-portal) starts the browser outside followupd's
        sandbox; a browser started as a child of a sandboxed service would inherit
        its restrictions (read-only home, no W^X memory for a JIT, private /tmp).
        """
        router = self._router
        if router is not None and router.alive:
            msg = new_method_call(dbus.PORTAL, "OpenURI", "ssa{sv}", ("", url, {}))
            try:
                reply = router.send_and_get_reply(msg, timeout=self.timeout)
                if reply.header.message_type != MessageType.error:
                    return
                log.debug(
                    "desktop portal refused OpenURI: %s",
                    reply.header.fields.get(HeaderFields.error_name),
                )
            except Exception as exc:
                log.debug("desktop portal unavailable: %s", type(exc).__name__)
        open_url(url)

    # sending -----------------------------------------------------------------------

    def _call(
        self,
        router: dbus.Router,
        method: str,
        sig: str | None,
        body: tuple[Any, ...],
        deadline: float,
    ) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NotifyError(self._timeout_message())
        msg = new_method_call(dbus.NOTIFICATIONS, method, sig, body)
        try:
            reply = router.send_and_get_reply(msg, timeout=remaining)
        except TimeoutError:
            raise NotifyError(self._timeout_message()) from None
        if reply.header.message_type == MessageType.error:
            error = reply.header.fields.get(HeaderFields.error_name, "unknown error")
            if error in (
                "org.freedesktop.DBus.Error.ServiceUnknown",
                "org.freedesktop.DBus.Error.NameHasNoOwner",
            ):
                raise NotifyError("no notification server is running on the session bus")
            raise NotifyError(f"the notification server refused the call: {error}")
        return reply

    def _timeout_message(self) -> str:
        return f"the notification server did not answer within {self.timeout:g}s"

    def _capabilities(self, router: dbus.Router, deadline: float) -> frozenset[str]:
        cached = self._caps
        if cached is not None:
            return cached[1]
        reply = self._call(router, "GetCapabilities", None, (), deadline)
        caps = frozenset(str(c) for c in reply.body[0])
        self._caps = (str(reply.header.fields.get(HeaderFields.sender, "")), caps)
        return caps

    def _notify(self, router: dbus.Router, nudge: Nudge, deadline: float) -> None:
        caps = self._capabilities(router, deadline)
        body = html.escape(nudge.body, quote=False) if "body-markup" in caps else nudge.body
        shown_actions = tuple(
            a for a in ACTIONS if a in nudge.actions and (a != "open" or _safe_url(nudge.open_url))
        )
        actions: list[str] = []
        for action in shown_actions:
            actions += [action, ACTION_LABELS[action]]
        hints = {"urgency": ("y", _URGENCY.get(nudge.kind, 1))}
        with self._state_lock:
            previous = self._latest.get(nudge.followup_id)
        replaces = previous[1] if previous is not None else 0
        reply = self._call(
            router,
            "Notify",
            "susssasa{sv}i",
            (self.app_name, replaces, self.app_icon, nudge.title, body, actions, hints, -1),
            deadline,
        )
        server = str(reply.header.fields.get(HeaderFields.sender, ""))
        notification_id = int(reply.body[0])
        if self._caps is not None and self._caps[0] != server:
            self._caps = None  # another server answered: ask it next time
        key = (server, notification_id)
        with self._state_lock:
            if previous is not None and previous != key:
                self._shown.pop(previous, None)
            self._shown[key] = _Shown(nudge.followup_id, shown_actions, nudge.open_url)
            self._shown.move_to_end(key)
            self._latest[nudge.followup_id] = key
            while len(self._shown) > _MAX_TRACKED:
                old_key, old = self._shown.popitem(last=False)
                if self._latest.get(old.followup_id) == old_key:
                    del self._latest[old.followup_id]
        log.debug("desktop notification %d shown for %s", notification_id, nudge.followup_id)

    def send(self, nudge: Nudge) -> Delivery:
        """Show *nudge*; :class:`NotifyError` when that fails within ``timeout``.

        Without a running :meth:`listen`, the connection is closed again afterwards
        (nobody would read from it), so a notifier made for one message leaks nothing.
        """
        deadline = time.monotonic() + self.timeout
        for attempt in (1, 2):
            router = self._get_router(max(deadline - time.monotonic(), 0.1))
            try:
                try:
                    self._notify(router, nudge, deadline)
                finally:
                    if not self._listeners:
                        self._drop(router)
                return Delivery(self.name)  # notifications have no threads
            except (RouterClosed, OSError) as exc:
                # The bus went away under an old connection: reconnect once.
                self._drop(router)
                if attempt == 2 or time.monotonic() >= deadline:
                    raise NotifyError(f"lost the D-Bus session bus: {type(exc).__name__}") from None
        raise AssertionError("not reached: the second attempt returns or raises")

    # listening ---------------------------------------------------------------------

    def _forget(self, key: tuple[str, int]) -> None:
        with self._state_lock:
            shown = self._shown.pop(key, None)
            if shown is not None and self._latest.get(shown.followup_id) == key:
                del self._latest[shown.followup_id]

    def _dispatch(self, msg: Any, callback: Callable[[str, str], None]) -> None:
        fields = msg.header.fields
        member = fields.get(HeaderFields.member)
        sender = str(fields.get(HeaderFields.sender, ""))
        if member == "NotificationClosed" and len(msg.body) >= 1:
            self._forget((sender, int(msg.body[0])))
            return
        if member != "ActionInvoked" or len(msg.body) < 2:
            return
        notification_id, action = int(msg.body[0]), str(msg.body[1])
        with self._state_lock:
            shown = self._shown.get((sender, notification_id))
        if shown is None:
            # Not ours, or not from the server that showed it: never act on it.
            log.debug("ignoring an action on notification %d", notification_id)
            return
        if action not in shown.actions:
            log.debug("ignoring action %r on notification %d", action[:20], notification_id)
            return
        if action == "open" and shown.open_url:
            try:
                self._opener(shown.open_url)
            except Exception as exc:
                log.warning("could not open the link of %s: %s", shown.followup_id, exc)
        try:
            callback(shown.followup_id, action)
        except Exception:
            log.exception("handling %r for follow-up %s failed", action, shown.followup_id)

    def listen(self, callback: Callable[[str, str], None], stop: threading.Event) -> None:
        """Call ``callback(followup_id, action)`` for each button pressed, until *stop*.

        Blocking; meant for a daemon thread. Reconnects quietly, with backoff, when
        the session bus is missing or goes away; never raises.
        """
        with self._state_lock:
            self._listeners += 1
        try:
            self._listen(callback, stop)
        finally:
            with self._state_lock:
                self._listeners -= 1

    def _listen(self, callback: Callable[[str, str], None], stop: threading.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                router = self._get_router(self.timeout)
            except Exception as exc:
                log.debug("desktop notifications: %s", exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            inbox: queue.Queue[Any] = queue.Queue(maxsize=256)
            try:
                with router.filter(dbus.LOCAL_RULE, queue=inbox):
                    reply = router.send_and_get_reply(
                        message_bus.AddMatch(dbus.BUS_RULE), timeout=self.timeout
                    )
                    if reply.header.message_type == MessageType.error:
                        raise NotifyError("the session bus refused the match rule")
                    backoff = 1.0
                    self.listening.set()
                    while not stop.is_set() and router.alive and self._router is router:
                        try:
                            msg = inbox.get(timeout=0.25)
                        except queue.Empty:
                            continue
                        self._dispatch(msg, callback)
            except Exception as exc:
                log.debug("desktop notification listener: %s", type(exc).__name__)
                stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            finally:
                self.listening.clear()
                if not router.alive:
                    with contextlib.suppress(Exception):
                        self._drop(router)
