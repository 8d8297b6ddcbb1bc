"""Messages that C++ libraries print straight to stderr, brought into `logging`.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on file
descriptor 2 with no level journald understands, and has no Python switch to
turn it off. So while an interpreter is created, fd 2 points at a temporary
file; afterwards every line in LiteRT's "LEVEL: text" form is logged at its own
level (INFO as debug) and any other line, whoever wrote it meanwhile, is written
back to the real stderr unchanged. Errors stay visible; nothing is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

_LEVELS = {
    "VERBOSE": logging.DEBUG,
    "INFO": logging.DEBUG,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}
_NATIVE_LINE = re.compile(r"^(VERBOSE|INFO|WARNING|ERROR): (.*)$")
_lock = threading.Lock()  # fd 2 is one per process: one capture at a time


@contextlib.contextmanager
def native_messages(logger: logging.Logger) -> Iterator[None]:
    """Route what native code prints on stderr inside the block to `logger`."""
    with _lock, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to route
            yield
            return
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            _replay(capture.read().decode("utf-8", errors="replace"), logger)


def _replay(text: str, logger: logging.Logger) -> None:
    for line in text.splitlines():
        match = _NATIVE_LINE.match(line)
        if match is not None:
            logger.log(_LEVELS[match.group(1)], "%s", match.group(2))
        elif line:
            os.write(2, (line + "\n").encode())
