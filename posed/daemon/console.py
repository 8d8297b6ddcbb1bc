"""The status line a user running `posed run` in a terminal sees every stats_interval.

Under journald (or with stderr in a file or a pipe) there is none: systemd's
STATUS= and the `stats` topic carry the same numbers there, and a line every
few seconds would only bury the journal's real events.
"""

from __future__ import annotations

from typing import Protocol

from posed.daemon.logs import DaemonLogging


class BrokerState(Protocol):
    @property
    def connected(self) -> bool: ...


def console_wanted(logs: DaemonLogging) -> bool:
    """True when posed's log goes to a terminal a person is looking at."""
    if logs.journal:
        return False
    try:
        return logs.stream.isatty()
    except (OSError, ValueError):  # a closed or detached stream
        return False


def mqtt_summary(publisher: BrokerState | None, host: str, port: int) -> str:
    if publisher is None:
        return f"mqtt {host}:{port} not started"
    return f"mqtt {host}:{port} {'connected' if publisher.connected else 'DISCONNECTED (retrying)'}"
