"""Pose sequences for the event tests: real keypoints from the shared files, and constructed bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posed.events.config import EventsConfig, ZoneConfig
from posed.events.engine import EventEngine
from posed.events.event import Event
from posed.keypoints import BLAZEPOSE_33
from posed.types import Pose, box_of

Frames = list[tuple[float, list[Pose]]]


def pose_from_dict(item: Mapping[str, Any]) -> Pose:
    """A Pose from the JSON form of `posed estimate`."""
    points = item["keypoints"]
    keypoints = np.array([[p["x"], p["y"], p["score"]] for p in points], dtype=np.float32)
    names = tuple(str(p["name"]) for p in points)
    return Pose(float(item["score"]), keypoints, names, tuple(item["box"]), id=item.get("id"))


def read_estimate_lines(lines: Sequence[str]) -> Frames:
    frames: Frames = []
    for line in lines:
        record = json.loads(line)
        frames.append((float(record["timestamp"]), [pose_from_dict(p) for p in record["poses"]]))
    return frames


def mediapipe_squats(path: Path) -> tuple[Frames, int, int]:
    """MediaPipe's own landmarks for pose_squats.mp4 (5 fps), stamped with the file's media time."""
    document = json.loads(path.read_text())
    width, height = document["size_wh"]
    frames: Frames = []
    for number, frame in enumerate(document["frames"]):
        poses: list[Pose] = []
        if frame.get("landmarks_px"):
            xy = np.asarray(frame["landmarks_px"], dtype=np.float32)[:, :2]
            score = np.asarray(frame["visibility"], dtype=np.float32)[:, None]
            keypoints = np.hstack([xy, score])
            poses.append(Pose(1.0, keypoints, BLAZEPOSE_33, box_of(keypoints, width, height)))
        frames.append((number / 5.0, poses))  # the file is 5 fps: its media time
    return frames, width, height


def run(
    frames: Frames,
    width: int,
    height: int,
    config: Mapping[str, Any] | None = None,
    zones: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Event], EventEngine]:
    engine = EventEngine(
        EventsConfig.model_validate(config or {}),
        {name: ZoneConfig.model_validate(z) for name, z in (zones or {}).items()},
    )
    events: list[Event] = []
    for stamp, poses in frames:
        events += engine.update(stamp, poses, width, height)
    return events, engine


def of_type(events: Sequence[Event], kind: str) -> list[Event]:
    return [e for e in events if e.type == kind]


def timeline(start: float, fps: float, count: int) -> Iterator[float]:
    return (start + i / fps for i in range(count))


# Constructed bodies: a stick figure in torso lengths, with limbs given as directions in
# degrees measured from straight down (0 down, 90 toward +x, 180 up, -90 toward -x).
LIMBS = {"upper_arm": 0.55, "forearm": 0.5, "thigh": 0.9, "shin": 0.9}
SHOULDER_HALF, HIP_HALF, NECK_TO_NOSE = 0.33, 0.2, 0.35


def direction(theta: float) -> np.ndarray:
    rad = np.radians(theta)
    return np.array([np.sin(rad), np.cos(rad)])


def figure(
    *,
    hips: tuple[float, float] = (320.0, 300.0),
    scale: float = 100.0,
    torso: float = 180.0,
    arms: tuple[tuple[float, float], tuple[float, float]] = ((10.0, 10.0), (-10.0, -10.0)),
    legs: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0)),
    width_factor: float = 1.0,
    score: float = 0.9,
    person: int | None = None,
    rotate: float = 0.0,
    pivot: tuple[float, float] | None = None,
) -> Pose:
    """A BlazePose-33 pose. arms/legs: (upper, lower) directions for (left, right);
    width_factor 0 turns the figure side-on; rotate turns the whole body about `pivot`."""
    centre = np.array(hips, dtype=np.float64)
    up = direction(torso)
    across = np.array([up[1], -up[0]]) * -1.0  # perpendicular; left side at +across
    shoulder_mid = centre + up * scale
    joints: dict[str, np.ndarray] = {"nose": shoulder_mid + up * NECK_TO_NOSE * scale}
    for sign, side, (upper, lower), (thigh, shin) in (
        (1.0, "left", arms[0], legs[0]),
        (-1.0, "right", arms[1], legs[1]),
    ):
        shoulder = shoulder_mid + sign * across * SHOULDER_HALF * scale * width_factor
        hip = centre + sign * across * HIP_HALF * scale * width_factor
        elbow = shoulder + direction(upper) * LIMBS["upper_arm"] * scale
        knee = hip + direction(thigh) * LIMBS["thigh"] * scale
        joints |= {
            f"{side}_shoulder": shoulder,
            f"{side}_elbow": elbow,
            f"{side}_wrist": elbow + direction(lower) * LIMBS["forearm"] * scale,
            f"{side}_hip": hip,
            f"{side}_knee": knee,
            f"{side}_ankle": knee + direction(shin) * LIMBS["shin"] * scale,
        }
    if rotate:
        origin = np.array(pivot if pivot is not None else hips, dtype=np.float64)
        turn = np.radians(rotate)
        matrix = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        joints = {k: origin + matrix @ (v - origin) for k, v in joints.items()}
    rows = []
    for name in BLAZEPOSE_33:
        rows.append([*joints[_nearest_joint(name)], score])
    keypoints = np.array(rows, dtype=np.float32)
    return Pose(score, keypoints, BLAZEPOSE_33, box_of(keypoints, 10_000, 10_000), id=person)


def _nearest_joint(name: str) -> str:
    """Face points sit on the nose, hand points on the wrist, foot points on the ankle."""
    if name.endswith(("_shoulder", "_elbow", "_wrist", "_hip", "_knee", "_ankle")) or name == "nose":
        return name
    side = "left" if name.startswith("left") or "left" in name else "right"
    if any(part in name for part in ("pinky", "index", "thumb")) and "foot" not in name:
        return f"{side}_wrist"
    if any(part in name for part in ("heel", "foot")):
        return f"{side}_ankle"
    return "nose"


def standing_on(
    ankles_y: float, x: float, scale: float, legs: tuple[tuple[float, float], tuple[float, float]]
) -> tuple[float, float]:
    """Hips placed so that the left ankle is at `ankles_y` (the floor) for these legs."""
    thigh, shin = legs[0]
    drop = (direction(thigh)[1] * LIMBS["thigh"] + direction(shin)[1] * LIMBS["shin"]) * scale
    return (x, ankles_y - drop)


def write_fall_clip(source: Path, path: Path, *, fps: float = 10.0) -> list[tuple[str, float]]:
    """A clip of a real person who falls over, lies still, and gets up, made from one real frame.

    The standing person of pose_squats.mp4's first frame is cut out, scaled into a 720x480
    room-camera frame with the feet near the floor, and the whole frame is rotated about
    the ankles with OpenCV: upright for 2 s, over by 90 degrees in 0.5 s, lying for 6 s,
    back up in 1 s, upright for 4 s. Returns the phases with their start times.
    """
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    capture = cv2.VideoCapture(str(source))
    ok, first = capture.read()
    capture.release()
    assert ok, f"cannot read {source}"
    crop = first[150:1060, 100:600]  # the person, ankles at about (203, 805) of the crop
    scale = 0.45
    person = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 720, 3), 128, dtype=np.uint8)
    ankles = (480.0, 455.0)
    left, top = round(ankles[0] - 203 * scale), round(ankles[1] - 805 * scale)
    visible = person[: 480 - top]
    canvas[top : top + visible.shape[0], left : left + visible.shape[1]] = visible
    phases = [("upright", 0.0, 0.0, 2.0), ("falling", 0.0, 90.0, 0.5), ("lying", 90.0, 90.0, 6.0),
              ("rising", 90.0, 0.0, 1.0), ("upright", 0.0, 0.0, 4.0)]  # fmt: skip
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (720, 480))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    starts: list[tuple[str, float]] = []
    written = 0
    try:
        for name, start, end, seconds in phases:
            starts.append((name, written / fps))
            steps = round(seconds * fps)
            for i in range(1, steps + 1):
                angle = start + (end - start) * i / steps
                turn = cv2.getRotationMatrix2D(ankles, angle, 1.0)
                frame = cv2.warpAffine(canvas, turn, (720, 480), borderValue=(128, 128, 128))
                writer.write(frame)
                written += 1
    finally:
        writer.release()
    return starts
