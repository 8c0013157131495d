"""sd_notify against a real AF_UNIX datagram socket, as systemd provides it."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from followupd.adapters import systemd


class NotifySocket:
    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def received(self) -> bytes:
        return self.sock.recv(4096)

    def nothing_pending(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.sock.settimeout(2)
        return False


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fud-sd-"))  # socket paths max 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def notify_socket(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = short_dir / "notify"
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield NotifySocket(sock, str(path))
    sock.close()


@pytest.fixture
def abstract_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    name = f"followupd-test-{os.getpid()}-{id(monkeypatch)}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    yield NotifySocket(sock, "@" + name)
    sock.close()


def test_ready_with_status(notify_socket: NotifySocket) -> None:
    assert systemd.ready("Watching 1 calendar") is True
    assert notify_socket.received() == b"READY=1\nSTATUS=Watching 1 calendar"


def test_ready_without_status(notify_socket: NotifySocket) -> None:
    assert systemd.ready()
    assert notify_socket.received() == b"READY=1"


def test_watchdog_status_stopping(notify_socket: NotifySocket) -> None:
    assert systemd.watchdog()
    assert notify_socket.received() == b"WATCHDOG=1"
    assert systemd.status("3 drafts waiting\nfor review")
    assert notify_socket.received() == b"STATUS=3 drafts waiting for review"
    assert systemd.stopping()
    assert notify_socket.received() == b"STOPPING=1"
    assert systemd.stopping("bye")
    assert notify_socket.received() == b"STOPPING=1\nSTATUS=bye"
    assert notify_socket.nothing_pending()


def test_raw_message_and_utf8(notify_socket: NotifySocket) -> None:
    assert systemd.sd_notify("STATUS=Grüße\nERRNO=0")
    assert notify_socket.received() == "STATUS=Grüße\nERRNO=0".encode()


def test_abstract_socket(abstract_socket: NotifySocket) -> None:
    assert systemd.ready("ok")
    assert abstract_socket.received() == b"READY=1\nSTATUS=ok"


def test_unset_socket_is_a_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.sd_notify("READY=1") is False
    assert systemd.watchdog() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "")
    assert systemd.ready() is False


def test_unsupported_address_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert systemd.ready() is False


def test_socket_errors_never_raise(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="followupd.adapters.systemd")
    monkeypatch.setenv("NOTIFY_SOCKET", str(short_dir / "nobody-listens"))
    assert systemd.ready() is False
    # A stream socket where a datagram socket is expected.
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.bind(str(short_dir / "stream"))
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", str(short_dir / "stream"))
        assert systemd.watchdog() is False
    finally:
        stream.close()
    assert "sd_notify failed" in caplog.text
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("60000000", None, 30.0),
        ("60000000", "self", 30.0),
        ("60000000", "1", None),
        ("60000000", "garbage", None),
        ("0", None, None),
        ("-5", None, None),
        ("soon", None, None),
        (None, None, None),
        ("1000", None, 0.0005),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    if usec is None:
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    else:
        monkeypatch.setenv("WATCHDOG_USEC", usec)
    if pid is None:
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
    else:
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()) if pid == "self" else pid)
    assert systemd.watchdog_interval() == expected
