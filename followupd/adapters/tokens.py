"""Where the OAuth token record lives: the system keyring, or (opt-in) a 0600 file.

A record is a small JSON object (see :mod:`followupd.adapters.google.credentials`); this
module does not look inside it. Keyring entries use service ``followupd`` and user =
the account's address, as DESIGN.md fixes.

Keyring calls go through keyring's configured backend, so ``PYTHON_KEYRING_BACKEND``
and ``keyringrc.cfg`` work as keyring defines them. On Linux that is usually the
Secret Service over D-Bus (jeepney, via SecretStorage). Two properties matter to a
daemon and are enforced here, not left to the backend:

* **Fail fast, never hang.** SecretStorage sends D-Bus calls without a timeout, and
  unlocking a locked collection waits for an unlock prompt to complete, forever if
  nobody can see it (keyring issue #735, twine #1276). Every keyring call therefore
  runs in a worker thread and the caller waits at most ``timeout`` seconds. At most
  one worker is in flight per store: while one is stuck, further calls fail at once
  instead of piling up threads.
* **Say what is wrong and how to get out.** Every backend failure (no session bus,
  locked collection, no Secret Service, D-Bus errors, a bad
  ``PYTHON_KEYRING_BACKEND``) becomes :class:`~followupd.errors.KeyringUnavailable`
  whose message names the situation and the ways out.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from followupd import paths
from followupd.errors import AuthError, KeyringUnavailable

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from followupd.core.settings import Config

log = logging.getLogger(__name__)

SERVICE = "followupd"
DEFAULT_KEYRING_TIMEOUT = 10.0
"""Seconds a daemon waits for the keyring. Interactive commands may pass more, so
that a user has time to answer an unlock prompt."""

TOKEN_FILE = "token.json"  # noqa: S105 - a file name

T = TypeVar("T")

Record = dict[str, Any]


@runtime_checkable
class TokenStore(Protocol):
    """Keeps one token record per account address."""

    def load(self, account: str) -> Record | None:
        """The record saved for *account*, or None when there is none."""

    def save(self, account: str, record: Record) -> None:
        """Store *record* for *account*, replacing any earlier one."""

    def delete(self, account: str) -> None:
        """Forget *account*'s record; no error when there is none."""

    def describe(self) -> str:
        """Where records live, for `followupd check` and messages (no secrets)."""


# --------------------------------------------------------------------- messages

WAYS_OUT = (
    "Ways out:\n"
    '  - unlock the keyring: log in to your desktop session, or unlock the "Login" '
    "keyring in Passwords and Keys (seahorse);\n"
    "  - in an SSH session or a systemd user service, make the session bus visible: "
    "export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus (in a unit file: "
    "Environment=DBUS_SESSION_BUS_ADDRESS=unix:path=%t/bus);\n"
    '  - or keep the token in a file instead: set token_store = "file" in the config '
    "(a 0600 file under the state directory; anyone who can read your files or backups "
    "can use it) and run `followupd login` again."
)


def _situation(exc: BaseException) -> str:
    """One sentence naming what went wrong, from the exception and the environment."""
    from keyring import errors as kerr

    name = type(exc).__name__
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    backend_env = os.environ.get("PYTHON_KEYRING_BACKEND", "")

    locked = name in ("LockedException", "PromptDismissedException")
    if locked or isinstance(exc, kerr.KeyringLocked):
        return (
            "the keyring's collection is locked and could not be unlocked (no one answered "
            "the unlock prompt: a headless server, a locked screen, or a session without "
            "a prompter)"
        )
    if isinstance(exc, kerr.InitError):
        return (
            "the Secret Service has no usable default collection (a keyring that was never "
            f"created or unlocked in this session): {exc}"
        )
    if isinstance(exc, (ImportError, AttributeError)) and backend_env:
        return f"PYTHON_KEYRING_BACKEND={backend_env} names no usable keyring backend ({exc})"
    if not bus:
        return (
            "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset): a headless "
            "server, an SSH login, or a systemd user service started without the session "
            "bus"
        )
    if isinstance(exc, kerr.NoKeyringError):
        return (
            "no keyring backend is available: no Secret Service (gnome-keyring, KeePassXC, "
            f"KWallet) answers on the session bus {bus}"
        )
    return f"the Secret Service on the session bus {bus} cannot be used ({name}: {exc})"


