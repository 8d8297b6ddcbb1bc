"""Scoring one clip's events against its labels, and summing clips up. Pure: no I/O.

Falls: a labelled fall is found when `fall detected` comes between its start and
its end plus the hold (the clip's last frame is held that long, as a fallen person
who stays down would look); any other `detected` is a false fall, except inside
an optional window. Reps: the `rep` events of the labelled exercise against the
expected count. Gestures: a window is found when one of its names fires inside
it; a gesture in a `no_gesture` clip, or outside every window of a clip with
windows, is a false one.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from posed.evaluation.labels import ClipLabels
from posed.events.event import Event


@dataclass(frozen=True, slots=True)
class ClipScore:
    name: str
    falls_labelled: int
    falls_found: int
    false_falls: list[float]  # timestamps of `detected` outside every window
    latencies: list[float | None]  # per labelled fall: seconds from the end of its motion to `detected`
    repeated_falls: int  # further `detected` inside a window already found (one fall alerted twice)
    exercise: str | None
    reps_expected: int | None
    reps_counted: int | None
    gesture_windows: int
    gestures_found: int
    false_gestures: list[tuple[float, str]]  # outside every gesture window (or any, with no_gesture)
    other_gestures: list[tuple[float, str]]  # inside a window, but none of the names it lists
    gestures_scored: bool
    frames: int = 0
    seconds: float = 0.0
    cached: bool = False  # poses read from the pose cache
    detected: list[float] = field(default_factory=list)

    @property
    def rep_error(self) -> int | None:
        if self.reps_expected is None or self.reps_counted is None:
            return None
        return abs(self.reps_counted - self.reps_expected)


def _inside(stamp: float, start: float, end: float) -> bool:
    return start <= stamp <= end


def score_clip(
    name: str,
    labels: ClipLabels,
    events: Sequence[Event],
    *,
    hold: float,
    frames: int = 0,
    seconds: float = 0.0,
    cached: bool = False,
) -> ClipScore:
    detected = [e.timestamp for e in events if e.type == "fall" and e.fields.get("state") == "detected"]
    windows = [(start, end + hold) for start, end in labels.falls]
    firsts: list[float | None] = []
    for start, end in windows:
        hits = [t for t in detected if _inside(t, start, end)]
        firsts.append(min(hits) if hits else None)
    latencies = [
        None if t is None else t - motion_end
        for t, motion_end in zip(firsts, labels.fall_ends(), strict=True)
    ]
    in_window = [t for t in detected if any(_inside(t, a, b) for a, b in windows)]
    optional = [t for t in detected if any(_inside(t, a, b) for a, b in labels.optional_falls)]
    false_falls = [t for t in detected if t not in in_window and t not in optional]
    found = sum(t is not None for t in firsts)

    reps_counted = None
    if labels.exercise is not None:
        reps_counted = sum(
            1 for e in events if e.type == "rep" and e.fields.get("exercise") == labels.exercise
        )

    gestures = [(e.timestamp, str(e.fields.get("gesture"))) for e in events if e.type == "gesture"]
    matched: set[int] = set()
    inside: set[int] = set()
    windows_found = 0
    for start, end, names in labels.gestures:
        fired = [i for i, (t, g) in enumerate(gestures) if g in names and _inside(t, start, end)]
        matched.update(fired)
        inside.update(i for i, (t, _) in enumerate(gestures) if _inside(t, start, end))
        windows_found += bool(fired)
    scored = labels.no_gesture or bool(labels.gestures)
    # As for falls, a false gesture is one where none was labelled; one with another name
    # inside a window (a `wave` while the person waves a raised hand) is reported apart.
    false_gestures = [g for i, g in enumerate(gestures) if i not in inside] if scored else []
    other_gestures = [g for i, g in enumerate(gestures) if i in inside and i not in matched]
    return ClipScore(
        name=name,
        falls_labelled=len(labels.falls),
        falls_found=found,
        false_falls=false_falls,
        latencies=latencies,
        repeated_falls=len(in_window) - found,
        exercise=labels.exercise,
        reps_expected=labels.reps,
        reps_counted=reps_counted,
        gesture_windows=len(labels.gestures),
        gestures_found=windows_found,
        false_gestures=false_gestures,
        other_gestures=other_gestures,
        gestures_scored=scored,
        frames=frames,
        seconds=seconds,
        cached=cached,
        detected=detected,
    )


@dataclass(frozen=True, slots=True)
class Summary:
    clips: int
    falls_labelled: int
    falls_found: int
    false_falls: int
    latencies: list[float]
    reps_clips: int
    reps_exact: int
    rep_errors: list[int]
    gesture_windows: int
    gestures_found: int
    false_gestures: int


def summarize(scores: Iterable[ClipScore]) -> Summary:
    scores = list(scores)
    errors = [s.rep_error for s in scores if s.rep_error is not None]
    return Summary(
        clips=len(scores),
        falls_labelled=sum(s.falls_labelled for s in scores),
        falls_found=sum(s.falls_found for s in scores),
        false_falls=sum(len(s.false_falls) for s in scores),
        latencies=[t for s in scores for t in s.latencies if t is not None],
        reps_clips=len(errors),
        reps_exact=sum(e == 0 for e in errors),
        rep_errors=errors,
        gesture_windows=sum(s.gesture_windows for s in scores),
        gestures_found=sum(s.gestures_found for s in scores),
        false_gestures=sum(len(s.false_gestures) for s in scores),
    )


def clip_line(score: ClipScore) -> str:
    """One line per clip, e.g. `fall_a.mp4  falls 1/1 (+3.2 s)  false falls 0  gestures -  reps -`."""
    parts = [f"{score.name:<32}"]
    if score.falls_labelled:
        delays = ", ".join("missed" if t is None else f"{t:+.1f} s" for t in score.latencies)
        parts.append(f"falls {score.falls_found}/{score.falls_labelled} ({delays})")
    else:
        parts.append("falls -")
    parts.append(f"false falls {len(score.false_falls)}" + _times(score.false_falls))
    if score.exercise is not None:
        parts.append(f"{score.exercise} reps {score.reps_counted}/{score.reps_expected}")
    if score.gestures_scored:
        found = f"gestures {score.gestures_found}/{score.gesture_windows}, " if score.gesture_windows else ""
        parts.append(f"{found}false gestures {len(score.false_gestures)}" + _named(score.false_gestures))
        if score.other_gestures:
            parts.append(
                f"other gestures in windows {len(score.other_gestures)}" + _named(score.other_gestures)
            )
    if score.cached:
        parts.append("(cached poses)")
    return "  ".join(parts)


def summary_line(summary: Summary) -> str:
    parts = [f"{summary.clips} clips:", f"falls {summary.falls_found}/{summary.falls_labelled}"]
    if summary.latencies:
        parts.append(
            f"(after the fall's end: median {statistics.median(summary.latencies):+.1f} s, "
            f"max {max(summary.latencies):+.1f} s)"
        )
    parts.append(f"false falls {summary.false_falls}")
    if summary.reps_clips:
        parts.append(
            f"reps exact {summary.reps_exact}/{summary.reps_clips} "
            f"(abs error {', '.join(str(e) for e in summary.rep_errors)})"
        )
    parts.append(f"gestures {summary.gestures_found}/{summary.gesture_windows}")
    parts.append(f"false gestures {summary.false_gestures}")
    return " ".join(parts)


def _named(gestures: Sequence[tuple[float, str]]) -> str:
    return f" ({', '.join(f'{name} at {t:.1f} s' for t, name in gestures)})" if gestures else ""


def _times(stamps: Sequence[float]) -> str:
    return f" (at {', '.join(f'{t:.1f}' for t in stamps)} s)" if stamps else ""
