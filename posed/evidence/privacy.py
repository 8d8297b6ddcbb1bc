"""What a camera's picture may show: the picture, a blur of it, or nothing of it.

Every picture posed keeps or shows (snapshots, clip frames, the preview's frames)
goes through `render` or `private_image`, so a camera's `privacy` holds everywhere:
- `full`: the picture as captured;
- `blur`: the picture shrunk to a few dozen pixels across and scaled back up, so no
  face or text survives, with the skeleton drawn sharp on top;
- `skeleton`: a plain background; not one pixel is computed from the camera's image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from posed.draw import DrawStyle, draw_poses
from posed.evidence.config import Privacy
from posed.types import ImageArray, Pose

BACKGROUND = (32, 36, 44)  # RGB of the `skeleton` mode's plain background
BLUR_CELLS = 24  # the `blur` picture keeps at most this many cells across its longer side


def blurred(image: ImageArray) -> ImageArray:
    """The picture reduced to BLUR_CELLS cells across and smoothed back to its size."""
    import cv2

    height, width = image.shape[:2]
    scale = BLUR_CELLS / max(height, width)
    small = cv2.resize(
        image,
        (max(round(width * scale), 1), max(round(height * scale), 1)),
        interpolation=cv2.INTER_AREA,
    )
    return np.asarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def private_image(image: ImageArray, privacy: Privacy) -> ImageArray:
    """The picture as `privacy` allows it to be shown, without poses."""
    if privacy == "full":
        return image
    if privacy == "blur":
        return blurred(image)
    return np.full((image.shape[0], image.shape[1], 3), BACKGROUND, dtype=np.uint8)


def scaled(poses: Sequence[Pose], factor: float) -> list[Pose]:
    """The poses in the pixels of an image scaled by `factor`."""
    if factor == 1.0:
        return list(poses)
    out = []
    for pose in poses:
        keypoints = pose.keypoints.copy()
        keypoints[:, :2] *= factor
        x, y, w, h = pose.box
        out.append(replace(pose, keypoints=keypoints, box=(x * factor, y * factor, w * factor, h * factor)))
    return out


def render(
    image: ImageArray, poses: Sequence[Pose], privacy: Privacy, *, max_width: int | None = None
) -> ImageArray:
    """The picture as `privacy` allows, at most `max_width` wide, with every skeleton drawn."""
    factor = 1.0
    if max_width is not None and image.shape[1] > max_width:
        import cv2

        factor = max_width / image.shape[1]
        size = (max_width, max(round(image.shape[0] * factor), 1))
        if privacy == "skeleton":  # nothing of the picture is needed, not even to shrink it
            image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        else:
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return draw_poses(private_image(image, privacy), scaled(poses, factor), DrawStyle())


def encode_jpeg(rgb: ImageArray, quality: int) -> bytes:
    """JPEG bytes of an RGB image."""
    import cv2

    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # OpenCV gives no reason; a uint8 RGB image always encodes
        raise RuntimeError("JPEG encoding failed")
    return bytes(data)
