"""BlazePose maths without models: anchors, ROI, crop warp, NMS, heatmap refinement, projection, filters."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from posed.blazepose.anchors import ssd_anchor_centres
from posed.blazepose.detector import (
    Detection,
    Detections,
    box_iou,
    decode_detections,
    remove_detection_letterbox,
    weighted_nms_first,
)
from posed.blazepose.filters import LowPassFilter, OneEuroFilter
from posed.blazepose.landmarks import HEATMAP_KERNEL, project, project_world, refine_from_heatmap
from posed.blazepose.roi import (
    NormRect,
    alignment_rect,
    crop_geometry,
    enlarged_rect,
    normalize_radians,
    object_scale,
    remove_letterbox,
)
from posed.blazepose.tracker import PoseSmoother
from posed.blazepose.warp import PerspectiveSampler, crop_to_image_matrix, rect_corners
from tests.libm import LIBM

F32 = np.float32

# --- anchors -----------------------------------------------------------------


def test_anchor_layout_matches_the_detector_output() -> None:
    anchors = ssd_anchor_centres()
    assert anchors.shape == (2254, 2)
    # Stride 8: 28x28 cells, 2 anchors each, x varying fastest.
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[2 * 28], [0.5 / 28, 1.5 / 28])
    # Stride 16 starts after 28*28*2 anchors.
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])
    # The three stride-32 layers share a 7x7 map: 6 anchors per cell.
    start = 1568 + 14 * 14 * 2
    np.testing.assert_allclose(anchors[start : start + 6], np.tile([0.5 / 7, 0.5 / 7], (6, 1)))
    np.testing.assert_allclose(anchors[start + 6], [1.5 / 7, 0.5 / 7])
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


# --- ROI -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (0.0, 0.0),
        (1.5 * math.pi, -0.5 * math.pi),
        (math.pi, -math.pi),
        (-3.14159, -3.14159),
        # float32(-pi) lies just below -pi, so MediaPipe wraps it to just below +pi.
        (-math.pi, math.pi),
        (7.0, 7.0 - 2 * math.pi),
    ],
)
def test_normalize_radians(angle: float, expected: float) -> None:
    assert normalize_radians(angle) == pytest.approx(expected, abs=1e-6)
    assert normalize_radians(angle) == float(F32(normalize_radians(angle)))  # a float32 value


def test_alignment_rect_upright_and_sideways() -> None:
    # 400 x 300 image: normalised coordinates are pixels / (400, 300).
    upright = alignment_rect((100 / 400, 200 / 300), (100 / 400, 100 / 300), 400, 300)
    assert (upright.x_center, upright.y_center) == pytest.approx((0.25, 2 / 3))
    assert (upright.width * 400, upright.height * 300) == pytest.approx((200.0, 200.0), rel=1e-6)
    assert upright.rotation == pytest.approx(0.0, abs=1e-6)
    assert object_scale(upright, 400, 300) == pytest.approx(200.0, rel=1e-6)
    # Scale point to the right of the centre: the body lies with its head to the right.
    lying = alignment_rect((100 / 400, 200 / 300), (160 / 400, 200 / 300), 400, 300)
    assert lying.width * 400 == pytest.approx(120.0, rel=1e-6)
    assert lying.rotation == pytest.approx(math.pi / 2, abs=1e-6)


def test_enlarged_rect_squares_the_long_side_and_adds_a_quarter() -> None:
    rect = NormRect(0.5, 0.5, 0.25, 0.2, 0.3)  # 100 x 60 px in a 400 x 300 image
    big = enlarged_rect(rect, 400, 300)
    assert big.width * 400 == pytest.approx(125.0, rel=1e-6)
    assert big.height * 300 == pytest.approx(125.0, rel=1e-6)
    assert (big.x_center, big.y_center, big.rotation) == (0.5, 0.5, 0.3)
    tall = enlarged_rect(NormRect(0.5, 0.5, 0.1, 0.5, 0.0), 400, 300)  # 40 x 150 px
    assert (tall.width * 400, tall.height * 300) == pytest.approx((187.5, 187.5), rel=1e-6)


def test_crop_geometry_pads_to_the_tensor_aspect() -> None:
    # The detector's letterbox: the whole 1000 x 667 image, centred in a square.
    whole = crop_geometry(None, 1000, 667, 224, 224)
    assert [float(v) for v in (whole.center_x, whole.center_y, whole.width, whole.height)] == [
        500.0,
        333.5,
        1000.0,
        1000.0,
    ]
    assert whole.padding[0] == 0.0 and whole.padding[1] == pytest.approx((1 - 0.667) / 2, rel=1e-6)
    points = np.array([[0.5, whole.padding[1]], [0.25, 1 - whole.padding[1]]], dtype=np.float32)
    remove_letterbox(points, whole.padding)
    np.testing.assert_allclose(points, [[0.5, 0.0], [0.25, 1.0]], atol=1e-6)
    tall = crop_geometry(NormRect(0.5, 0.5, 0.1, 0.3, 0.0), 1000, 1000, 256, 256)
    assert tall.width == tall.height == pytest.approx(300.0)
    assert tall.padding[0] == pytest.approx(1 / 3, rel=1e-6) and tall.padding[1] == 0.0


@pytest.mark.parametrize("rotation", [0.0, 0.3, -1.2, math.pi / 2, 3.0])
def test_rect_corners_are_opencvs_box_points(rotation: float) -> None:
    corners = rect_corners(321.5, 180.25, 200.0, 150.0, rotation)
    assert corners.dtype == np.float32
    expected = cv2.boxPoints(((321.5, 180.25), (200.0, 150.0), math.degrees(rotation)))
    np.testing.assert_allclose(corners, expected, atol=1e-3)
    # The crop's corners land on them: bottom-left, top-left, top-right, bottom-right.
    matrix = crop_to_image_matrix(corners, 256, 256)
    crop = np.array([[0, 256, 1], [0, 0, 1], [256, 0, 1], [256, 256, 1]], dtype=np.float64) @ matrix.T
    np.testing.assert_allclose(crop[:, :2] / crop[:, 2:], corners, atol=1e-3)


def _warp_reference(image: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """OpenCV 3.4's warpPerspective (uint8, bilinear, replicated border), written out pixel by pixel.

    Per 64 x 16 block: X0 = M0 x + M1 (y + y1) + M2 at the block start, then
    X = round((X0 + M0 x1) * 32 / W); 1/32-px fractions; weights (32 - f) products
    scaled to 15 bits; (sum + 2^14) >> 15.
    """
    m = matrix.ravel()
    rows, cols = image.shape[:2]
    out = np.zeros((height, width, 3), dtype=np.uint8)
    for y in range(height):
        for x in range(width):
            xb, x1 = x - x % 64, x % 64
            w = (m[6] * xb + m[7] * y + m[8]) + m[6] * x1
            w = 32.0 / w if w else 0.0
            fx = round(((m[0] * xb + m[1] * y + m[2]) + m[0] * x1) * w)
            fy = round(((m[3] * xb + m[4] * y + m[5]) + m[3] * x1) * w)
            sx, sy, ax, ay = fx >> 5, fy >> 5, fx & 31, fy & 31
            total = np.zeros(3, dtype=np.int64)
            for dy, dx, weight in ((0, 0, (32 - ax) * (32 - ay)), (0, 1, ax * (32 - ay)),
                                   (1, 0, (32 - ax) * ay), (1, 1, ax * ay)):  # fmt: skip
                pixel = image[min(max(sy + dy, 0), rows - 1), min(max(sx + dx, 0), cols - 1)]
                total += pixel.astype(np.int64) * weight * 32
            out[y, x] = (total + (1 << 14)) >> 15
    return out


@pytest.mark.parametrize(("width", "height"), [(70, 20), (128, 12)])  # a partial last block; whole blocks
def test_sampler_reproduces_opencv_34s_fixed_point_warp(width: int, height: int) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    matrix = crop_to_image_matrix(rect_corners(60.3, 40.7, 85.1, 85.1, 0.37), width, height)
    sampler = PerspectiveSampler(width, height)
    sampler.build_maps(matrix)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    sampler.sample(image, out, border=cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(out, _warp_reference(image, matrix, width, height))


def test_sampler_copies_and_rotates_pixels() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    out = np.zeros((256, 256, 3), dtype=np.uint8)
    sampler = PerspectiveSampler(256, 256)
    sampler.build_maps(crop_to_image_matrix(rect_corners(256.0, 256.0, 256.0, 256.0, 0.0), 256, 256))
    sampler.sample(image, out, border=cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(out, image[128:384, 128:384])
    # A quarter turn: crop pixel (u, v) samples image (x, y) = (384 - v, 128 + u).
    sampler.build_maps(crop_to_image_matrix(rect_corners(256.0, 256.0, 256.0, 256.0, math.pi / 2), 256, 256))
    sampler.sample(image, out, border=cv2.BORDER_REPLICATE)
    v, u = np.mgrid[0:256, 0:256]
    np.testing.assert_allclose(out, image[128 + u, 384 - v], atol=1)


def test_sampler_border_modes_and_far_crops() -> None:
    image = np.full((100, 100, 3), 200, dtype=np.uint8)
    out = np.zeros((256, 256, 3), dtype=np.uint8)
    sampler = PerspectiveSampler(256, 256)
    sampler.build_maps(crop_to_image_matrix(rect_corners(50.0, 50.0, 400.0, 400.0, 0.0), 256, 256))
    sampler.sample(image, out, border=cv2.BORDER_REPLICATE)
    assert (out == 200).all()
    sampler.sample(image, out, border=cv2.BORDER_CONSTANT)
    assert out[0, 0, 0] == 0 and out[128, 128, 0] == 200
    # A crop far outside the image takes OpenCV's saturating path and still samples the border.
    sampler.build_maps(crop_to_image_matrix(rect_corners(5e6, 50.0, 400.0, 400.0, 0.0), 256, 256))
    sampler.sample(image, out, border=cv2.BORDER_REPLICATE)
    assert (out == 200).all()


# --- detector decoding -------------------------------------------------------------


def test_box_iou() -> None:
    boxes = np.array([[0, 0, 1, 1], [0.5, 0, 1, 1], [2, 2, 1, 1], [1, 1, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(box_iou(boxes[0], boxes), [1.0, 0.5 / 1.5, 0.0, 0.0], rtol=1e-6)


def _detections(boxes: list[list[float]], scores: list[float]) -> Detections:
    keypoints = np.zeros((len(boxes), 4, 2), dtype=np.float32)
    keypoints[:, 0, 0] = np.arange(len(boxes))
    return Detections(np.array(scores, np.float32), np.array(boxes, np.float32), keypoints)


def test_weighted_nms_merges_overlapping_boxes_into_the_best() -> None:
    found = _detections(
        [[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 1.0, 1.0], [0.1, 0.0, 1.0, 1.0], [0.8, 0.0, 1.0, 1.0]],
        [0.6, 0.8, 0.9, 0.7],
    )
    merged = weighted_nms_first(found)
    # Box 2 is best; box 0 overlaps it (IoU 0.82), box 3 barely (IoU 0.18), box 1 not at all.
    assert merged.score == pytest.approx(0.9)
    assert merged.box == pytest.approx(((0.1 * 0.9 + 0.0 * 0.6) / 1.5, 0.0, 1.0, 1.0), rel=1e-6)
    assert merged.keypoints[0, 0] == pytest.approx((2 * 0.9 + 0 * 0.6) / 1.5, rel=1e-6)


def test_decode_detections_and_letterbox_removal() -> None:
    anchors = ssd_anchor_centres()
    raw = np.zeros((2254, 12), dtype=np.float32)
    logits = np.full(2254, -20.0, dtype=np.float32)
    assert decode_detections(raw, logits, anchors, F32(0.5)).scores.size == 0
    raw[100, :4] = [11.2, -22.4, 56.0, 112.0]
    raw[100, 4:6] = [22.4, 0.0]
    logits[100] = math.log(3.0)  # sigmoid 0.75
    logits[5] = 1e6  # clipped to 100 before the sigmoid
    found = decode_detections(raw, logits, anchors, F32(0.5))
    assert found.scores.tolist() == pytest.approx([1.0, 0.75])
    ax, ay = anchors[100]
    np.testing.assert_allclose(found.boxes[1], [ax + 0.05 - 0.125, ay - 0.1 - 0.25, 0.25, 0.5], atol=1e-6)
    np.testing.assert_allclose(found.keypoints[1, 0], [ax + 0.1, ay], atol=1e-6)
    padding = (F32(0.0), F32(0.25), F32(0.0), F32(0.25))
    plain = remove_detection_letterbox(Detection(0.9, (0.1, 0.25, 0.5, 0.25), found.keypoints[1]), padding)
    assert plain.box == pytest.approx((0.1, 0.0, 0.5, 0.5))
    assert plain.keypoints[0, 1] == pytest.approx((ay - 0.25) / 0.5, rel=1e-6)


# --- landmarks -----------------------------------------------------------------------


def _refine_reference(landmarks: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe 0.10.14's loop, scalar by scalar in float32, kernel 9."""
    out = landmarks.copy()
    size = heatmap.shape[0]
    half = (HEATMAP_KERNEL - 1) // 2
    for i in range(landmarks.shape[0]):
        col, row = int(F32(landmarks[i, 0]) * F32(size)), int(F32(landmarks[i, 1]) * F32(size))
        if col < 0 or col >= size or row < 0 or row >= size:
            continue
        total = wx = wy = best = F32(0.0)
        for r in range(max(0, row - half), min(size, row + half + 1)):
            for c in range(max(0, col - half), min(size, col + half + 1)):
                # The C library's own expf, one call at a time, as the C++ loop calls it.
                conf = F32(1.0) / (F32(1.0) + F32(LIBM.expf(-heatmap[r, c, i])))
                total += conf
                best = max(best, conf)
                wx += F32(c) * conf
                wy += F32(r) * conf
        if best >= 0.5 and total > 0:
            out[i, 0] = wx / F32(size) / total
            out[i, 1] = wy / F32(size) / total
    return out


