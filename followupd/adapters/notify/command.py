"""The command channel: the user's own program, run without a shell, with the nudge
as JSON on stdin. Its arguments may hold tokens and stdin holds the body: errors
name the program only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Sequence

from followupd.adapters.notify.base import Delivery, NotifyError, nudge_to_json
from followupd.core.model import Nudge


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

    def send(self, nudge: Nudge) -> Delivery:
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
        return Delivery(self.name)  # a command has no threads

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
