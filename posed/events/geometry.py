"""The body geometry every analyzer shares: keypoints by name, angles, heights, zones.

A `Body` wraps one pose once per frame. Every measure returns None when a keypoint
it needs is not visible (score below the threshold), so an analyzer can tell
"not seen" from "seen and false" and hold its state instead of guessing.
Angles are taken in pixels, not normalized coordinates, so a non-square image
does not skew them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from posed.types import Pose

Point = tuple[float, float]
Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")
# Without the hips (an upper-body view) the body's scale comes from the shoulders;
# an adult's torso is about 1.5 shoulder widths long.
TORSO_PER_SHOULDER_WIDTH = 1.5
ANONYMOUS = 0  # the person id given to a pose without one (no tracker)
CENTRAL = frozenset({"nose", "mouth", "head"})  # names that have no left and right


def sided(name: str, side: Side | None) -> str:
    """`knee` on the left is `left_knee`; names already sided or central stay as they are."""
    if side is None or name.startswith(("left_", "right_")) or name in CENTRAL:
        return name
    return f"{side}_{name}"


class Body:
    """One pose seen by the analyzers: visible keypoints by name, in pixels and normalized."""

    def __init__(self, pose: Pose, width: int, height: int, min_score: float) -> None:
        self.pose = pose
        self.person = ANONYMOUS if pose.id is None else pose.id
        self.width = width
        self.height = height
        # One pass over the array into a dict: the analyzers look points up by name many times.
        keypoints = pose.keypoints
        visible = (keypoints[:, 2] >= min_score).tolist()
        self._points: dict[str, Point] = {
            name: (x, y)
            for name, (x, y), seen in zip(pose.names, keypoints[:, :2].tolist(), visible, strict=True)
            if seen
        }
        self._torso: float | None = None
        self._torso_known = False

    def point(self, name: str) -> Point | None:
        """Pixel position of a visible keypoint; `head` is the nose; None if not seen."""
        return self._points.get("nose" if name == "head" else name)

    def midpoint(self, name: str) -> Point | None:
        """Midpoint of the left and right keypoints of `name` (e.g. `hip`), or the one seen."""
        points = [p for p in (self.point(f"{side}_{name}") for side in SIDES) if p is not None]
        if not points:
            return None
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))

    def both_midpoint(self, name: str) -> Point | None:
        """Midpoint of the left and right keypoints of `name`, only when both are seen."""
        left, right = self.point(f"left_{name}"), self.point(f"right_{name}")
        if left is None or right is None:
            return None
        return ((left[0] + right[0]) / 2.0, (left[1] + right[1]) / 2.0)

    def normalized(self, point: Point) -> Point:
        return (point[0] / self.width, point[1] / self.height)

    def torso_length(self) -> float | None:
        """Pixels from the shoulders' midpoint to the hips': the body's unit of length."""
        if not self._torso_known:
            self._torso, self._torso_known = self._measure_torso(), True
        return self._torso

    def _measure_torso(self) -> float | None:
        shoulders, hips = self.midpoint("shoulder"), self.midpoint("hip")
        if shoulders is not None and hips is not None:
            length = distance(shoulders, hips)
            if length > 0:
                return length
        left, right = self.point("left_shoulder"), self.point("right_shoulder")
        if left is not None and right is not None and distance(left, right) > 0:
            return distance(left, right) * TORSO_PER_SHOULDER_WIDTH
        return None

    def torso_angle(self) -> float | None:
        """Degrees between the hips-to-shoulders line and straight up: 0 upright, 90 lying, 180 head down."""
        shoulders, hips = self.midpoint("shoulder"), self.midpoint("hip")
        if shoulders is None or hips is None or shoulders == hips:
            return None
        dx, dy = shoulders[0] - hips[0], shoulders[1] - hips[1]
        return math.degrees(math.atan2(abs(dx), -dy))

    def extent(self) -> tuple[float, float] | None:
        """Width and height in pixels of the box around the visible keypoints."""
        if len(self._points) < 2:
            return None
        xs = [p[0] for p in self._points.values()]
        ys = [p[1] for p in self._points.values()]
        return (max(xs) - min(xs), max(ys) - min(ys))

    def bounds(self) -> tuple[float, float, float, float] | None:
        """Left, top, right and bottom in pixels of the visible keypoints (y grows downwards)."""
        if not self._points:
            return None
        xs = [p[0] for p in self._points.values()]
        ys = [p[1] for p in self._points.values()]
        return (min(xs), min(ys), max(xs), max(ys))

    def box_bottom(self) -> Point:
        x, y, w, h = self.pose.box
        return (x + w / 2.0, y + h)


def distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def joint_angle(a: Point, joint: Point, c: Point) -> float | None:
    """The angle at `joint` between the segments to `a` and to `c`, in degrees (180 = straight)."""
    ux, uy = a[0] - joint[0], a[1] - joint[1]
    vx, vy = c[0] - joint[0], c[1] - joint[1]
    norms = math.hypot(ux, uy) * math.hypot(vx, vy)
    if norms == 0:
        return None
    cosine = max(-1.0, min(1.0, (ux * vx + uy * vy) / norms))
    return math.degrees(math.acos(cosine))


def inclination(a: Point, b: Point) -> float | None:
    """Degrees between the line a-b and the vertical, ignoring direction: 0 vertical, 90 horizontal."""
    dx, dy = abs(b[0] - a[0]), abs(b[1] - a[1])
    if dx == 0 and dy == 0:
        return None
    return math.degrees(math.atan2(dx, dy))


class Polygon:
    """A zone's outline in normalized image coordinates (0..1)."""

    def __init__(self, points: Sequence[Point]) -> None:
        if len(points) < 3:
            raise ValueError("a polygon needs at least 3 points")
        self._contour: npt.NDArray[np.float32] = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)

    def contains(self, point: Point) -> bool:
        """True inside or on the edge; OpenCV's test handles any simple or self-touching outline."""
        return cv2.pointPolygonTest(self._contour, (float(point[0]), float(point[1])), False) >= 0


AnchorName = Literal["feet", "hips", "box_bottom"]


def anchor(body: Body, kind: AnchorName) -> Point | None:
    """Where a person stands, in normalized coordinates, or None when it cannot be seen.

    `feet`: the ankles' midpoint (one ankle if only one is seen), else the hips'.
    """
    point: Point | None
    if kind == "feet":
        point = body.midpoint("ankle") or body.midpoint("hip")
    elif kind == "hips":
        point = body.midpoint("hip")
    else:
        point = body.box_bottom()
    return None if point is None else body.normalized(point)


def people(poses: Sequence[Pose], width: int, height: int, min_score: float) -> list[Body]:
    """One Body per person. Poses without an id (no tracker) are one anonymous person, id 0:
    the best-scored of them is kept, since per-person state cannot tell the others apart."""
    bodies: list[Body] = []
    anonymous: Pose | None = None
    for pose in poses:
        if pose.id is None:
            if anonymous is None or pose.score > anonymous.score:
                anonymous = pose
        else:
            bodies.append(Body(pose, width, height, min_score))
    if anonymous is not None and all(b.person != ANONYMOUS for b in bodies):
        bodies.append(Body(anonymous, width, height, min_score))
    return bodies


MeasureKind = Literal["angle", "inclination", "height", "distance"]


def measure(body: Body, kind: MeasureKind, names: Sequence[str], side: Side | None) -> float | None:
    """One measure of the body on one side (None: central names only), or None if not seen.

    angle: degrees at the middle of three keypoints; inclination: degrees of a-b from
    vertical; height: how far a is above b; distance: a to b; heights and distances
    in torso lengths, so they do not depend on how far the person is from the camera.
    """
    points = [body.point(sided(name, side)) for name in names]
    if any(p is None for p in points):
        return None
    seen = [p for p in points if p is not None]
    if kind == "angle":
        return joint_angle(seen[0], seen[1], seen[2])
    if kind == "inclination":
        return inclination(seen[0], seen[1])
    scale = body.torso_length()
    if scale is None:
        return None
    if kind == "height":
        return (seen[1][1] - seen[0][1]) / scale
    return distance(seen[0], seen[1]) / scale


def is_sided(names: Sequence[str]) -> bool:
    """Whether the names change with the side (`knee`), or name fixed keypoints (`left_ankle`, `nose`)."""
    return any(sided(name, "left") != name for name in names)


def per_side(body: Body, kind: MeasureKind, names: Sequence[str]) -> dict[Side | None, float | None]:
    """The measure on each side, or once (key None) when the names are not sided."""
    if not is_sided(names):
        return {None: measure(body, kind, names, None)}
    return {side: measure(body, kind, names, side) for side in SIDES}