def test_heatmap_refinement_moves_to_the_confident_cell() -> None:
    heatmap = np.full((64, 64, 5), -50.0, dtype=np.float32)
    landmarks = np.array(
        [
            [0.5, 0.5, 0.1],  # window rows/cols 28..36: refined to the hot cell
            [0.2, 0.2, 0.2],  # nothing confident nearby: kept
            [-0.1, 0.5, 0.3],  # left of the crop: kept
            [-0.005, 0.5, 0.4],  # truncates to column 0, so it is refined
            [0.5, 1.03, 0.5],  # row 65, below the crop: kept (v0.10.2 checks the row too)
        ],
        dtype=np.float32,
    )
    heatmap[33, 30, 0] = 5.0
    heatmap[12, 12, 1] = -0.5
    heatmap[32, 2, 3] = 5.0
    heatmap[63, 31, 4] = 5.0
    refined = landmarks.copy()
    refine_from_heatmap(refined, heatmap)
    np.testing.assert_allclose(refined[0], [30 / 64, 33 / 64, 0.1], atol=1e-6)
    np.testing.assert_array_equal(refined[1:3], landmarks[1:3])
    np.testing.assert_allclose(refined[3, :2], [2 / 64, 32 / 64], atol=1e-6)
    np.testing.assert_array_equal(refined[4], landmarks[4])


