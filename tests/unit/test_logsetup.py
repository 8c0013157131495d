"""Log format (journal or plain) and secret redaction."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from followupd.logsetup import RedactingFilter, configure_logging, redact, stream_is_journal


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    logging.captureWarnings(False)


def journal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TextIO:
    stream = open(tmp_path / "journal", "w+", encoding="utf-8")  # noqa: SIM115
    st = os.fstat(stream.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    return stream


def our_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if h.get_name() == "followupd"]


def test_plain_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    logging.getLogger("followupd.engine").info("drafted %d follow-ups", 2)
    logging.getLogger("followupd.engine").debug("hidden")
    line = out.getvalue()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO followupd\.engine: drafted 2 follow-ups\n", line
    ), line


def test_journal_format_has_priorities_and_no_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = journal_file(tmp_path, monkeypatch)
    with stream:
        assert stream_is_journal(stream)
        configure_logging("DEBUG", stream=stream)
        log = logging.getLogger("followupd.daemon")
        log.debug("tick")
        log.info("started")
        log.warning("slow")
        log.error("failed")
        log.critical("dying")
        stream.seek(0)
        lines = stream.read().splitlines()
    assert lines == [
        "<7>followupd.daemon: tick",
        "<6>followupd.daemon: started",
        "<4>followupd.daemon: slow",
        "<3>followupd.daemon: failed",
        "<2>followupd.daemon: dying",
    ]


def test_journal_traceback_lines_keep_the_priority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = journal_file(tmp_path, monkeypatch)
    with stream:
        configure_logging("INFO", stream=stream)
        try:
            raise RuntimeError("boom with access_token=abc123")
        except RuntimeError:
            logging.getLogger("followupd").exception("cycle failed")
        stream.seek(0)
        lines = stream.read().splitlines()
    assert lines[0] == "<3>followupd: cycle failed"
    assert len(lines) > 3
    assert all(line.startswith("<3>") for line in lines)
    assert "<3>RuntimeError: boom with access_token=[redacted]" in lines
    assert "abc123" not in "\n".join(lines)


def test_journal_stream_must_match_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.write_text("")
    st = os.stat(other)
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stream:
        assert not stream_is_journal(stream)
        configure_logging("INFO", stream=stream)
        logging.getLogger("x").info("hello")
        stream.seek(0)
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO x: hello", stream.read())
    for bad in ("", "garbage", "1:", ":2", "a:b"):
        monkeypatch.setenv("JOURNAL_STREAM", bad)
        assert not stream_is_journal(io.StringIO())


def test_default_stream_is_the_current_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    configure_logging()
    logging.getLogger("followupd").warning("careful")
    assert "WARNING followupd: careful" in capsys.readouterr().err


def test_configure_twice_keeps_one_handler() -> None:
    configure_logging("INFO", stream=io.StringIO())
    out = io.StringIO()
    configure_logging("WARNING", stream=out)
    assert len(our_handlers()) == 1
    logging.getLogger("a").info("no")
    logging.getLogger("a").warning("yes")
    assert "no" not in out.getvalue() and "yes" in out.getvalue()


def test_bad_level() -> None:
    with pytest.raises(ValueError):
        configure_logging("LOUD", stream=io.StringIO())


def test_chatty_libraries_stay_quiet_at_debug() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", stream=out)
    logging.getLogger("oauthlib.oauth2.rfc6749").debug("Request body: grant_type=refresh")
    logging.getLogger("followupd").debug("ours")
    assert "grant_type" not in out.getvalue()
    assert "ours" in out.getvalue()


SECRETS = [
    ("Authorization: Bearer ya29.a0AfB_byC-1234567890", "ya29.a0AfB_byC-1234567890"),
    ("token ya29.A0ARrdaM-abc_DEF.ghi here", "ya29.A0ARrdaM-abc_DEF.ghi"),
    ("refresh 1//0gLmNoPqRsTuVwXyZ-abcdEFGH_ijkl done", "1//0gLmNoPqRsTuVwXyZ-abcdEFGH_ijkl"),
    ("POST body access_token=xyz123&expires_in=3599", "xyz123"),
    ("refresh_token=r3fr3sh&client_id=42.apps", "r3fr3sh"),
    ('{"client_secret": "GOCSPX-s3cr3t", "client_id": "42"}', "GOCSPX-s3cr3t"),
    ("{'refresh_token': 'tok-value-1', 'scopes': []}", "tok-value-1"),
    ("client_secret=plainsecret", "plainsecret"),
    ('"id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"', "c2lnbmF0dXJl"),
    ("GET /?state=abc&code=4/0AbCdEf-GhIjK&scope=email HTTP/1.1", "4/0AbCdEf-GhIjK"),
    ("redirect http://127.0.0.1:8765/?code=4/0Xyz#frag", "4/0Xyz"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("bearer lowercase-token-value", "lowercase-token-value"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_redact(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert "[redacted]" in masked


@pytest.mark.parametrize(
    "text",
    [
        "drafted 3 follow-ups for event abc123",
        "exit code=3",
        "http://127.0.0.1:8080//calendar/v3/",
        "basic information",
        "nextSyncToken=CPDAlvWDx70CEPDAlvWDx70CGAU",
        "window 24h..48h, send at 09:00",
    ],
)
def test_redact_leaves_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_filter_redacts_args_exceptions_and_stack() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", stream=out)
    log = logging.getLogger("followupd.tokens")
    log.info("refreshed: %s", {"access_token": "ya29.secretvalue", "expires_in": 3599})
    log.info("header %s", "Bearer abc.def.ghi")
    try:
        raise ValueError("refresh_token=1//0gSECRETSECRET")
    except ValueError:
        log.warning("refresh failed", exc_info=True, stack_info=True)
    text = out.getvalue()
    assert "secretvalue" not in text and "abc.def.ghi" not in text and "SECRET" not in text
    assert text.count("[redacted]") >= 3
    assert "expires_in': 3599" in text


def test_filter_survives_a_bad_format_string() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items %s", ("x",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "%d items %s"


def test_filter_is_on_the_handler_so_child_loggers_are_covered() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    (handler,) = our_handlers()
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    logging.getLogger("googleapiclient.http").info("url ...?access_token=leak")
    assert "leak" not in out.getvalue()
