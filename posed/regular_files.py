"""The files a config names are read only when they are regular files, and only up to a bound.

A config can name any path. Opening a FIFO blocks until some other process opens
it for writing, possibly for ever, and a blocked open() cannot be interrupted by
SIGTERM's handler; /dev/zero and /dev/urandom never end, so reading one "whole"
grows posed until the kernel kills it. Every file posed reads because the config
names it (the config itself, the MQTT password and TLS files, a token file, model
files, a video file) is therefore checked here first: opened with O_NONBLOCK, so
that opening a FIFO returns at once, then fstat'ed, and read only if it is a
regular file no larger than the bound of its key.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
MAX_SECRET_BYTES = 64 * KIB  # a password or bearer token; real ones are < 1 KiB
MAX_PEM_BYTES = 1 * MIB  # a CA bundle (Debian's whole ca-certificates.crt is ~220 KiB), a cert, a key
MAX_CONFIG_BYTES = 1 * MIB  # a YAML config; zones and 64 cameras stay far below
MAX_MODEL_BYTES = 512 * MIB  # the largest packaged model is ~30 MB; the unit's MemoryMax is 1 GiB


class RefusedFile(OSError):
    """The path is no regular file, or a larger one than posed reads for this key.

    An OSError so that callers which already report "cannot read PATH: REASON" report
    this one the same way, with `strerror` as the reason.
    """

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(errno.EFBIG if too_large else errno.EINVAL, reason)
        self.too_large = too_large


def size_text(limit: int) -> str:
    if limit % MIB == 0:
        return f"{limit // MIB} MiB"
    return f"{limit // KIB} KiB" if limit % KIB == 0 else f"{limit:,} bytes"


def kind_of(mode: int) -> str:
    """What a file that is no regular file is, in words."""
    kinds = (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _refusal(mode: int, size: int, limit: int | None) -> str | None:
    if not stat.S_ISREG(mode):
        return f"it is {kind_of(mode)}; posed reads only regular files here"
    if limit is not None and size > limit:
        return f"it holds {size:,} bytes; posed reads at most {size_text(limit)} here"
    return None


def file_problem(path: Path, limit: int | None) -> str | None:
    """Why `path` must not be read (not there, no regular file, larger than `limit`), or None.

    For a path handed to a library that opens it itself (OpenSSL, FFmpeg, LiteRT): stat()
    never blocks, whatever the path is.
    """
    try:
        st = path.stat()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    except ValueError as exc:  # e.g. an embedded NUL byte
        return str(exc)
    return _refusal(st.st_mode, st.st_size, limit)


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; OSError (RefusedFile for a
    FIFO, a device, a directory or a larger file) otherwise. Never blocks on a FIFO."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if (reason := _refusal(st.st_mode, st.st_size, limit)) is not None:
            raise RefusedFile(reason, too_large=stat.S_ISREG(st.st_mode))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        left = limit + 1  # one byte more: a file that grew since fstat is still caught
        while left > 0 and (chunk := os.read(fd, min(left, MIB))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise RefusedFile(
            f"it holds more than {size_text(limit)}; posed reads at most that here", too_large=True
        )
    return data
