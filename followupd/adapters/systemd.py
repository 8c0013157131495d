"""The sd_notify protocol, without libsystemd.

systemd passes ``$NOTIFY_SOCKET`` (a path, or ``@name`` for an abstract socket) to a
``Type=notify`` service; the service sends newline-separated ``KEY=VALUE`` datagrams
to it. Outside systemd the variable is unset and every call here is a cheap no-op
returning False. Nothing here raises on socket errors: a daemon must never die
because it could not tell systemd how it feels.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)

# A datagram to a stuck notify socket must not stall the daemon (nor its watchdog).
_SEND_TIMEOUT = 1.0


def _socket_address() -> str | None:
    addr = os.environ.get("NOTIFY_SOCKET", "")
    if not addr:
        return None
    if addr.startswith("@"):
        return "\0" + addr[1:]
    if addr.startswith("/"):
        return addr
    # vsock:... and other transports (systemd >= 253 in VMs) are not supported.
    log.debug("NOTIFY_SOCKET has an unsupported form; ignoring it")
    return None


def sd_notify(message: str) -> bool:
    """Send *message* (``KEY=VALUE`` lines) to systemd; True when it was sent."""
    addr = _socket_address()
    if addr is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(_SEND_TIMEOUT)
            sock.connect(addr)
            sock.sendall(message.encode("utf-8", "replace"))
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc.strerror or type(exc).__name__)
        return False
    return True


def _one_line(text: str) -> str:
    # A newline would start a new KEY=VALUE assignment.
    return " ".join(text.splitlines()).strip()


def ready(status: str | None = None) -> bool:
    """Tell systemd start-up is complete (``Type=notify``), optionally with a status."""
    msg = "READY=1"
    if status:
        msg += f"\nSTATUS={_one_line(status)}"
    return sd_notify(msg)


def status(text: str) -> bool:
    """Set the free-form status line shown by ``systemctl --user status``."""
    return sd_notify(f"STATUS={_one_line(text)}")


def watchdog() -> bool:
    """Ping the watchdog (``WatchdogSec=``)."""
    return sd_notify("WATCHDOG=1")


def stopping(status: str | None = None) -> bool:
    """Tell systemd the daemon is shutting down."""
    msg = "STOPPING=1"
    if status:
        msg += f"\nSTATUS={_one_line(status)}"
    return sd_notify(msg)


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings (half of ``WatchdogSec``), or None when off.

    Honours ``WATCHDOG_PID``: when set, the watchdog is for that process only (a
    child that inherited the environment must not ping).
    """
    raw = os.environ.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000
