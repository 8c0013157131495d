"""`followupd status` and `followupd check` through the real CLI (issue 7)."""

from __future__ import annotations

import getpass
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from support.daemon_home import interview_event, wait_for
from support.service_home import ServiceHome

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e

# A keyring backend as keyring defines them (PYTHON_KEYRING_BACKEND), kept in a JSON
# file: the check's "token in the keyring" without a Secret Service.
KEYRING = """
import json, os
from keyring.backend import KeyringBackend

class FileKeyring(KeyringBackend):
    priority = 1
    path = os.environ["TEST_KEYRING_FILE"]

    def _all(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def get_password(self, service, username):
        return self._all().get(service + "/" + username)

    def set_password(self, service, username, password):
        data = self._all()
        data[service + "/" + username] = password
        with open(self.path, "w") as f:
            json.dump(data, f)

    def delete_password(self, service, username):
        data = self._all()
        data.pop(service + "/" + username, None)
        with open(self.path, "w") as f:
            json.dump(data, f)
"""

# systemctl as a running user manager with the unit enabled and active would answer.
SYSTEMCTL = """#!/bin/sh
case "$*" in
  *is-enabled*) echo enabled ;;
  *is-active*) echo active ;;
esac
exit 0
"""

# `check` reads linger from /var/lib/systemd/linger; this runs the real CLI with that
# one directory pointed at a test folder.
CHECK = """
import sys
from pathlib import Path
import followupd.adapters.service.manager as service_manager
service_manager.LINGER_DIR = Path(sys.argv.pop(1))
from followupd.cli import main
main()
"""


def _good_setup(home: ServiceHome) -> Path:
    tools = home.root / "tools"
    tools.mkdir()
    (tools / "testkeyring.py").write_text(KEYRING)
    systemctl = tools / "systemctl"
    systemctl.write_text(SYSTEMCTL)
    systemctl.chmod(0o755)
    linger = home.root / "linger"
    linger.mkdir()
    (linger / getpass.getuser()).touch()
    home.env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(tools), home.env.get("PYTHONPATH")])),
        PYTHON_KEYRING_BACKEND="testkeyring.FileKeyring",
        TEST_KEYRING_FILE=str(home.root / "keyring.json"),
        PATH=f"{tools}{os.pathsep}{home.env['PATH']}",
    )
    home.config_path.write_text(
        home.config_path.read_text().replace('token_store = "file"', 'token_store = "keyring"')
    )
    return linger


def _check(home: ServiceHome, linger: Path, *args: str) -> tuple[int, str, str]:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(linger), "check", *args],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr


class TestGoodSetup:
    def test_status_and_check_when_all_is_well(self, home: ServiceHome, sandbox: Sandbox) -> None:
        linger = _good_setup(home)
        home.login()
        assert not (home.state / "token.json").exists()  # the keyring holds it
        install = home.cli("service", "install", "--no-enable")
        assert install.returncode == 0, install.stdout + install.stderr

        code, out, err = _check(home, linger)
        assert code == 0, out + err
        assert "FAIL" not in out and "warn" not in out
        for area in ("config", "templates", "login", "service"):
            assert f"] {area}:" in out, out
        code, out, _ = _check(home, linger, "--json")
        data = json.loads(out)
        assert code == 0 and data["ok"] is True
        assert all(f["level"] == "ok" for f in data["findings"])

        sandbox.add_event(interview_event("ivst", 30, [("jane.doe@acme.com", "Jane Doe")]))
        proc = home.start_daemon()
        home.wait_running(proc)
        status = wait_for(
            lambda: (s := home.status())["counts"].get("pending") and s, 20, "a pending follow-up"
        )
        assert status["running"] is True and status["pid"] == proc.pid
        assert status["mode"] == "send"
        assert status["last_sync"] and status["auth_state"] == "ok"
        assert status["last_error"] is None and status["recent_errors"] == []
        assert status["counts"] == {"pending": 1}
        assert status["next_actions"] and status["next_actions"][0]["at"]
        text = home.cli("status")
        assert text.returncode == 0
        assert f"running (pid {proc.pid})" in text.stdout and "mode send" in text.stdout
        assert "login       ok" in text.stdout and "pending 1" in text.stdout
        assert "next " in text.stdout and "last sync   never" not in text.stdout

        # Google refuses the login: status and check say so, with the fix.
        sandbox.revoke_all_tokens()
        sandbox.expire_access_tokens()
        status = wait_for(
            lambda: (s := home.status())["auth_state"] not in ("ok", "unknown") and s,
            30,
            "the refusal in status",
        )
        assert status["running"] and status["last_error"]
        assert status["recent_errors"], status
        assert "followupd login" in home.cli("status").stdout
        code, out, _ = _check(home, linger)
        assert code != 0 and "followupd login" in out
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        stopped = home.status()
        assert stopped["running"] is False and stopped["pid"] is None


class TestBadSetups:
    def test_bad_config(self, home: ServiceHome, sandbox: Sandbox) -> None:
        home.config_path.write_text(
            home.config_path.read_text().replace("[profile]", "[profile]\nnmae = 'x'")
        )
        check = home.cli("check")
        assert check.returncode == 78, check.stdout + check.stderr
        assert str(home.config_path) in check.stdout and "profile.nmae" in check.stdout
        assert "fix:" in check.stdout
        run = home.cli("run", timeout=20)
        assert run.returncode == 78
        assert str(home.config_path) in run.stderr and "profile.nmae" in run.stderr
        status = home.cli("status", "--json")
        assert status.returncode == 0, status.stderr  # the state is still worth showing
        data = json.loads(status.stdout)
        assert data["running"] is False and "profile.nmae" in data["last_error"]

    def test_not_logged_in(self, home: ServiceHome, sandbox: Sandbox) -> None:
        check = home.cli("check")
        assert check.returncode != 0
        assert "not logged in" in check.stdout
        assert "followupd login" in check.stdout
        status = home.status()
        assert status["auth_state"] == "not logged in"
        # The daemon starts anyway (systemd would restart-loop it otherwise), says why.
        proc = home.start_daemon()
        home.wait_running(proc)
        status = wait_for(lambda: (s := home.status())["last_error"] and s, 20, "the problem")
        assert "login" in status["last_error"]
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
