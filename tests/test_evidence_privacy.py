"""Privacy modes on pixels: snapshots, clip frames and the preview's frames.

`skeleton`: the output is the same whatever the camera saw (no pixel of it survives);
`blur`: no detail of the picture survives, the skeleton stays as sharp as in `full`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.draw import PERSON_COLORS, SCORE_COLORS
from posed.evidence.clip import write_clip
from posed.evidence.privacy import BACKGROUND, encode_jpeg, render
from posed.evidence.ring import EncodedFrame
from posed.keypoints import COCO_17
from posed.preview.feed import encode_view
from posed.types import Pose

HEIGHT, WIDTH = 240, 320


def picture(seed: int) -> np.ndarray:
    """A camera picture full of detail: random noise plus fine stripes."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[:, ::4] = 255
    return image


def person() -> Pose:
    rng = np.random.default_rng(7)
    keypoints = np.column_stack(
        [rng.uniform(100, 220, 17), rng.uniform(40, 220, 17), np.full(17, 0.9)]
    ).astype(np.float32)
    return Pose(0.9, keypoints, COCO_17, (100.0, 40.0, 120.0, 180.0), id=1)


def detail(image: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: high for a sharp picture."""
    return float(np.abs(np.diff(image.astype(np.int16), axis=1)).mean())


def test_skeleton_mode_keeps_no_pixel_of_the_camera_image() -> None:
    one = render(picture(1), [person()], "skeleton")
    other = render(picture(2), [person()], "skeleton")
    assert np.array_equal(one, other)  # nothing of what the camera saw
    background = np.all(one == BACKGROUND, axis=2)
    assert 0.5 < background.mean() < 0.99  # a plain background, with the skeleton on it
    nobody = render(picture(3), [], "skeleton")
    assert np.all(nobody == BACKGROUND)


def test_skeleton_mode_scaled_down_still_keeps_nothing() -> None:
    big = np.kron(picture(1), np.ones((4, 4, 1), dtype=np.uint8))  # 1280 wide
    small = render(big, [], "skeleton", max_width=640)
    assert small.shape == (HEIGHT * 2, 640, 3) and np.all(small == BACKGROUND)


def test_blur_removes_the_detail_and_keeps_the_skeleton_sharp() -> None:
    image = picture(1)
    full = render(image, [person()], "full")
    blurred = render(image, [person()], "blur")
    bare = render(image, [], "blur")
    assert detail(image) > 60 and detail(bare) < 6
    # The skeleton's solid pixels (exactly a drawing colour in `full`) are the same in `blur`.
    colours = np.array([*PERSON_COLORS, *SCORE_COLORS], dtype=np.uint8)
    solid = (full[:, :, None, :] == colours[None, None]).all(axis=3).any(axis=2) & np.any(
        full != image, axis=2
    )
    assert solid.sum() > 300
    same = np.all(full[solid] == blurred[solid], axis=1).mean()
    assert same > 0.99, same


def test_full_mode_is_the_picture_with_the_skeleton() -> None:
    image = picture(1)
    assert np.array_equal(render(image, [], "full"), image)
    assert not np.array_equal(render(image, [person()], "full"), image)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image)


@pytest.mark.parametrize("privacy", ["skeleton", "blur"])
def test_the_preview_sends_only_what_the_privacy_allows(privacy: str) -> None:
    one = decode(encode_view(picture(1), privacy))  # type: ignore[arg-type]
    other = decode(encode_view(picture(2), privacy))  # type: ignore[arg-type]
    if privacy == "skeleton":
        assert np.array_equal(one, other)
        assert np.all(np.abs(one.astype(int) - BACKGROUND[::-1]) <= 2)  # BGR, JPEG rounding
    else:
        assert detail(one) < 6


def test_the_preview_in_full_mode_sends_the_picture() -> None:
    sent = decode(encode_view(picture(1), "full"))
    assert detail(sent) > 30


def test_a_clip_in_skeleton_mode_is_the_same_whatever_the_camera_saw(tmp_path: Path) -> None:
    clips = []
    for seed in (1, 2):
        frames = [
            EncodedFrame(float(n), encode_jpeg(render(picture(seed + 10 * n), [person()], "skeleton"), 70))
            for n in range(5)
        ]
        path = tmp_path / f"clip{seed}.mp4"
        assert write_clip(frames, path, 5.0) == 5
        capture = cv2.VideoCapture(str(path))
        decoded = []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            decoded.append(image)
        capture.release()
        clips.append(np.stack(decoded))
    assert clips[0].shape[0] == 5 and np.array_equal(clips[0], clips[1])
