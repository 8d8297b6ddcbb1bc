"""Per-camera publishing decisions: rate limit, empty frames, count and presence.

Pure and clock-free: every call takes `now` (time.monotonic() seconds), so the
rules are tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

# A frame that arrives this fraction of an interval early still counts as on
# time, so a 30 fps camera limited to 10 Hz publishes every third frame rather
# than every fourth because of timestamp jitter.
_RATE_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class Decision:
    publish: bool  # send this frame's poses message
    count: int | None  # the new person count, when it changed
    presence: bool | None  # the new presence, when it changed


class CameraGate:
    """Decides, frame by frame, what one camera publishes."""

    def __init__(self, *, max_rate_hz: float | None, only_when_people: bool, presence_hold: float) -> None:
        self._interval = 1.0 / max_rate_hz if max_rate_hz else 0.0
        self._only_when_people = only_when_people
        self._hold = presence_hold
        self._count: int | None = None
        self._present: bool | None = None
        self._last_seen = -float("inf")  # when people were last in a frame
        self._last_published_at: float | None = None
        self._last_published_count: int | None = None

    @property
    def count(self) -> int | None:
        return self._count

    @property
    def present(self) -> bool | None:
        return self._present

    def on_frame(self, people: int, now: float) -> Decision:
        new_count = people if people != self._count else None
        self._count = people
        if people > 0:
            self._last_seen = now
        present = people > 0 or (bool(self._present) and now - self._last_seen < self._hold)
        new_presence = present if present != self._present else None
        self._present = present
        publish = self._should_publish(people, now)
        if publish:
            self._last_published_at = now
            self._last_published_count = people
        return Decision(publish, new_count, new_presence)

    def _should_publish(self, people: int, now: float) -> bool:
        if people == 0:
            if self._last_published_count not in (None, 0):
                # The change to zero always goes out, whatever the rate limit says:
                # without it a consumer would keep showing the last people seen.
                return True
            if self._only_when_people:
                return False
        if self._last_published_at is None or self._interval == 0.0:
            return True
        return now - self._last_published_at >= self._interval * (1.0 - _RATE_TOLERANCE)

    def on_tick(self, now: float) -> bool | None:
        """Presence turning OFF because the hold ran out with no frame to tell.

        Only when the last frame was empty: if frames stop while people are in
        view, the last known state stands and the camera's status topic tells
        why nothing changes.
        """
        if self._present and self._count == 0 and now - self._last_seen >= self._hold:
            self._present = False
            return False
        return None
