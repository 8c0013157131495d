"""Nudge channels: desktop notifications (D-Bus), a user's command, and memory.

The email channel lives with the Gmail adapter. A nudge's title and body may hold
user data (names, companies): they are never logged, and a :class:`Nudge`'s repr
leaves them out.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import webbrowser
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, message_bus, new_method_call
from jeepney.bus import get_bus
from jeepney.io.blocking import prep_socket
from jeepney.io.common import RouterClosed
from jeepney.io.threading import DBusConnection, DBusRouter

from followupd.core.model import ACTIONS, NUDGE_KINDS, Nudge

log = logging.getLogger(__name__)

__all__ = ["ACTIONS", "NUDGE_KINDS", "Nudge"]

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


class NotifyError(Exception):
    """A nudge could not be delivered on one channel.

    ``str()`` never holds the nudge's text; *detail* may hold a command's stderr,
    for showing to the user interactively (never for logs).
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def nudge_to_json(nudge: Nudge) -> dict[str, object]:
    """The JSON object a command (or a script) receives for *nudge*.

    Payload keys come after the fixed ones and cannot replace them.
    """
    data: dict[str, object] = {
        "followup_id": nudge.followup_id,
        "kind": nudge.kind,
        "title": nudge.title,
        "body": nudge.body,
        "actions": list(nudge.actions),
        "open_url": nudge.open_url,
    }
    for key, value in nudge.payload.items():
        data.setdefault(key, value)
    return data


@runtime_checkable
class Notifier(Protocol):
    name: str

    def send(self, nudge: Nudge) -> None:
        """Deliver *nudge*; raise :class:`NotifyError` on failure."""
        ...


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


# --- desktop notifications ------------------------------------------------------

_NAME = "org.freedesktop.Notifications"
_PATH = "/org/freedesktop/Notifications"
_NOTIFICATIONS = DBusAddress(_PATH, bus_name=_NAME, interface=_NAME)
# Sent to the bus: signals from whoever owns the name (dbus-daemon resolves it).
_BUS_RULE = MatchRule(type="signal", sender=_NAME, interface=_NAME, path=_PATH)
# Applied locally: also catches signals sent to us alone (dunst does that); the
# sender is checked against the server that showed the notification.
_LOCAL_RULE = MatchRule(type="signal", interface=_NAME, path=_PATH)
_MAX_TRACKED = 256
_PORTAL = DBusAddress(
    "/org/freedesktop/portal/desktop",
    bus_name="org.freedesktop.portal.Desktop",
    interface="org.freedesktop.portal.OpenURI",
)


