"""The labels file `posed evaluate` scores against: what should happen in each clip.

JSON (or YAML) with a `clips` mapping from a video file name (relative to the
labels file) to what happens in it. Every field is optional: a clip without
`falls` is not scored for falls, and so on. Times are seconds on the file's own
clock. docs/events-evaluation.md describes the format for users.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from posed.strict import LAX_CONTAINER, StrictModel

# YAML and JSON write these as lists; their items stay strict (posed.strict).
Window = Annotated[tuple[float, float], LAX_CONTAINER]
GestureWindow = Annotated[tuple[float, float, list[str]], LAX_CONTAINER]

MAX_SECONDS = 86400.0
MAX_WINDOWS = 1000


class TimelineEntry(StrictModel):
    """One stretch of what the person does, for reading (and for the end of a fall's motion)."""

    type: str = Field(min_length=1, max_length=64, description="What happens: walking, fall, lying, ...")
    start: float = Field(ge=0, le=MAX_SECONDS, description="Seconds from the start of the file.")
    end: float = Field(ge=0, le=MAX_SECONDS, description="Seconds from the start of the file.")
    note: str = Field("", max_length=1000, description="Free text.")


class ClipLabels(StrictModel):
    """What should (and should not) be detected in one clip."""

    falls: list[Window] = Field(
        default_factory=list,
        max_length=MAX_WINDOWS,
        description="[start of the fall, end of the lying shown] per fall; each must be detected "
        "between its start and its end plus the hold. Empty: any fall is a false one.",
    )
    optional_falls: list[Window] = Field(
        default_factory=list,
        max_length=MAX_WINDOWS,
        description="[start, end] of quick drops the person got up from: a fall detected there is "
        "neither required nor false.",
    )
    exercise: str | None = Field(
        None, max_length=64, description="The exercise counted in this clip (turned on for it)."
    )
    reps: int | None = Field(None, ge=0, le=100000, description="How many reps of `exercise`.")
    gestures: list[GestureWindow] = Field(
        default_factory=list,
        max_length=MAX_WINDOWS,
        description="[start, end, names]: one of the names should fire inside [start, end]; "
        "a gesture outside every window is a false one.",
    )
    no_gesture: bool = Field(False, description="Any gesture in this clip is a false one.")
    labels: list[TimelineEntry] = Field(
        default_factory=list,
        max_length=100000,
        description="The timeline, for reading; a `fall` entry's end is where a fall's motion ends.",
    )
    viewpoint: str = Field("", max_length=1000, description="Where the camera is, for reading.")
    source: dict[str, str | None] = Field(
        default_factory=dict, description="Where the file came from, for reading."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ClipLabels:
        for start, end in [*self.falls, *self.optional_falls, *((a, b) for a, b, _ in self.gestures)]:
            if not 0 <= start <= end <= MAX_SECONDS:
                raise ValueError(f"a window must have 0 <= start <= end, not [{start}, {end}]")
        if (self.exercise is None) != (self.reps is None):
            raise ValueError("give `exercise` and `reps` together")
        if self.gestures and self.no_gesture:
            raise ValueError("a clip has `gestures` or `no_gesture`, not both")
        if any(not names for _, _, names in self.gestures):
            raise ValueError("a gesture window names at least one gesture")
        return self

    def fall_ends(self) -> list[float]:
        """Where each fall's motion ends: the end of the timeline's `fall` entry that starts
        inside the window, else the window's start (the latency is then from its start)."""
        ends = []
        for start, end in self.falls:
            motion = [e.end for e in self.labels if e.type == "fall" and start <= e.start <= end]
            ends.append(min(motion) if motion else start)
        return ends


class LabelsFile(StrictModel):
    """A labels file: clips by file name, and a free-text note on how they were labelled."""

    clips: dict[str, ClipLabels] = Field(
        min_length=1, max_length=10000, description="Clip file name (relative to this file) -> labels."
    )
    about: str = Field("", max_length=10000, description="Free text: how to read these labels.")


def clip_path(labels_path: Path, name: str) -> Path:
    """The clip's file: names are relative to the labels file's folder."""
    return labels_path.parent / name