def test_heatmap_refinement_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    heatmap = rng.normal(-2.0, 3.0, (64, 64, 39)).astype(np.float32)
    landmarks = rng.uniform(-0.1, 1.1, (39, 3)).astype(np.float32)
    refined = landmarks.copy()
    refine_from_heatmap(refined, heatmap)
    # Sequential float32 sums, as MediaPipe adds them: equal to the last bit.
    np.testing.assert_array_equal(refined, _refine_reference(landmarks, heatmap))


def test_projection_to_the_image() -> None:
    # A 200 px crop centred at (400, 300) in an 800 x 600 image, turned a quarter.
    rect = NormRect(0.5, 0.5, 0.25, 1 / 3, math.pi / 2)
    crop = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.25], [1.0, 0.5, -0.5]], dtype=np.float32)
    project(crop, rect)
    # Crop top-centre goes 100 px along the rotated "up", here to the right.
    pixels = crop * np.array([800, 600, 800], dtype=np.float32)
    np.testing.assert_allclose(pixels, [[400, 300, 0], [500, 300, 50], [400, 400, -100]], atol=1e-3)
    world = project_world(np.array([[1.0, 0.0, 0.3]], dtype=np.float32), rect)
    np.testing.assert_allclose(world, [[0.0, 1.0, 0.3]], atol=1e-6)