def _unavailable(exc: BaseException, action: str) -> KeyringUnavailable:
    return KeyringUnavailable(f"cannot {action} the system keyring: {_situation(exc)}.\n{WAYS_OUT}")


def _is_backend_failure(exc: BaseException) -> bool:
    """True for the exceptions that mean "this keyring cannot be used right now"."""
    from keyring import errors as kerr

    if isinstance(exc, kerr.PasswordDeleteError):
        return False
    if isinstance(exc, (kerr.KeyringError, OSError, ImportError, EOFError)):
        return True
    # keyring raises a bare RuntimeError when the backend named by
    # PYTHON_KEYRING_BACKEND is not viable ("Unable to initialize SecretService: ...").
    if isinstance(exc, RuntimeError):
        return True
    if isinstance(exc, AttributeError) and os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    module = type(exc).__module__ or ""
    # secretstorage.exceptions.*, jeepney.wrappers.DBusErrorResponse, jeepney auth errors.
    return module.startswith(("secretstorage", "jeepney"))


# ---------------------------------------------------------------------- keyring


class KeyringTokenStore:
    """Records as JSON text in the system keyring (service ``followupd``).

    *backend* pins a keyring backend instance (tests); by default keyring's own choice
    is used (``PYTHON_KEYRING_BACKEND``, ``keyringrc.cfg``, then the best available).
    """

    def __init__(
        self,
        *,
        service: str = SERVICE,
        backend: KeyringBackend | None = None,
        timeout: float = DEFAULT_KEYRING_TIMEOUT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.service = service
        self.timeout = timeout
        self._backend = backend
        # Held from the call until its worker finishes: one worker in flight at most.
        self._busy = threading.Lock()

    # -- the TokenStore protocol

    def load(self, account: str) -> Record | None:
        text = self._call("read from", lambda kr: kr.get_password(self.service, account))
        if text is None:
            return None
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise AuthError(
                f"the keyring entry {self.service}/{account} does not hold a followupd token "
                "record: run `followupd login` again to replace it"
            )
        return record

    def save(self, account: str, record: Record) -> None:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        self._call("write to", lambda kr: kr.set_password(self.service, account, text))

    def delete(self, account: str) -> None:
        from keyring.errors import PasswordDeleteError

        def delete(kr: KeyringBackend) -> None:
            with contextlib.suppress(PasswordDeleteError):  # nothing stored: already gone
                kr.delete_password(self.service, account)

        self._call("delete from", delete)

    def describe(self) -> str:
        if self._backend is not None:
            name = _backend_name(self._backend)
        elif os.environ.get("PYTHON_KEYRING_BACKEND"):
            name = os.environ["PYTHON_KEYRING_BACKEND"] + " (from PYTHON_KEYRING_BACKEND)"
        else:
            name = "keyring's configured backend"
        return f"system keyring ({name}), service {self.service!r}"

    # -- internals

    def _resolve(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        import keyring
        import keyring.core
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            # keyring settled on "no backend" earlier in this process (say, before the
            # session bus came up): look again rather than fail forever.
            keyring.core.init_backend()
            backend = keyring.get_keyring()
        return backend

    def _call(self, action: str, fn: Callable[[KeyringBackend], T]) -> T:
        if not self._busy.acquire(timeout=self.timeout):
            raise self._timed_out(action, stuck=True)
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = fn(self._resolve())
            except BaseException as exc:  # handed to the caller
                box["error"] = exc
            finally:
                self._busy.release()
                done.set()

        worker = threading.Thread(target=work, name="followupd-keyring", daemon=True)
        worker.start()
        if not done.wait(self.timeout):
            raise self._timed_out(action, stuck=False)
        error = box.get("error")
        if error is not None:
            if _is_backend_failure(error):
                log.debug("keyring %s failed: %s", action.split()[0], type(error).__name__)
                raise _unavailable(error, action) from error
            raise error
        value: T = box["value"]
        return value

    def _timed_out(self, action: str, *, stuck: bool) -> KeyringUnavailable:
        what = (
            "an earlier keyring request is still waiting for an answer"
            if stuck
            else f"the keyring did not answer within {self.timeout:g} s"
        )
        return KeyringUnavailable(
            f"cannot {action} the system keyring: {what} (an unlock prompt may be waiting "
            f"on a screen nobody sees, or the Secret Service is stuck).\n{WAYS_OUT}"
        )


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


# ------------------------------------------------------------------------- file


class FileTokenStore:
    """Records in ``<state dir>/token.json``, mode 0600, directory 0700 (opt-in).

    The file maps account addresses to records. Writes are atomic (temp file, fsync,
    rename), so a crash leaves the old file or the new one, never half of one.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / TOKEN_FILE

    def load(self, account: str) -> Record | None:
        record = self._read().get(account)
        return copy.deepcopy(record) if isinstance(record, dict) else None

    def save(self, account: str, record: Record) -> None:
        accounts = self._read()
        accounts[account] = copy.deepcopy(record)
        self._write(accounts)

    def delete(self, account: str) -> None:
        accounts = self._read()
        if account not in accounts:
            return
        del accounts[account]
        if accounts:
            self._write(accounts)
        else:
            self.path.unlink(missing_ok=True)

    def describe(self) -> str:
        return f"plain file {self.path} (mode 0600)"

    @property
    def warning(self) -> str:
        """What `followupd check` should tell the user about this choice."""
        text = (
            f"tokens are kept in a plain file, {self.path}: anyone who can read your files "
            "(or your backups) can use your Google login until you run `followupd logout`. "
            'The system keyring (token_store = "keyring") is safer.'
        )
        loose = self._loose_modes()
        if loose:
            text += " Also: " + "; ".join(loose) + "."
        return text

    def _loose_modes(self) -> list[str]:
        problems = []
        for path, want in ((self.state_dir, 0o700), (self.path, 0o600)):
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
            except OSError:
                continue
            if mode & 0o077:
                problems.append(
                    f"{path} has mode {mode:04o}, readable by others: chmod {want:o} {path}"
                )
        return problems

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AuthError(f"{self.path}: cannot read the token file: {exc.strerror}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), dict):
            raise AuthError(
                f"{self.path}: not a followupd token file; delete it and run `followupd login`"
            )
        accounts: dict[str, Any] = data["accounts"]
        return accounts

    def _write(self, accounts: dict[str, Any]) -> None:
        paths.ensure_private_dir(self.state_dir)
        os.chmod(self.state_dir, 0o700)
        body = json.dumps({"version": 1, "accounts": accounts}, indent=2, sort_keys=True)
        paths.atomic_write(self.path, body.encode("utf-8") + b"\n", mode=0o600)


# ----------------------------------------------------------------------- memory


class InMemoryTokenStore:
    """Records in a dict, for tests and dry runs."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    def load(self, account: str) -> Record | None:
        record = self.records.get(account)
        return copy.deepcopy(record) if record is not None else None

    def save(self, account: str, record: Record) -> None:
        self.records[account] = copy.deepcopy(record)

    def delete(self, account: str) -> None:
        self.records.pop(account, None)

    def describe(self) -> str:
        return "memory only (nothing is kept after exit)"


def token_store_for(config: Config, *, keyring_timeout: float | None = None) -> TokenStore:
    """The store the config asks for (``token_store = "keyring" | "file"``)."""
    if config.token_store == "file":  # noqa: S105 - not a password
        return FileTokenStore(paths.state_dir())
    return KeyringTokenStore(timeout=keyring_timeout or DEFAULT_KEYRING_TIMEOUT)
