"""Nudge channels, against a real private D-Bus session bus and real subprocesses.

Each D-Bus test starts its own ``dbus-daemon`` (no service activation, so no real
notification daemon can interfere) and a small notification server written with
jeepney that records Notify calls and emits ActionInvoked / NotificationClosed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney import (
    HeaderFields,
    new_signal,
)
from jeepney.io.threading import open_dbus_connection
from support.dbus_session import (
    EMITTER,
    GMAIL,
    SECRET_BODY,
    Bus,
    FakePortal,
    FakeServer,
    Listener,
    nudge,
)

from followupd.adapters.notify import desktop as desktop_module
from followupd.adapters.notify.base import Notifier, NotifyError, nudge_to_json
from followupd.adapters.notify.command import CommandNotifier
from followupd.adapters.notify.desktop import DesktopNotifier
from followupd.adapters.notify.memory import InMemoryNotifier

# --- a private session bus --------------------------------------------------------


@pytest.fixture
def sockdir() -> Iterator[Path]:
    # Unix socket paths are limited to 108 bytes: pytest's tmp_path may be too long.
    path = Path(tempfile.mkdtemp(prefix="fud-bus-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def bus(sockdir: Path) -> Iterator[Bus]:
    if shutil.which("dbus-daemon") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dbus-daemon is required under CI (Debian package: dbus)")
        pytest.skip("dbus-daemon is not installed")
    b = Bus(sockdir)
    yield b
    b.stop()


@pytest.fixture
def server(bus: Bus) -> Iterator[FakeServer]:
    s = FakeServer(bus.address)
    yield s
    s.close()


@pytest.fixture
def notifier(bus: Bus) -> Iterator[DesktopNotifier]:
    n = DesktopNotifier(timeout=5.0, bus_address=bus.address)
    yield n
    n.close()


@pytest.fixture
def listener(notifier: DesktopNotifier, server: FakeServer) -> Iterator[Listener]:
    lst = Listener(notifier)
    yield lst
    lst.close()


# --- Nudge ----------------------------------------------------------------------


def test_nudge_repr_hides_user_text() -> None:
    text = repr(nudge(title="Interview at Initech"))
    assert "a1b2c3" in text and "draft_ready" in text
    assert SECRET_BODY not in text and "Initech" not in text


def test_nudge_rejects_unknown_kind_and_action() -> None:
    with pytest.raises(ValueError):
        nudge(kind="spam")
    with pytest.raises(ValueError):
        nudge(actions=("approve", "delete"))


def test_nudge_to_json_payload_cannot_replace_fixed_keys() -> None:
    data = nudge_to_json(nudge(payload={"followup_id": "evil", "state": "drafted"}))
    assert data["followup_id"] == "a1b2c3"
    assert data["state"] == "drafted"
    assert data["actions"] == ["approve", "skip", "open"]


def test_all_notifiers_satisfy_the_protocol() -> None:
    assert isinstance(DesktopNotifier(bus_address="unix:path=/nonexistent"), Notifier)
    assert isinstance(CommandNotifier(["true"]), Notifier)
    assert isinstance(InMemoryNotifier(), Notifier)


def test_in_memory_notifier_records_and_fails() -> None:
    mem = InMemoryNotifier()
    mem.send(nudge())
    assert [n.followup_id for n in mem.sent] == ["a1b2c3"]
    mem.fail = NotifyError("down")
    with pytest.raises(NotifyError):
        mem.send(nudge())


# --- desktop: sending -------------------------------------------------------------


def test_notify_arrives_with_actions_and_urgency(
    server: FakeServer, notifier: DesktopNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier.send(nudge())
    (call,) = server.notify_calls
    assert call["app_name"] == "followupd"
    assert call["summary"] == "Draft ready: Initech onsite"
    assert call["body"] == SECRET_BODY
    assert call["actions"] == ["approve", "Approve", "skip", "Skip", "open", "Open in Gmail"]
    assert call["hints"]["urgency"] == ("y", 1)
    assert call["replaces_id"] == 0
    assert SECRET_BODY not in caplog.text


def test_actions_follow_the_nudge(server: FakeServer, notifier: DesktopNotifier) -> None:
    notifier.send(nudge("aaa111", actions=("skip",), kind="problem"))
    notifier.send(nudge("bbb222", actions=("approve", "open"), open_url=None, kind="sent"))
    first, second = server.notify_calls
    assert first["actions"] == ["skip", "Skip"]
    assert first["hints"]["urgency"] == ("y", 2)
    # "open" without a link is not offered.
    assert second["actions"] == ["approve", "Approve"]
    assert second["hints"]["urgency"] == ("y", 0)


def test_a_new_nudge_replaces_the_previous_one(
    server: FakeServer, notifier: DesktopNotifier
) -> None:
    notifier.send(nudge(kind="draft_ready"))
    notifier.send(nudge(kind="reminder"))
    first, second = server.notify_calls
    assert second["replaces_id"] == first["id"]


def test_body_is_escaped_only_for_markup_servers(bus: Bus) -> None:
    for caps, expected in (
        (("actions", "body", "body-markup"), "R&amp;D &lt;team&gt;"),
        (("actions", "body"), "R&D <team>"),
    ):
        srv = FakeServer(bus.address, capabilities=caps)
        n = DesktopNotifier(timeout=5, bus_address=bus.address)
        try:
            n.send(nudge(body="R&D <team>"))
            assert srv.notify_calls[0]["body"] == expected
        finally:
            n.close()
            srv.close()


def test_server_that_never_answers_fails_within_the_timeout(bus: Bus) -> None:
    srv = FakeServer(bus.address, silent=True)
    n = DesktopNotifier(timeout=1.0, bus_address=bus.address)
    try:
        start = time.monotonic()
        with pytest.raises(NotifyError, match="did not answer"):
            n.send(nudge())
        elapsed = time.monotonic() - start
        assert srv.got_call.is_set()
        assert 0.9 <= elapsed < 2.5, elapsed
    finally:
        n.close()
        srv.close()


def test_no_notification_server_on_the_bus(bus: Bus, notifier: DesktopNotifier) -> None:
    with pytest.raises(NotifyError, match="no notification server"):
        notifier.send(nudge())


def test_no_bus_at_all(sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.monotonic()
    with pytest.raises(NotifyError, match="cannot connect"):
        DesktopNotifier(bus_address=f"unix:path={sockdir}/absent").send(nudge())
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(NotifyError, match="DBUS_SESSION_BUS_ADDRESS"):
        DesktopNotifier().send(nudge())
    with pytest.raises(NotifyError):
        DesktopNotifier(bus_address="tcp:host=localhost,port=1").send(nudge())
    assert time.monotonic() - start < 2


def test_bus_that_never_authenticates(sockdir: Path) -> None:
    import socket

    path = sockdir / "mute"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    try:
        start = time.monotonic()
        with pytest.raises(NotifyError):
            DesktopNotifier(timeout=0.5, bus_address=f"unix:path={path}").send(nudge())
        assert time.monotonic() - start < 2
    finally:
        srv.close()


def test_send_reconnects_after_the_bus_restarts(sockdir: Path, bus: Bus) -> None:
    srv = FakeServer(bus.address)
    n = DesktopNotifier(timeout=3, bus_address=bus.address)
    try:
        n.send(nudge())
        srv.close()
        bus.stop()
        with pytest.raises(NotifyError):
            n.send(nudge())  # nobody there
        (sockdir / "bus").unlink(missing_ok=True)
        bus2 = Bus(sockdir)
        srv2 = FakeServer(bus2.address)
        try:
            n.send(nudge("zzz999"))
            assert [c["summary"] for c in srv2.notify_calls] == ["Draft ready: Initech onsite"]
        finally:
            srv2.close()
            bus2.stop()
    finally:
        n.close()


# --- desktop: listening -----------------------------------------------------------


def test_action_invoked_reaches_the_callback(
    server: FakeServer, notifier: DesktopNotifier, listener: Listener
) -> None:
    notifier.send(nudge("a1b2c3"))
    notifier.send(nudge("d4e5f6"))
    first, second = server.notify_calls
    server.action(second["id"], "approve")
    assert listener.wait(1) == [("d4e5f6", "approve")]
    server.action(first["id"], "skip")
    assert listener.wait(2) == [("d4e5f6", "approve"), ("a1b2c3", "skip")]


def test_action_sent_to_us_alone_is_accepted(
    server: FakeServer, notifier: DesktopNotifier, listener: Listener
) -> None:
    # dunst emits ActionInvoked to the notifying client only, not as a broadcast.
    notifier.send(nudge())
    call = server.notify_calls[0]
    server.action(call["id"], "approve", to=call["sender"])
    assert listener.wait(1) == [("a1b2c3", "approve")]


def test_forged_and_unknown_actions_are_ignored(
    bus: Bus, server: FakeServer, notifier: DesktopNotifier, listener: Listener
) -> None:
    notifier.send(nudge(actions=("skip", "open")))
    call = server.notify_calls[0]
    forger = open_dbus_connection(bus.address)
    try:
        msg = new_signal(EMITTER, "ActionInvoked", "us", (call["id"], "approve"))
        msg.header.fields[HeaderFields.destination] = call["sender"]
        forger.send(msg)  # not from the server that showed it
        forger.send(new_signal(EMITTER, "ActionInvoked", "us", (call["id"], "approve")))
    finally:
        forger.close()
    server.action(call["id"], "approve")  # not offered on this nudge
    server.action(call["id"], "default")
    server.action(call["id"] + 100, "skip")  # somebody else's notification
    server.action(call["id"], "skip")
    assert listener.wait(1) == [("a1b2c3", "skip")]
    time.sleep(0.3)
    assert listener.events == [("a1b2c3", "skip")]


def test_open_action_opens_the_link(bus: Bus, server: FakeServer) -> None:
    opened: list[str] = []
    n = DesktopNotifier(timeout=5, bus_address=bus.address, opener=opened.append)
    lst = Listener(n)
    try:
        n.send(nudge())
        server.action(server.notify_calls[0]["id"], "open")
        assert lst.wait(1) == [("a1b2c3", "open")]
        assert opened == [GMAIL]
    finally:
        lst.close()
        n.close()


def test_failing_opener_and_callback_do_not_kill_the_listener(bus: Bus, server: FakeServer) -> None:
    def bad_opener(url: str) -> None:
        raise OSError("no browser")

    n = DesktopNotifier(timeout=5, bus_address=bus.address, opener=bad_opener)
    seen: list[tuple[str, str]] = []

    def callback(fid: str, action: str) -> None:
        seen.append((fid, action))
        if action == "open":
            raise RuntimeError("handler bug")

    stop = threading.Event()
    thread = threading.Thread(target=n.listen, args=(callback, stop), daemon=True)
    thread.start()
    try:
        assert n.listening.wait(5)
        n.send(nudge())
        nid = server.notify_calls[0]["id"]
        server.action(nid, "open")
        server.action(nid, "approve")
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == [("a1b2c3", "open"), ("a1b2c3", "approve")]
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(5)
        n.close()


def test_closed_notifications_are_forgotten(
    server: FakeServer, notifier: DesktopNotifier, listener: Listener
) -> None:
    notifier.send(nudge("aaa111"))
    notifier.send(nudge("bbb222"))
    first, second = server.notify_calls
    server.closed(first["id"])
    server.action(first["id"], "approve")
    server.action(second["id"], "approve")
    assert listener.wait(1) == [("bbb222", "approve")]
    time.sleep(0.2)
    assert listener.events == [("bbb222", "approve")]
    # A nudge for a closed notification gets a fresh one instead of replacing it.
    notifier.send(nudge("aaa111"))
    assert server.notify_calls[-1]["replaces_id"] == 0


def test_listen_without_a_bus_waits_quietly_and_stops(sockdir: Path) -> None:
    n = DesktopNotifier(timeout=0.5, bus_address=f"unix:path={sockdir}/absent")
    stop = threading.Event()
    thread = threading.Thread(target=n.listen, args=(lambda f, a: None, stop), daemon=True)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive() and not n.listening.is_set()
    stop.set()
    thread.join(3)
    assert not thread.is_alive()


def test_listener_resubscribes_after_the_bus_restarts(sockdir: Path, bus: Bus) -> None:
    srv = FakeServer(bus.address)
    n = DesktopNotifier(timeout=2, bus_address=bus.address)
    lst = Listener(n)
    try:
        srv.close()
        bus.stop()
        deadline = time.monotonic() + 5
        while n.listening.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not n.listening.is_set()
        (sockdir / "bus").unlink(missing_ok=True)
        bus2 = Bus(sockdir)
        srv2 = FakeServer(bus2.address)
        try:
            assert n.listening.wait(10), "listener did not come back"
            n.send(nudge("new111"))
            srv2.action(srv2.notify_calls[0]["id"], "approve")
            assert lst.wait(1) == [("new111", "approve")]
        finally:
            srv2.close()
            bus2.stop()
    finally:
        lst.close()
        n.close()


# --- command --------------------------------------------------------------------


def test_command_gets_the_nudge_as_json(tmp_path: Path) -> None:
    out = tmp_path / "nudge.json"
    CommandNotifier(["sh", "-c", 'cat > "$1"', "sh", str(out)]).send(nudge())
    data = json.loads(out.read_text())
    assert data == {
        "followup_id": "a1b2c3",
        "kind": "draft_ready",
        "title": "Draft ready: Initech onsite",
        "body": SECRET_BODY,
        "actions": ["approve", "skip", "open"],
        "open_url": GMAIL,
        "draft_ids": ["r-1"],
    }


def test_command_environment_and_no_shell(tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    CommandNotifier(
        [
            "sh",
            "-c",
            'printf "%s %s %s" "$FOLLOWUPD_ID" "$FOLLOWUPD_KIND" "$2" > "$1"',
            "sh",
            str(out),
            "$(touch pwned); `x`",
        ]
    ).send(nudge())
    assert out.read_text() == "a1b2c3 draft_ready $(touch pwned); `x`"
    assert not Path("pwned").exists()


def test_command_failure_names_the_command_not_the_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cmd = CommandNotifier(
        ["sh", "-c", "cat >/dev/null; echo 'bad token' >&2; exit 3", "--token=s3cret"]
    )
    with pytest.raises(NotifyError) as info:
        cmd.send(nudge())
    message = str(info.value)
    assert message == "notify command sh exited with status 3"
    assert SECRET_BODY not in message and "s3cret" not in message
    assert info.value.detail == "bad token"
    assert SECRET_BODY not in caplog.text


def test_command_killed_by_a_signal() -> None:
    with pytest.raises(NotifyError, match="killed by signal 9"):
        CommandNotifier(["sh", "-c", "kill -9 $$"]).send(nudge())


def test_command_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    cmd = CommandNotifier(["sh", "-c", f"(sleep 2; touch {marker}) & sleep 30"], timeout=0.5)
    start = time.monotonic()
    with pytest.raises(NotifyError, match=r"did not finish within 0\.5s"):
        cmd.send(nudge())
    assert time.monotonic() - start < 3
    time.sleep(2.5)
    assert not marker.exists()


def test_command_not_found_and_not_executable(tmp_path: Path) -> None:
    with pytest.raises(NotifyError, match="not found: /nonexistent/notify-me"):
        CommandNotifier(["/nonexistent/notify-me"]).send(nudge())
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    with pytest.raises(NotifyError, match="cannot run"):
        CommandNotifier([str(script)]).send(nudge())


def test_command_that_ignores_stdin_is_fine() -> None:
    CommandNotifier(["true"]).send(nudge(body="x" * 1_000_000))


def test_command_argv_must_be_a_list() -> None:
    with pytest.raises(ValueError):
        CommandNotifier([])
    with pytest.raises(TypeError):
        CommandNotifier("notify-send hello")


def test_python_command(tmp_path: Path) -> None:
    out = tmp_path / "kind"
    script = "import json, sys; open(sys.argv[1], 'w').write(json.load(sys.stdin)['kind'])"
    CommandNotifier([sys.executable, "-c", script, str(out)]).send(nudge(kind="closing"))
    assert out.read_text() == "closing"


def test_close_while_listening_and_twice(bus: Bus, server: FakeServer) -> None:
    n = DesktopNotifier(timeout=2, bus_address=bus.address)
    lst = Listener(n)
    n.send(nudge())
    n.close()
    n.close()
    time.sleep(0.5)
    assert lst.thread.is_alive()  # it reconnects until told to stop
    assert n.listening.wait(5)
    n.send(nudge("again1"))
    server.action(server.notify_calls[-1]["id"], "skip")
    assert lst.wait(1) == [("again1", "skip")]
    lst.close()
    n.close()


def test_open_goes_through_the_desktop_portal(
    bus: Bus, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback: list[str] = []
    monkeypatch.setattr(desktop_module, "open_url", fallback.append)
    portal = FakePortal(bus.address)
    n = DesktopNotifier(timeout=5, bus_address=bus.address)
    lst = Listener(n)
    try:
        n.send(nudge())
        server.action(server.notify_calls[0]["id"], "open")
        assert lst.wait(1) == [("a1b2c3", "open")]
        assert portal.opened == [("", GMAIL, {})]
        assert fallback == []
    finally:
        lst.close()
        n.close()
        portal.close()


def test_open_falls_back_to_xdg_open_without_a_portal(
    bus: Bus, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback: list[str] = []
    monkeypatch.setattr(desktop_module, "open_url", fallback.append)
    n = DesktopNotifier(timeout=5, bus_address=bus.address)
    lst = Listener(n)
    try:
        n.send(nudge())
        server.action(server.notify_calls[0]["id"], "open")
        assert lst.wait(1) == [("a1b2c3", "open")]
        assert fallback == [GMAIL]
    finally:
        lst.close()
        n.close()


def test_open_url_never_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A stand-in xdg-open that takes its time: open_url must return at once.
    fake = tmp_path / "xdg-open"
    marker = tmp_path / "opened"
    fake.write_text(f'#!/bin/sh\nsleep 1; printf %s "$1" > {marker}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    start = time.monotonic()
    desktop_module.open_url(GMAIL)
    assert time.monotonic() - start < 0.5
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == GMAIL


def test_one_shot_notifiers_leak_no_connection(bus: Bus, server: FakeServer) -> None:
    # The daemon may build a DesktopNotifier for a single nudge and drop it.
    DesktopNotifier(timeout=5, bus_address=bus.address).send(nudge("warm00"))
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    for i in range(20):
        DesktopNotifier(timeout=5, bus_address=bus.address).send(nudge(f"x{i:05d}"))
    assert len(server.notify_calls) == 21
    assert threading.active_count() == threads
    assert len(os.listdir("/proc/self/fd")) == fds
