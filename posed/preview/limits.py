"""The preview server's limits: how many connections, and how long a request may take to arrive.

Every connection holds a file descriptor, and the daemon's cameras, models and MQTT
need theirs, so a client (or many) must not be able to hold them all:

- time: aiohttp's own `keepalive_timeout` closes a connection that has not sent a
  complete request head within REQUEST_TIMEOUT of connecting or of its last response
  (a half-open `GET / HTTP/1.1` with no blank line included); `lingering_time` bounds
  the reading of a request body nobody asked for (only the zone save takes one); a request
  line or header field over MAX_LINE bytes is refused with 400.
- count: aiohttp has no bound on concurrent connections, so ConnectionGate, the
  listening socket's protocol factory, counts them: beyond MAX_CONNECTIONS a new
  connection gets a one-line 503 and is closed at once, before aiohttp sees it. It
  sits under the application, so every route (present and future) has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64  # open at once: viewers' pages, their streams and stats polls
REQUEST_TIMEOUT = 10.0  # seconds to send a complete request head (and idle keep-alive)
BODY_TIMEOUT = 5.0  # seconds aiohttp spends reading (and discarding) an unwanted request body
MAX_LINE = 8190  # bytes in the request line and in each header field
MAX_HEADERS = 64  # header fields in one request
MAX_BODY = 64 * 1024  # bytes of any request body; the zone save caps its own lower

# What aiohttp's RequestHandler takes (AppRunner passes them on).
HANDLER_LIMITS: dict[str, Any] = {
    "keepalive_timeout": REQUEST_TIMEOUT,
    "lingering_time": BODY_TIMEOUT,
    "max_line_size": MAX_LINE,
    "max_field_size": MAX_LINE,
    "max_headers": MAX_HEADERS,
}

_REFUSAL_TEXT = b"503: the preview page has too many connections open; try again in a moment\n"
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(_REFUSAL_TEXT)).encode() + b"\r\n"
    b"Retry-After: 10\r\n"
    b"Connection: close\r\n\r\n" + _REFUSAL_TEXT
)


class _Refused(asyncio.Protocol):
    """A connection over the limit: the 503, then closed; its descriptor is freed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(REFUSAL)
        transport.close()


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted until the connection is lost.

    Delegates the asyncio protocol calls; aiohttp's handler sees the real transport.
    """

    def __init__(self, inner: asyncio.Protocol, gate: ConnectionGate) -> None:
        self._inner = inner
        self._gate: ConnectionGate | None = gate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()
        self._inner.connection_lost(exc)


class ConnectionGate:
    """The protocol factory for `loop.create_server`: aiohttp's, within MAX_CONNECTIONS.

    Counted from the factory call (asyncio accepts a burst of connections before any of
    them is told connection_made) to connection_lost. Runs on the server's event loop only.
    """

    def __init__(self, make: Callable[[], asyncio.Protocol], limit: int = MAX_CONNECTIONS) -> None:
        self._make = make
        self.limit = limit
        self.open = 0
        self.refused = 0

    def __call__(self) -> asyncio.Protocol:
        if self.open >= self.limit:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning(
                    "preview: %d connection(s) refused so far: %d are open, the most the page serves",
                    self.refused,
                    self.open,
                )
            return _Refused()
        self.open += 1
        return _Counted(self._make(), self)

    def release(self) -> None:
        self.open -= 1
