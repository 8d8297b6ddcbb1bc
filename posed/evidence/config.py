"""The `snapshots:` config section and the privacy modes. Validators are pure."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from posed.strict import ConfigPath, StrictModel

Privacy = Literal["full", "blur", "skeleton"]
PRIVACY_MODES: tuple[Privacy, ...] = ("full", "blur", "skeleton")
SnapshotKind = Literal["fall", "gesture", "zone", "rep"]
SNAPSHOT_KINDS: tuple[SnapshotKind, ...] = ("fall", "gesture", "zone", "rep")
DEFAULT_KINDS: tuple[SnapshotKind, ...] = ("fall", "gesture")
PRIVACY_DESCRIPTION = (
    "What snapshots, clips and the preview page show of this camera: `full` the picture, `blur` "
    "the picture blurred beyond recognition with the skeleton sharp, `skeleton` only the skeleton "
    "on a plain background (no pixel of the camera image)."
)


class ClipsConfig(StrictModel):
    """Short MP4 clips of falls, cut from a bounded ring of already-encoded frames."""

    enabled: bool = Field(False, description="Keep a clip of every detected fall.")
    before_seconds: float = Field(
        3.0, ge=0.5, le=15, description="Seconds of video before the fall's `detected`. From 0.5 to 15."
    )
    after_seconds: float = Field(
        3.0, ge=0.5, le=15, description="Seconds of video after the fall's `detected`. From 0.5 to 15."
    )
    fps: float = Field(5.0, ge=1, le=15, description="Frames per second kept and written. From 1 to 15.")
    max_buffer_megabytes: float = Field(
        8.0,
        ge=0.5,
        le=256,
        description="Most memory each camera's ring of encoded frames may hold; the oldest frame goes "
        "first. From 0.5 to 256.",
    )


class SnapshotsConfig(StrictModel):
    """Snapshots of events, kept on disk and published to MQTT."""

    enabled: bool = Field(
        False,
        description="Keep a JPEG (skeleton drawn, each camera's privacy applied) of every event of "
        "`kinds`, publish it retained on {camera}/events/{kind}/snapshot, and store it on disk.",
    )
    kinds: list[SnapshotKind] = Field(
        default_factory=lambda: list(DEFAULT_KINDS),
        max_length=4,
        description="Event kinds with a snapshot: fall (on `detected`), gesture, zone (on `enter` "
        "and `loitering`), rep (on each finished `set`).",
    )
    directory: ConfigPath | None = Field(
        None,
        description="Where snapshots and clips are stored; default: $STATE_DIRECTORY/snapshots under "
        "systemd, else $XDG_STATE_HOME/posed/snapshots (~/.local/state/posed/snapshots).",
    )
    max_count: int = Field(500, ge=1, le=100_000, description="Most events kept. From 1 to 100,000.")
    max_megabytes: float = Field(
        500.0, ge=1, le=1_000_000, description="Most disk space used, in MB. From 1 to 1,000,000."
    )
    max_age_days: float = Field(
        30.0, gt=0, le=3650, description="Events older than this are deleted. More than 0, up to 3650."
    )
    min_free_megabytes: float = Field(
        200.0,
        ge=0,
        le=1_000_000,
        description="Disk space left free: the oldest events go first, and a new one is not kept when "
        "that is not enough. From 0 to 1,000,000.",
    )
    quality: int = Field(85, ge=30, le=100, description="JPEG quality. From 30 to 100.")
    max_width: int = Field(
        1280, ge=160, le=7680, description="Wider pictures are scaled down to this. From 160 to 7680."
    )
    clips: ClipsConfig = Field(default_factory=ClipsConfig, description="Clips of falls.")

    @field_validator("kinds")
    @classmethod
    def _unique(cls, kinds: list[SnapshotKind]) -> list[SnapshotKind]:
        if len(set(kinds)) != len(kinds):
            raise ValueError("a kind is listed twice")
        return kinds