# --- filters -------------------------------------------------------------------------


class _ScalarOneEuro:
    """One element of MediaPipe 0.10.14's OneEuroFilter and its float LowPassFilters, scalar by scalar."""

    def __init__(self, min_cutoff: float, beta: float, dcutoff: float) -> None:
        self.freq, self.min_cutoff, self.beta, self.dcutoff = 30.0, min_cutoff, beta, dcutoff
        self.last: int | None = None  # INT64_MIN
        self.x: np.float32 | None = None
        self.raw = F32(0.0)
        self.dx: np.float32 | None = None

    def alpha(self, cutoff: float) -> np.float32:
        te = 1.0 / self.freq
        tau = 1.0 / (2 * math.pi * cutoff)
        return F32(1.0 / (1.0 + tau / te))

    @staticmethod
    def low_pass(stored: np.float32 | None, value: np.float32, alpha: np.float32) -> np.float32:
        if stored is None:
            return value
        return F32(float(alpha * value) + (1.0 - float(alpha)) * float(stored))

    def apply(self, t: int, scale: float, value: np.float32) -> np.float32:
        if self.last is not None and self.last >= t:
            return value
        if self.last is not None and self.last != 0 and t != 0:
            self.freq = 1.0 / ((t - self.last) * 1e-9)
        self.last = t
        dvalue = (float(value) - float(self.raw)) * scale * self.freq if self.x is not None else 0.0
        self.dx = self.low_pass(self.dx, F32(dvalue), self.alpha(self.dcutoff))
        self.x = self.low_pass(self.x, value, self.alpha(self.min_cutoff + self.beta * abs(float(self.dx))))
        self.raw = value
        return self.x