class _Router(DBusRouter):  # type: ignore[misc]  # jeepney ships no type hints
    """A jeepney router that knows when its connection is gone, and stays quiet."""

    def __init__(self, conn: Any) -> None:
        self.lost = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._is_shut = False
        super().__init__(conn)

    def _receiver(self) -> None:
        try:
            super()._receiver()
        except Exception as exc:  # the bus went away; send()/listen() reconnect
            log.debug("session bus connection lost: %s", type(exc).__name__)
        finally:
            self.lost.set()

    @property
    def alive(self) -> bool:
        return not self.lost.is_set()

    def shutdown(self) -> None:
        """Close the router and its connection; safe to call more than once."""
        with self._shutdown_lock:
            if self._is_shut:
                return
            self._is_shut = True
        try:
            self.close()
        finally:
            self.conn.close()
            # jeepney leaves the connection's interrupt pipe open.
            for name in ("_stop_r", "_stop_w"):
                fd = getattr(self.conn, name, None)
                if isinstance(fd, int):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                    setattr(self.conn, name, None)


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
        self._router: _Router | None = None
        self._caps: tuple[str, frozenset[str]] | None = None  # (server, capabilities)
        # (server unique name, notification id) -> what was shown
        self._shown: OrderedDict[tuple[str, int], _Shown] = OrderedDict()
        self._latest: dict[str, tuple[str, int]] = {}  # followup id -> last shown key
        self.listening = threading.Event()  # set while listen() is subscribed
        self._listeners = 0  # listen() calls running

    # connection ------------------------------------------------------------------

    def _connect(self, timeout: float) -> _Router:
        address = self._bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if not address:
            raise NotifyError("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set")
        try:
            sock = prep_socket(get_bus(address), False, timeout=max(timeout, 0.1))
        except Exception as exc:
            raise NotifyError(f"cannot connect to the D-Bus session bus: {exc}") from None
        conn = DBusConnection(sock)
        router = _Router(conn)
        try:
            reply = router.send_and_get_reply(message_bus.Hello(), timeout=max(timeout, 0.1))
            if reply.header.message_type == MessageType.error:
                raise NotifyError("the D-Bus session bus refused the connection")
            conn.unique_name = reply.body[0]
        except Exception as exc:
            router.shutdown()
            if isinstance(exc, NotifyError):
                raise
            raise NotifyError(f"the D-Bus session bus did not answer: {exc!r}") from None
        return router

    def _get_router(self, timeout: float) -> _Router:
        with self._conn_lock:
            router = self._router
            if router is not None and router.alive:
                return router
            if router is not None:
                router.shutdown()
                self._router = None
                self._caps = None
            router = self._connect(timeout)
            self._router = router
            return router

    def _drop(self, router: _Router) -> None:
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
            msg = new_method_call(_PORTAL, "OpenURI", "ssa{sv}", ("", url, {}))
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
        self, router: _Router, method: str, sig: str | None, body: tuple[Any, ...], deadline: float
    ) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NotifyError(self._timeout_message())
        msg = new_method_call(_NOTIFICATIONS, method, sig, body)
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

    def _capabilities(self, router: _Router, deadline: float) -> frozenset[str]:
        cached = self._caps
        if cached is not None:
            return cached[1]
        reply = self._call(router, "GetCapabilities", None, (), deadline)
        caps = frozenset(str(c) for c in reply.body[0])
        self._caps = (str(reply.header.fields.get(HeaderFields.sender, "")), caps)
        return caps

    def _notify(self, router: _Router, nudge: Nudge, deadline: float) -> None:
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

    def send(self, nudge: Nudge) -> None:
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
                return
            except (RouterClosed, OSError) as exc:
                # The bus went away under an old connection: reconnect once.
                self._drop(router)
                if attempt == 2 or time.monotonic() >= deadline:
                    raise NotifyError(f"lost the D-Bus session bus: {type(exc).__name__}") from None

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
                with router.filter(_LOCAL_RULE, queue=inbox):
                    reply = router.send_and_get_reply(
                        message_bus.AddMatch(_BUS_RULE), timeout=self.timeout
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


# --- a user's command -----------------------------------------------------------


class CommandNotifier:
    """Runs the user's command (no shell) with the nudge as JSON on stdin.

    Environment: ``FOLLOWUPD_ID`` and ``FOLLOWUPD_KIND`` are added. Errors name
    the program (``argv[0]``) only: arguments may hold tokens, stdin holds the body.
    """

    name = "command"

    def __init__(self, argv: Sequence[str], timeout: float = 10.0) -> None:
        if not argv or not argv[0]:
            raise ValueError("the notify command is empty")
        if isinstance(argv, str):
            raise TypeError("argv must be a list of arguments, not a string")
        self.argv = list(argv)
        self.timeout = timeout

    @property
    def program(self) -> str:
        return self.argv[0]

    def send(self, nudge: Nudge) -> None:
        data = json.dumps(nudge_to_json(nudge), ensure_ascii=False, default=str).encode()
        env = dict(os.environ, FOLLOWUPD_ID=nudge.followup_id, FOLLOWUPD_KIND=nudge.kind)
        try:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # its own process group, killed whole on timeout
            )
        except FileNotFoundError:
            raise NotifyError(f"notify command not found: {self.program}") from None
        except OSError as exc:
            raise NotifyError(
                f"cannot run notify command {self.program}: {exc.strerror or exc}"
            ) from None
        try:
            _, err = proc.communicate(data, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            raise NotifyError(
                f"notify command {self.program} did not finish within {self.timeout:g}s"
            ) from None
        if proc.returncode != 0:
            detail = err.decode("utf-8", "replace")[-2000:].strip() or None
            if proc.returncode < 0:
                what = f"was killed by signal {-proc.returncode}"
            else:
                what = f"exited with status {proc.returncode}"
            raise NotifyError(f"notify command {self.program} {what}", detail=detail)

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        try:
            proc.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            # A grandchild left the group and holds the pipe: stop reading.
            for pipe in (proc.stdin, proc.stderr):
                if pipe is not None:
                    pipe.close()
            proc.wait()


# --- tests ----------------------------------------------------------------------


class InMemoryNotifier:
    """Records nudges; raises *fail* instead when set (for tests)."""

    def __init__(self, name: str = "memory", *, fail: NotifyError | None = None) -> None:
        self.name = name
        self.fail = fail
        self.sent: list[Nudge] = []
        self._lock = threading.Lock()

    def send(self, nudge: Nudge) -> None:
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.sent.append(nudge)
