"""Where templates come from: the built-ins shipped in followupd/templates/ and
the user's template directory (drafts.template_dir, default
<config dir>/templates). A user file `NAME.j2` replaces the built-in NAME or
adds a new template. This module is the only part of composition that reads the
disk; the file format is described in followupd.core.templates.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from followupd.core.templates import BUILTIN_NAMES, NAME_PATTERN, TemplateSource
from followupd.errors import TemplateError
from followupd.paths import atomic_write

__all__ = ["SUFFIX", "TemplateStore", "resolve_template_dir"]

SUFFIX = ".j2"
_MAX_BYTES = 256 * 1024  # a template is a short note; refuse anything absurd


def resolve_template_dir(setting: str, config_dir: Path) -> Path:
    """drafts.template_dir: "" means <config dir>/templates; "~" is expanded; a
    relative path is taken relative to the config file's directory."""
    if not setting.strip():
        return config_dir / "templates"
    path = Path(os.path.expandvars(setting.strip())).expanduser()
    return path if path.is_absolute() else config_dir / path


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise TemplateError(
            f"{name!r} is not a template name: use letters, digits, '_' and '-' "
            "(the file is NAME.j2)"
        )


class TemplateStore:
    """Built-in templates, overridden or extended by files in `user_dir`."""

    def __init__(self, user_dir: Path | None) -> None:
        self.user_dir = user_dir

    def _user_names(self) -> set[str]:
        if self.user_dir is None or not self.user_dir.is_dir():
            return set()
        names = set()
        try:
            for entry in self.user_dir.iterdir():
                stem = entry.name[: -len(SUFFIX)]
                if entry.name.endswith(SUFFIX) and NAME_PATTERN.match(stem) and entry.is_file():
                    names.add(stem)
        except OSError as exc:
            raise TemplateError(
                f"{self.user_dir}: cannot list the template directory: {exc.strerror}"
            ) from None
        return names

    def names(self) -> list[str]:
        """Every template name, built-in or the user's, sorted."""
        return sorted(set(BUILTIN_NAMES) | self._user_names())

    def is_builtin(self, name: str) -> bool:
        """Whether followupd ships a template of this name (overridden or not)."""
        return name in BUILTIN_NAMES

    def user_path(self, name: str) -> Path:
        """Where the user's copy of NAME lives (it may not exist yet)."""
        _check_name(name)
        if self.user_dir is None:
            raise TemplateError("no template directory: set drafts.template_dir in the config")
        return self.user_dir / f"{name}{SUFFIX}"

    def builtin_text(self, name: str) -> str:
        if name not in BUILTIN_NAMES:
            raise TemplateError(f"{name!r} is not a built-in template")
        return (
            resources.files("followupd.templates")
            .joinpath(f"{name}{SUFFIX}")
            .read_text(encoding="utf-8")
        )

    def copy_for_edit(self, name: str) -> Path:
        """The user's file for NAME, created first if missing (from the built-in of
        that name, or from thank_you for a new name), for `templates edit`."""
        path = self.user_path(name)
        if not path.exists():
            text = self.builtin_text(name if name in BUILTIN_NAMES else "thank_you")
            atomic_write(path, text.encode("utf-8"), mode=0o644)
        return path

    def source(self, name: str) -> TemplateSource:
        """The template NAME: the user's file if there is one, else the built-in."""
        _check_name(name)
        if self.user_dir is not None:
            path = self.user_dir / f"{name}{SUFFIX}"
            if path.is_file():
                return TemplateSource(name=name, text=self._read(path), path_label=str(path))
        if name in BUILTIN_NAMES:
            return TemplateSource(name=name, text=self.builtin_text(name), path_label="built-in")
        raise TemplateError(f"no template named {name!r} (available: {', '.join(self.names())})")

    @staticmethod
    def _read(path: Path) -> str:
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_BYTES + 1)
        except OSError as exc:
            raise TemplateError(f"{path}: cannot read the template: {exc.strerror}") from None
        if len(data) > _MAX_BYTES:
            raise TemplateError(f"{path}: over {_MAX_BYTES // 1024} KiB; is it a template?")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TemplateError(
                f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
