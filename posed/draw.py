"""Poses drawn on an image: skeleton, keypoints coloured by score, box, score and id.

The one server-side drawing module, shared by `posed estimate --draw` and `posed
demo` (the preview page draws in the browser, from the same skeletons in
posed.keypoints). Images are RGB uint8, as everywhere in posed; colours are RGB too.

Drawing is vectorised where OpenCV allows it: all edges of one kind go to one
`cv2.polylines` call, and keypoints are binned by score into a few colours,
each bin drawn as zero-length thick polylines (round discs) in one call, so the
number of OpenCV calls does not grow with the number of keypoints.

The visibility cue (BlazePose reports a per-keypoint visibility as its score):
a keypoint below `visible_threshold` is a ring with a dark centre instead of a
filled disc, and an edge with such an end is thin and grey instead of in the
person's colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from posed.keypoints import BLAZEPOSE_33, BLAZEPOSE_33_EDGES, COCO_17, COCO_17_EDGES
from posed.types import ImageArray, Pose

Color = tuple[int, int, int]
IntArray = npt.NDArray[np.int32]

# Score colours from low to high: red, orange, yellow, yellow-green, green.
SCORE_COLORS: tuple[Color, ...] = (
    (230, 40, 40),
    (245, 140, 30),
    (240, 220, 30),
    (150, 220, 40),
    (40, 200, 70),
)
# Person colours, picked by id so that one person keeps a colour across frames.
PERSON_COLORS: tuple[Color, ...] = (
    (0, 170, 255), (255, 80, 200), (255, 200, 0), (120, 90, 255), (0, 220, 180), (255, 120, 60),
)  # fmt: skip
HIDDEN_EDGE_COLOR: Color = (150, 150, 150)


@dataclass(frozen=True, slots=True)
class DrawStyle:
    visible_threshold: float = 0.5  # keypoints scoring below this get the "not visible" cue
    box: bool = True  # the person's box with its score and id
    thickness: int | None = None  # line width in pixels; None: from the image size


@lru_cache(maxsize=16)
def edges_for(names: tuple[str, ...]) -> IntArray:
    """(E, 2) keypoint index pairs of the skeleton `names` belongs to (posed.keypoints); empty if none."""
    skeletons = {BLAZEPOSE_33: BLAZEPOSE_33_EDGES, COCO_17: COCO_17_EDGES}
    return np.asarray(skeletons.get(names, ()), dtype=np.int32).reshape(-1, 2)


def person_color(pose: Pose, order: int) -> Color:
    """The colour of a person: by id when the tracker gave one, else by position in the list."""
    key = pose.id if pose.id is not None else order
    return PERSON_COLORS[key % len(PERSON_COLORS)]


def score_bins(scores: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
    """Index into SCORE_COLORS for each score in 0..1."""
    clipped = np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)
    return np.minimum((clipped * len(SCORE_COLORS)).astype(np.intp), len(SCORE_COLORS) - 1)


def line_width(image: ImageArray, style: DrawStyle) -> int:
    if style.thickness is not None:
        return max(style.thickness, 1)
    shortest: int = min(image.shape[0], image.shape[1])
    return max(2, round(shortest / 300))


def draw_poses(image: ImageArray, poses: Sequence[Pose], style: DrawStyle | None = None) -> ImageArray:
    """A copy of the RGB `image` with every pose drawn on it; an exact copy when there is none."""
    canvas = np.ascontiguousarray(image, dtype=np.uint8).copy()
    style = style or DrawStyle()
    width = line_width(canvas, style)
    for order, pose in enumerate(poses):
        draw_pose(canvas, pose, person_color(pose, order), style, width)
    return canvas


def draw_pose(canvas: ImageArray, pose: Pose, color: Color, style: DrawStyle, width: int) -> None:
    """Draw one pose into `canvas` in place."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    points = np.asarray(pose.keypoints[:, :2], dtype=np.float64)
    finite: npt.NDArray[np.bool_] = np.asarray(np.isfinite(points).all(axis=1))
    pixels = np.rint(np.where(finite[:, None], points, 0.0)).astype(np.int32)
    scores = np.asarray(pose.keypoints[:, 2], dtype=np.float32)
    visible: npt.NDArray[np.bool_] = np.asarray(scores >= style.visible_threshold)
    edges: npt.NDArray[np.intp] = edges_for(tuple(pose.names)).astype(np.intp)
    if len(edges):
        edges = edges[finite[edges].all(axis=1)]
        seen = visible[edges].all(axis=1)
        for chosen, edge_color, edge_width in (
            (edges[~seen], HIDDEN_EDGE_COLOR, max(width // 2, 1)),
            (edges[seen], color, width),
        ):
            if len(chosen):
                cv2.polylines(canvas, list(pixels[chosen]), False, edge_color, edge_width, cv2.LINE_AA)
    radius = 2 * width
    bins = score_bins(scores)
    for bin_index, bin_color in enumerate(SCORE_COLORS):
        for shown, ring in ((visible, False), (~visible, True)):
            chosen = np.flatnonzero(finite & shown & (bins == bin_index))
            if not len(chosen):
                continue
            dots = list(np.repeat(pixels[chosen, None, :], 2, axis=1))
            if ring:
                # A ring: a disc in the score's colour with a dark centre punched out.
                cv2.polylines(canvas, dots, False, bin_color, 2 * radius + 1, cv2.LINE_AA)
                cv2.polylines(canvas, dots, False, (20, 20, 20), max(2 * radius - 3, 1), cv2.LINE_AA)
            else:
                cv2.polylines(canvas, dots, False, bin_color, 2 * radius + 1, cv2.LINE_AA)
    if style.box:
        draw_box(canvas, pose, color, width)


def box_label(pose: Pose) -> str:
    who = f"#{pose.id} " if pose.id is not None else ""
    return f"{who}{pose.score:.2f}"


@dataclass(frozen=True, slots=True)
class LabelTab:
    """Where `draw_box` puts the `#id score` tab: above the box's top-left corner."""

    x0: int
    y0: int
    x1: int
    y1: int
    origin: tuple[int, int]  # text baseline start
    scale: float
    stroke: int


def label_tab(shape: tuple[int, ...], pose: Pose, width: int) -> LabelTab:
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    scale = max(shape[0], shape[1]) / 1400
    stroke = max(width // 2, 1)
    (text_w, text_h), baseline = cv2.getTextSize(box_label(pose), cv2.FONT_HERSHEY_SIMPLEX, scale, stroke)
    x, y = round(pose.box[0]), round(pose.box[1])
    top = max(y - text_h - baseline - 4, 0)
    return LabelTab(
        x, top, x + text_w + 6, top + text_h + baseline + 4, (x + 3, top + text_h + 2), scale, stroke
    )


def draw_box(canvas: ImageArray, pose: Pose, color: Color, width: int) -> None:
    """The person's box, with `#id score` on a filled tab in the person's colour."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    x, y, w, h = pose.box
    if not all(np.isfinite((x, y, w, h))):
        return
    cv2.rectangle(
        canvas, (round(x), round(y)), (round(x + w), round(y + h)), color, max(width // 2, 1), cv2.LINE_AA
    )
    tab = label_tab(canvas.shape, pose, width)
    cv2.rectangle(canvas, (tab.x0, tab.y0), (tab.x1, tab.y1), color, cv2.FILLED)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(canvas, box_label(pose), tab.origin, font, tab.scale, (0, 0, 0), tab.stroke, cv2.LINE_AA)
