"""Log format under journald and elsewhere, and redaction of secrets."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator

import pytest

from posed.daemon.logs import DaemonLogging, Redactor, journald_stream, priority_of

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.fixture
def pipe() -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper, str]]:
    """A real pipe and the JOURNAL_STREAM value that names its write end."""
    read_fd, write_fd = os.pipe()
    st = os.fstat(write_fd)
    reader = os.fdopen(read_fd, "r")
    writer = os.fdopen(write_fd, "w")
    yield reader, writer, f"{st.st_dev}:{st.st_ino}"
    writer.close()
    reader.close()


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_syslog_priorities() -> None:
    assert [priority_of(level) for level in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]


def test_journal_stream_is_detected_by_device_and_inode(
    pipe: tuple[io.TextIOWrapper, io.TextIOWrapper, str],
) -> None:
    _, writer, value = pipe
    assert journald_stream(writer, {"JOURNAL_STREAM": value})
    assert not journald_stream(writer, {"JOURNAL_STREAM": "1:2"})  # inherited, points elsewhere
    assert not journald_stream(writer, {})
    assert not journald_stream(io.StringIO(), {"JOURNAL_STREAM": value})


@pytest.mark.usefixtures("restore_root_logging")
def test_journald_lines_carry_a_priority_and_no_timestamp(
    pipe: tuple[io.TextIOWrapper, io.TextIOWrapper, str],
) -> None:
    reader, writer, value = pipe
    logs = DaemonLogging("debug", stream=writer, env={"JOURNAL_STREAM": value})
    assert logs.journal
    log = logging.getLogger("posed.test")
    log.debug("d")
    log.info("i")
    log.warning("w")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("e")
    logs.close()
    writer.close()
    lines = reader.read().splitlines()
    assert lines[:3] == ["<7>posed.test: d", "<6>posed.test: i", "<4>posed.test: w"]
    assert lines[3] == "<3>posed.test: e"
    # Every traceback line keeps the error priority, since journald splits at newlines.
    assert len(lines) > 5 and all(line.startswith("<3>") for line in lines[3:])
    assert "ValueError: boom" in lines[-1]


@pytest.mark.usefixtures("restore_root_logging")
def test_elsewhere_lines_are_human_readable_with_timestamps() -> None:
    stream = io.StringIO()
    logs = DaemonLogging("info", stream=stream, env={})
    assert not logs.journal
    logging.getLogger("posed.test").debug("hidden")
    logging.getLogger("posed.test").warning("visible %d", 42)
    logs.set_level("debug")
    logging.getLogger("posed.test").debug("now shown")
    logs.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert TIMESTAMP.match(lines[0]) and lines[0].endswith("WARNING posed.test: visible 42")
    assert lines[1].endswith("DEBUG   posed.test: now shown")


@pytest.mark.usefixtures("restore_root_logging")
def test_secrets_never_reach_the_log() -> None:
    stream = io.StringIO()
    logs = DaemonLogging("info", stream=stream, env={})
    logs.redactor.add("hunter2-secret\n")
    log = logging.getLogger("posed.test")
    log.info("connecting with %s", "hunter2-secret")
    log.error("camera error", exc_info=RuntimeError("auth failed for hunter2-secret"))
    log.info("opening rtsp://admin:cam-pass@192.0.2.1:554/stream1")
    log.info("settings: {'username': 'u', 'password': 'p4ss'} MQTT_PASSWORD=abc123")
    logs.close()
    text = stream.getvalue()
    for secret in ("hunter2-secret", "cam-pass", "p4ss", "abc123"):
        assert secret not in text
    assert "rtsp://admin:***@192.0.2.1:554/stream1" in text
    assert "connecting with ***" in text


def test_redactor_ignores_trivial_values_and_keeps_other_text() -> None:
    redactor = Redactor()
    redactor.add("ab")  # too short to redact without mangling every line
    redactor.add("secret-token-value")
    redactor.add("secret-token")
    assert redactor("ab cd") == "ab cd"
    assert redactor("x secret-token-value y") == "x *** y"
    assert redactor("password_file: /run/credentials/posed.service/mqtt_password") == (
        "password_file: /run/credentials/posed.service/mqtt_password"
    )
