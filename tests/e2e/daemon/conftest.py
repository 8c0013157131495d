"""End-to-end harness: the sandbox in this process, the real `followupd` in others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon_home import Home

from followupd.sandbox import Sandbox


@pytest.fixture
def home(tmp_path: Path, sandbox: Sandbox) -> Iterator[Home]:
    h = Home(tmp_path, sandbox)
    h.write_config()
    try:
        yield h
    finally:
        h.cleanup()
