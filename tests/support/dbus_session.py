"""A private D-Bus session bus and a fake notification server."""

from __future__ import annotations

import select
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageType,
    message_bus,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.threading import DBusConnection, open_dbus_connection

from followupd.adapters.notify.desktop import DesktopNotifier
from followupd.core.model import Nudge

NAME = "org.freedesktop.Notifications"


PATH = "/org/freedesktop/Notifications"


EMITTER = DBusAddress(PATH, interface=NAME)


SECRET_BODY = "Dear Grace, thank you for the onsite at Initech (secret-body-marker)"


GMAIL = "https://mail.google.com/mail/u/0/#drafts"


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def nudge(followup_id: str = "a1b2c3", **kw: Any) -> Nudge:
    fields: dict[str, Any] = {
        "kind": "draft_ready",
        "title": "Draft ready: Initech onsite",
        "body": SECRET_BODY,
        "actions": ("approve", "skip", "open"),
        "open_url": GMAIL,
        "payload": {"draft_ids": ["r-1"]},
    }
    fields.update(kw)
    return Nudge(followup_id=followup_id, **fields)


class Bus:
    def __init__(self, directory: Path) -> None:
        self.socket = directory / "bus"
        config = directory / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.socket))
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", str(config), "--nofork", "--print-address"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        assert ready, "dbus-daemon did not start"
        self.address = self.proc.stdout.readline().strip()
        assert self.address.startswith("unix:"), self.address

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class FakeServer:
    """Owns org.freedesktop.Notifications; answers (or, if silent, never answers)."""

    def __init__(
        self,
        address: str,
        *,
        silent: bool = False,
        capabilities: tuple[str, ...] = ("actions", "body"),
        first_id: int = 1,
    ) -> None:
        self.silent = silent
        self.capabilities = list(capabilities)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.notify_calls: list[dict[str, Any]] = []
        self.next_id = first_id
        self.got_call = threading.Event()
        self.conn: DBusConnection = open_dbus_connection(address)
        reply = self._bus_call(message_bus.RequestName(NAME, 4))  # DO_NOT_QUEUE
        assert reply.body == (1,), reply.body  # PRIMARY_OWNER
        self.unique_name = self.conn.unique_name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _bus_call(self, msg: Any) -> Any:
        serial = next(self.conn.outgoing_serial)
        self.conn.send(msg, serial=serial)
        while True:
            reply = self.conn.receive(timeout=5)
            if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                return reply

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except Exception:
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            self.calls.append((member, msg.body))
            self.got_call.set()
            if self.silent:
                continue
            if member == "GetCapabilities":
                self.conn.send(new_method_return(msg, "as", (self.capabilities,)))
            elif member == "Notify":
                app, replaces, icon, summary, body, actions, hints, expire = msg.body
                nid = replaces or self.next_id
                if not replaces:
                    self.next_id += 1
                self.notify_calls.append(
                    {
                        "id": nid,
                        "sender": msg.header.fields.get(HeaderFields.sender),
                        "app_name": app,
                        "replaces_id": replaces,
                        "app_icon": icon,
                        "summary": summary,
                        "body": body,
                        "actions": actions,
                        "hints": hints,
                        "expire_timeout": expire,
                    }
                )
                self.conn.send(new_method_return(msg, "u", (nid,)))
            else:
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def emit(
        self, member: str, signature: str, body: tuple[Any, ...], to: str | None = None
    ) -> None:
        msg = new_signal(EMITTER, member, signature, body)
        if to is not None:
            msg.header.fields[HeaderFields.destination] = to
        self.conn.send(msg)

    def action(self, nid: int, key: str, to: str | None = None) -> None:
        self.emit("ActionInvoked", "us", (nid, key), to)

    def closed(self, nid: int, reason: int = 2) -> None:
        self.emit("NotificationClosed", "uu", (nid, reason))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


class Listener:
    def __init__(self, notifier: DesktopNotifier) -> None:
        self.events: list[tuple[str, str]] = []
        self.arrived = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=notifier.listen, args=(self.callback, self.stop), daemon=True
        )
        self.thread.start()
        assert notifier.listening.wait(5), "listener did not subscribe"

    def callback(self, followup_id: str, action: str) -> None:
        self.events.append((followup_id, action))
        self.arrived.set()

    def wait(self, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


class FakePortal:
    """org.freedesktop.portal.Desktop answering OpenURI, as xdg-desktop-portal does."""

    def __init__(self, address: str) -> None:
        self.conn: DBusConnection = open_dbus_connection(address)
        self.opened: list[tuple[Any, ...]] = []
        serial = next(self.conn.outgoing_serial)
        self.conn.send(message_bus.RequestName("org.freedesktop.portal.Desktop", 4), serial=serial)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except Exception:
                return
            fields = msg.header.fields
            if (
                msg.header.message_type == MessageType.method_call
                and fields.get(HeaderFields.member) == "OpenURI"
                and fields.get(HeaderFields.interface) == "org.freedesktop.portal.OpenURI"
            ):
                self.opened.append(msg.body)
                handle = "/org/freedesktop/portal/desktop/request/1_1/t"
                self.conn.send(new_method_return(msg, "o", (handle,)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.conn.close()
