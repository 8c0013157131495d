"""D-Bus plumbing for desktop notifications: the bus names, match rules, and a
jeepney router that knows when its connection is gone. Every call has a timeout."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

from jeepney import DBusAddress, MatchRule, MessageType, message_bus
from jeepney.bus import get_bus
from jeepney.io.blocking import prep_socket
from jeepney.io.threading import DBusConnection, DBusRouter

from followupd.adapters.notify.base import NotifyError

log = logging.getLogger(__name__)

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFICATIONS = DBusAddress(PATH, bus_name=NAME, interface=NAME)
# Sent to the bus: signals from whoever owns the name (dbus-daemon resolves it).
BUS_RULE = MatchRule(type="signal", sender=NAME, interface=NAME, path=PATH)
# Applied locally: also catches signals sent to us alone (dunst does that); the
# sender is checked against the server that showed the notification.
LOCAL_RULE = MatchRule(type="signal", interface=NAME, path=PATH)
PORTAL = DBusAddress(
    "/org/freedesktop/portal/desktop",
    bus_name="org.freedesktop.portal.Desktop",
    interface="org.freedesktop.portal.OpenURI",
)


class Router(DBusRouter):  # type: ignore[misc]  # jeepney ships no type hints
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


def connect(bus_address: str | None, timeout: float) -> Router:
    """A router on the session bus (*bus_address*, else the environment's), said
    hello to; :class:`NotifyError` when that fails within *timeout*."""
    address = bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        raise NotifyError("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set")
    try:
        sock = prep_socket(get_bus(address), False, timeout=max(timeout, 0.1))
    except Exception as exc:
        raise NotifyError(f"cannot connect to the D-Bus session bus: {exc}") from None
    conn = DBusConnection(sock)
    router = Router(conn)
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
