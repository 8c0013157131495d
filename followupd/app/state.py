"""Where the state lives: the SQLite store under $XDG_STATE_HOME/followupd/."""

from __future__ import annotations

from pathlib import Path

from followupd import paths
from followupd.adapters.store import Store


def state_db() -> Path:
    return paths.state_dir() / "state.db"


def open_store() -> Store:
    return Store(state_db())
