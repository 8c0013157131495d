"""The unit file: the template shipped as package data (followupd/data/
followupd.service.in), rendered for one command, and where it is installed."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path

from followupd import paths

UNIT_NAME = "followupd.service"
PLACEHOLDER = "@EXEC_START@"


@cache
def unit_template() -> str:
    """The unit with ``@EXEC_START@`` for the command (the one copy: package data)."""
    return (files("followupd") / "data" / "followupd.service.in").read_text(encoding="utf-8")


_SAFE_WORD = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for an ``Exec*=`` line (systemd.service(5), "Command lines").

    ``%`` (specifiers) and ``$`` (environment substitution) are doubled; anything
    beyond plain characters goes into double quotes with C-style escapes.
    """
    if "\0" in arg:
        raise ValueError("a command-line argument cannot contain NUL")
    if arg == ";":
        return "\\;"  # a lone ';' would separate commands
    doubled = arg.replace("%", "%%").replace("$", "$$")
    if arg and _SAFE_WORD.fullmatch(arg):
        return doubled
    out = []
    for ch in doubled:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def render_unit(exec_start: Sequence[str]) -> str:
    """The unit file text for the command *exec_start* (absolute executable first)."""
    if not exec_start:
        raise ValueError("exec_start is empty")
    if not os.path.isabs(exec_start[0]):
        raise ValueError(f"the executable must be an absolute path: {exec_start[0]!r}")
    # systemd takes the executable's path literally ("$" included: no substitution
    # there), but still expands specifiers in it.
    program = quote_exec_arg(exec_start[0]).replace("$$", "$")
    line = " ".join([program, *(quote_exec_arg(a) for a in exec_start[1:])])
    template = unit_template()
    assert template.count(PLACEHOLDER) == 1
    return template.replace(PLACEHOLDER, line)


def default_exec_start(config_path: str | os.PathLike[str] | None = None) -> list[str]:
    """The command the unit should run, from how this followupd was installed.

    A ``followupd`` script in this interpreter's environment (venv, pipx) is used
    by its resolved path; otherwise ``python -m followupd``. ``--config PATH`` is
    added when *config_path* is not the default config file.
    """
    bindir = (Path(sys.prefix) / "bin").resolve()
    command: list[str] | None = None
    candidates = [shutil.which("followupd"), str(Path(sys.prefix) / "bin" / "followupd")]
    for candidate in candidates:
        if not candidate:
            continue
        resolved = Path(candidate).resolve()
        if resolved.parent == bindir and os.access(resolved, os.X_OK) and resolved.is_file():
            command = [str(resolved)]
            break
    if command is None:
        command = [str(Path(sys.executable).absolute()), "-m", "followupd"]
    if config_path is not None:
        cfg = Path(config_path).expanduser().absolute()
        if cfg != paths.default_config_path().absolute():
            command += ["--config", str(cfg)]
    return [*command, "run"]


def unit_path() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user/followupd.service``."""
    return paths.config_dir().parent / "systemd" / "user" / UNIT_NAME


# --- reading an installed unit back ---------------------------------------------------


def exec_start_of(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("ExecStart="):
            return line[len("ExecStart=") :]
    return None


def executable_of(exec_line: str) -> str:
    """The program of an ``ExecStart=`` value, unquoted (enough for our own units)."""
    line = exec_line.strip().lstrip("@-:+!")
    if line.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(line) and line[i] != '"':
            if line[i] == "\\" and i + 1 < len(line):
                nxt = line[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                i += 2
            else:
                out.append(line[i])
                i += 1
        word = "".join(out)
    else:
        word = line.split(None, 1)[0] if line else ""
    return word.replace("%%", "%")
