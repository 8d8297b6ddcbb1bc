"""Progress bars for long commands (on stderr, and only when stderr is a terminal), and the
exit code of a batch that skipped some inputs.

tqdm draws them (rate, remaining time, terminal width) rather than a hand-made bar.
Under a pipe, a log file or journald there is no bar at all, so nothing pollutes them.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from tqdm import tqdm

from posed.errors import EXIT_OK, EXIT_SKIPPED


class ProgressBar(AbstractContextManager["ProgressBar"]):
    def __init__(self, total: float | None, *, unit: str, label: str, enabled: bool | None = None) -> None:
        on = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None
        if on:
            # miniters=1: redraw by time alone (every mininterval), however uneven the frames come.
            self._bar = tqdm(
                total=total,
                unit=unit,
                desc=label,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
                miniters=1,
                mininterval=0.2,
            )

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, count: float = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def note(self, text: str) -> None:
        """A short status beside the bar (e.g. what is being measured now)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def write(self, line: str) -> None:
        """A line on stderr that does not tear the bar."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def report_skipped(skipped: int, total: int, what: str) -> int:
    """The exit code after a batch: EXIT_SKIPPED, with a summary, when some inputs were skipped."""
    if not skipped:
        return EXIT_OK
    print(f"posed estimate: {skipped} of {total} {what} skipped (see above)", file=sys.stderr)
    return EXIT_SKIPPED
