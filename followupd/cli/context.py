"""What every command gets from the root group: the config path, --debug, and the
config, loaded (and validated) on first use only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pydantic costs ~80 ms: only commands that need the config load it
    from followupd.core.settings import Config


class Ctx:
    def __init__(self, config_path: Path, debug: bool) -> None:
        self.config_path = config_path
        self.debug = debug
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from followupd import config as config_mod

            self._config = config_mod.load(self.config_path)
        return self._config

    def load_config(self) -> Config:
        return self.config


def current() -> Ctx:
    """The running command's Ctx."""
    obj = click.get_current_context().find_object(Ctx)
    assert obj is not None
    return obj