def test_one_euro_matches_a_scalar_filter_per_element() -> None:
    rng = np.random.default_rng(3)
    steps = rng.normal(0, 5, (40, 4, 3)).cumsum(axis=0).astype(np.float32)
    times = [0, *np.cumsum(rng.integers(20_000_000, 50_000_000, 39)).tolist()]
    times[10] = times[9]  # a repeated timestamp returns the input unchanged
    vector = OneEuroFilter((4, 3), min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    scalars = [[_ScalarOneEuro(0.05, 80.0, 1.0) for _ in range(3)] for _ in range(4)]
    for t, values in zip(times, steps, strict=True):
        got = vector.apply(values, int(t), 0.01)
        want = [[scalars[i][j].apply(int(t), 0.01, values[i, j]) for j in range(3)] for i in range(4)]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.array(want, dtype=np.float32))


def test_one_euro_first_values_and_reset() -> None:
    f = OneEuroFilter((1,), min_cutoff=1.0, beta=0.0, derivate_cutoff=1.0)
    # MediaPipe 0.10.14 starts its clock at INT64_MIN: a first timestamp of 0 counts.
    assert f.apply(np.array([5.0], np.float32), 0)[0] == 5.0
    # The last timestamp is 0, so the frequency stays at 30 Hz for this step.
    alpha = 1.0 / (1.0 + 30.0 / (2 * math.pi))
    assert f.apply(np.array([7.0], np.float32), 33_333_000)[0] == pytest.approx(5.0 + alpha * 2.0, rel=1e-6)
    assert f.apply(np.array([9.0], np.float32), 33_333_000)[0] == 9.0  # not after the last: unchanged
    f.reset()
    assert f.apply(np.array([100.0], np.float32), 99_999_000)[0] == 100.0


def test_low_pass() -> None:
    f = LowPassFilter((2,), 0.1)
    np.testing.assert_allclose(f.apply(np.array([1.0, 0.0], np.float32)), [1.0, 0.0])
    np.testing.assert_allclose(f.apply(np.array([0.0, 1.0], np.float32)), [0.9, 0.1], rtol=1e-6)
    f.reset()
    np.testing.assert_allclose(f.apply(np.array([0.5, 0.5], np.float32)), [0.5, 0.5])


WIDTH, HEIGHT = 400, 500


def _landmarks(offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalised landmarks of a 400 x 500 image, the body shifted right by `offset` px."""
    lm = np.zeros((35, 5), dtype=np.float32)
    lm[:, 0] = (np.linspace(100, 300, 35) + offset) / WIDTH
    lm[:, 1] = np.linspace(50, 450, 35) / HEIGHT
    lm[:, 3] = 0.9
    lm[33, :2] = [200.0 / WIDTH, 300.0 / HEIGHT]
    lm[34, :2] = [(200.0 + offset) / WIDTH, 100.0 / HEIGHT]
    return lm, np.zeros((33, 3), dtype=np.float32)


def test_smoother_always_smooths_the_auxiliary_landmarks() -> None:
    smoother = PoseSmoother(smooth_landmarks=False)
    smoother.apply(*_landmarks(0.0), 1_000_000_000, WIDTH, HEIGHT)
    lm, world = _landmarks(10.0)
    out, out_world = smoother.apply(lm, world, 1_033_333_000, WIDTH, HEIGHT)
    np.testing.assert_array_equal(out[:33], lm[:33])
    assert out_world is world
    assert 200.0 < out[34, 0] * WIDTH < 210.0  # smoothed towards the previous position


def test_smoother_smooths_body_landmarks_and_visibility() -> None:
    smoother = PoseSmoother(smooth_landmarks=True)
    smoother.apply(*_landmarks(0.0), 1_000_000_000, WIDTH, HEIGHT)
    lm, world = _landmarks(10.0)
    lm[:33, 3] = 0.0
    out, _ = smoother.apply(lm, world, 1_033_333_000, WIDTH, HEIGHT)
    assert (out[:33, 0] < lm[:33, 0]).all() and (out[:33, 0] > lm[:33, 0] - 10 / WIDTH).all()
    np.testing.assert_allclose(out[:33, 3], 0.81, rtol=1e-6)
