"""BlazePose maths without models: anchors, ROI, crop warp, NMS, heatmap refinement, projection, filters."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from posed.blazepose.anchors import ssd_anchor_centres
from posed.blazepose.detector import box_iou, decode_best, weighted_nms_first
from posed.blazepose.filters import LowPassFilter, OneEuroFilter
from posed.blazepose.landmarks import project, project_world, refine_from_heatmap
from posed.blazepose.roi import Roi, alignment_roi, crop_matrix, normalize_radians, warp_crop
from posed.blazepose.tracker import PoseSmoother

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
        (-math.pi, -math.pi),
        (7.0, 7.0 - 2 * math.pi),
    ],
)
def test_normalize_radians(angle: float, expected: float) -> None:
    assert normalize_radians(angle) == pytest.approx(expected)


def test_alignment_roi_upright_and_sideways() -> None:
    upright = alignment_roi((100.0, 200.0), (100.0, 100.0))
    assert (upright.x_center, upright.y_center) == (100.0, 200.0)
    assert upright.size == pytest.approx(2 * 100 * 1.25)
    assert upright.rotation == pytest.approx(0.0)
    # Scale point to the right of the centre: the body lies with its head to the right.
    lying = alignment_roi((100.0, 200.0), (160.0, 200.0))
    assert lying.size == pytest.approx(2 * 60 * 1.25)
    assert lying.rotation == pytest.approx(math.pi / 2)


@pytest.mark.parametrize("rotation", [0.0, 0.3, -1.2, math.pi / 2, 3.0])
def test_crop_corners_are_the_rotated_rect_corners(rotation: float) -> None:
    roi = Roi(321.5, 180.25, 200.0, rotation)
    matrix = crop_matrix(roi, 256, np.zeros((2, 3)))
    crop_corners = np.array([[0, 256, 1], [0, 0, 1], [256, 0, 1], [256, 256, 1]], dtype=np.float64)
    # OpenCV's box points: bottom-left, top-left, top-right, bottom-right, as MediaPipe maps them.
    expected = cv2.boxPoints(((roi.x_center, roi.y_center), (roi.size, roi.size), math.degrees(rotation)))
    np.testing.assert_allclose(crop_corners @ matrix.T, expected, atol=1e-3)


def test_crop_top_points_towards_the_scale_point() -> None:
    roi = alignment_roi((300.0, 300.0), (300.0 + 80 * math.cos(0.7), 300.0 - 80 * math.sin(0.7)))
    matrix = crop_matrix(roi, 256, np.zeros((2, 3)))
    top_centre = matrix @ np.array([128.0, 0.0, 1.0])
    direction = (top_centre - [300.0, 300.0]) / np.linalg.norm(top_centre - [300.0, 300.0])
    np.testing.assert_allclose(direction, [math.cos(0.7), -math.sin(0.7)], atol=1e-9)
    assert np.linalg.norm(top_centre - [300.0, 300.0]) == pytest.approx(roi.size / 2)


def test_warp_crop_copies_and_rotates_pixels() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    out = np.zeros((256, 256, 3), dtype=np.uint8)
    matrix = np.zeros((2, 3))
    warp_crop(
        image, crop_matrix(Roi(256.0, 256.0, 256.0, 0.0), 256, matrix), out, border=cv2.BORDER_REPLICATE
    )
    np.testing.assert_array_equal(out, image[128:384, 128:384])
    # A quarter turn: crop pixel (u, v) samples image (x, y) = (384 - v, 128 + u).
    warp_crop(
        image,
        crop_matrix(Roi(256.0, 256.0, 256.0, math.pi / 2), 256, matrix),
        out,
        border=cv2.BORDER_REPLICATE,
    )
    v, u = np.mgrid[0:256, 0:256]
    np.testing.assert_allclose(out, image[128 + u, 384 - v], atol=1)


def test_warp_crop_border_modes() -> None:
    image = np.full((100, 100, 3), 200, dtype=np.uint8)
    out = np.zeros((256, 256, 3), dtype=np.uint8)
    matrix = crop_matrix(Roi(50.0, 50.0, 400.0, 0.0), 256, np.zeros((2, 3)))
    warp_crop(image, matrix, out, border=cv2.BORDER_REPLICATE)
    assert (out == 200).all()
    warp_crop(image, matrix, out, border=cv2.BORDER_CONSTANT)
    assert out[0, 0, 0] == 0 and out[128, 128, 0] == 200


# --- detector decoding -------------------------------------------------------------


def test_box_iou() -> None:
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.5, 0.0, 1.5, 1.0], [2.0, 2.0, 3.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(box_iou(boxes[0], boxes), [1.0, 0.5 / 1.5, 0.0, 0.0])


def test_weighted_nms_merges_overlapping_boxes_into_the_best() -> None:
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0], [0.1, 0.0, 1.1, 1.0], [0.8, 0.0, 1.8, 1.0]])
    scores = np.array([0.6, 0.8, 0.9, 0.7])
    members, weights = weighted_nms_first(boxes, scores, 0.3)
    # Box 2 is best; box 0 overlaps it (IoU 0.82), box 3 barely (IoU 0.18), box 1 not at all.
    assert members.tolist() == [2, 0]
    np.testing.assert_allclose(weights, [0.9, 0.6])


def test_decode_best_scores_decodes_and_merges() -> None:
    anchors = ssd_anchor_centres()
    raw = np.zeros((2254, 12), dtype=np.float32)
    logits = np.full((2254, 1), -20.0, dtype=np.float32).reshape(2254)
    assert decode_best(raw, logits, anchors, 0.5) is None
    # Two anchors of the same cell fire with the same box; keypoints differ.
    raw[100, :4] = [11.2, -22.4, 56.0, 112.0]
    raw[101, :4] = [11.2, -22.4, 56.0, 112.0]
    raw[100, 4:] = [0.0, 0.0, 22.4, 0.0, 0.0, 0.0, 0.0, 0.0]
    raw[101, 4:] = [22.4, 0.0, 22.4, 0.0, 0.0, 0.0, 0.0, 0.0]
    logits[100] = math.log(3.0)  # sigmoid 0.75
    logits[101] = 0.0  # sigmoid 0.5, still >= 0.5
    # A far-away anchor with a huge logit (clipped to 100) wins alone: nothing overlaps it.
    logits[5] = 1e6
    raw[5, :4] = [0.0, 0.0, 22.4, 22.4]
    found = decode_best(raw, logits, anchors, 0.5)
    assert found is not None
    score, box, _ = found
    assert score == pytest.approx(1.0)
    assert box[2] - box[0] == pytest.approx(0.1)
    logits[5] = -20.0
    found = decode_best(raw, logits, anchors, 0.5)
    assert found is not None
    score, box, keypoints = found
    ax, ay = anchors[100]
    assert score == pytest.approx(0.75)
    np.testing.assert_allclose(
        box, [ax + 0.05 - 0.125, ay - 0.1 - 0.25, ax + 0.05 + 0.125, ay - 0.1 + 0.25], atol=1e-6
    )
    # Keypoint 0 x: 0 from anchor 100 (weight 0.75), 0.1 from anchor 101 (weight 0.5).
    assert keypoints[0, 0] == pytest.approx(ax + 0.1 * 0.5 / 1.25, abs=1e-6)
    assert keypoints[1, 0] == pytest.approx(ax + 0.1, abs=1e-6)
    assert keypoints[1, 1] == pytest.approx(ay, abs=1e-6)


# --- landmarks -----------------------------------------------------------------------


def _refine_reference(landmarks: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """A plain loop over landmarks and window cells, written from MediaPipe's description."""
    out = landmarks.copy()
    size = heatmap.shape[0]
    for i in range(landmarks.shape[0]):
        col, row = int(landmarks[i, 0] * size), int(landmarks[i, 1] * size)
        if col < 0 or col >= size or row < 0:
            continue
        total = wx = wy = best = 0.0
        for r in range(max(0, row - 3), min(size, row + 4)):
            for c in range(max(0, col - 3), min(size, col + 4)):
                conf = 1.0 / (1.0 + math.exp(-float(heatmap[r, c, i])))
                total += conf
                best = max(best, conf)
                wx += c * conf
                wy += r * conf
        if best >= 0.5 and total > 0:
            out[i, 0] = wx / size / total
            out[i, 1] = wy / size / total
    return out


def test_heatmap_refinement_moves_to_the_confident_cell() -> None:
    heatmap = np.full((64, 64, 5), -50.0, dtype=np.float32)
    landmarks = np.array(
        [
            [0.5, 0.5, 0.1],  # window rows/cols 29..35: refined to the hot cell
            [0.2, 0.2, 0.2],  # nothing confident nearby: kept
            [-0.1, 0.5, 0.3],  # left of the crop: kept
            [-0.005, 0.5, 0.4],  # truncates to column 0, so it is refined
            [0.5, 1.03, 0.5],  # row 65, below the crop: MediaPipe still refines with rows 62..63
        ]
    )
    heatmap[33, 30, 0] = 5.0
    heatmap[12, 12, 1] = -0.5
    heatmap[32, 2, 3] = 5.0
    heatmap[63, 31, 4] = 5.0
    refined = landmarks.copy()
    refine_from_heatmap(refined, heatmap)
    np.testing.assert_allclose(refined[0], [30 / 64, 33 / 64, 0.1], atol=1e-9)
    np.testing.assert_array_equal(refined[1:3], landmarks[1:3])
    np.testing.assert_allclose(refined[3, :2], [2 / 64, 32 / 64], atol=1e-9)
    np.testing.assert_allclose(refined[4, :2], [31 / 64, 63 / 64], atol=1e-9)


def test_heatmap_refinement_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    heatmap = rng.normal(-2.0, 3.0, (64, 64, 39)).astype(np.float32)
    landmarks = rng.uniform(-0.1, 1.1, (39, 3))
    refined = landmarks.copy()
    refine_from_heatmap(refined, heatmap)
    np.testing.assert_allclose(refined, _refine_reference(landmarks, heatmap), atol=1e-9)


def test_projection_to_the_image() -> None:
    roi = Roi(400.0, 300.0, 200.0, math.pi / 2)
    crop = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.25], [1.0, 0.5, -0.5]])
    out = project(crop, roi, np.zeros((3, 3)))
    # Crop top-centre goes 100 px along the rotated "up", here to the right.
    np.testing.assert_allclose(out, [[400, 300, 0], [500, 300, 50], [400, 400, -100]], atol=1e-9)
    world = project_world(np.array([[1.0, 0.0, 0.3]]), roi)
    np.testing.assert_allclose(world, [[0.0, 1.0, 0.3]], atol=1e-12)


# --- filters -------------------------------------------------------------------------


class _ScalarOneEuro:
    """One element of MediaPipe's OneEuroFilter, written out scalar by scalar."""

    def __init__(self, min_cutoff: float, beta: float, dcutoff: float) -> None:
        self.freq, self.min_cutoff, self.beta, self.dcutoff = 30.0, min_cutoff, beta, dcutoff
        self.last = 0
        self.x: float | None = None
        self.raw = 0.0
        self.dx: float | None = None

    def alpha(self, cutoff: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / (1.0 / self.freq))

    def apply(self, t: int, scale: float, value: float) -> float:
        if self.last >= t:
            return value
        if self.last != 0 and t != 0:
            self.freq = 1.0 / ((t - self.last) * 1e-9)
        self.last = t
        dvalue = (value - self.raw) * scale * self.freq if self.x is not None else 0.0
        a = self.alpha(self.dcutoff)
        self.dx = dvalue if self.dx is None else a * dvalue + (1 - a) * self.dx
        a = self.alpha(self.min_cutoff + self.beta * abs(self.dx))
        self.x = value if self.x is None else a * value + (1 - a) * self.x
        self.raw = value
        return self.x


def test_one_euro_matches_a_scalar_filter_per_element() -> None:
    rng = np.random.default_rng(3)
    steps = rng.normal(0, 5, (40, 4, 3)).cumsum(axis=0)
    times = [0, *np.cumsum(rng.integers(20_000_000, 50_000_000, 39)).tolist()]
    times[10] = times[9]  # a repeated timestamp returns the input unchanged
    vector = OneEuroFilter((4, 3), min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
    scalars = [[_ScalarOneEuro(0.05, 80.0, 1.0) for _ in range(3)] for _ in range(4)]
    for t, values in zip(times, steps, strict=True):
        got = vector.apply(values, int(t), 0.01)
        want = [[scalars[i][j].apply(int(t), 0.01, float(values[i, j])) for j in range(3)] for i in range(4)]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_one_euro_first_values_and_reset() -> None:
    f = OneEuroFilter((1,), min_cutoff=1.0, beta=0.0, derivate_cutoff=1.0)
    # MediaPipe quirk: a first timestamp of 0 is "not after" the initial 0; it passes unfiltered.
    assert f.apply(np.array([5.0]), 0)[0] == 5.0
    assert f.apply(np.array([7.0]), 33_333_333)[0] == 7.0  # first real sample passes through
    # Then exponential smoothing at 30 Hz: alpha = 1 / (1 + 30 / (2 pi)).
    alpha = 1.0 / (1.0 + 30.0 / (2 * math.pi))
    assert f.apply(np.array([10.0]), 66_666_666)[0] == pytest.approx(7.0 + alpha * 3.0, rel=1e-6)
    f.reset()
    assert f.apply(np.array([100.0]), 99_999_999)[0] == 100.0


def test_low_pass() -> None:
    f = LowPassFilter((2,), 0.1)
    np.testing.assert_allclose(f.apply(np.array([1.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(f.apply(np.array([0.0, 1.0])), [0.9, 0.1])
    f.reset()
    np.testing.assert_allclose(f.apply(np.array([0.5, 0.5])), [0.5, 0.5])


def _landmarks(offset: float) -> tuple[np.ndarray, np.ndarray]:
    lm = np.zeros((35, 4))
    lm[:, 0] = np.linspace(100, 300, 35) + offset
    lm[:, 1] = np.linspace(50, 450, 35)
    lm[:, 3] = 0.9
    lm[33, :2] = [200.0, 300.0]
    lm[34, :2] = [200.0 + offset, 100.0]
    return lm, np.zeros((33, 3))


def test_smoother_always_smooths_the_auxiliary_landmarks() -> None:
    smoother = PoseSmoother(smooth_landmarks=False)
    smoother.apply(*_landmarks(0.0), 1_000_000_000)
    lm, world = _landmarks(10.0)
    out, out_world = smoother.apply(lm, world, 1_033_333_333)
    np.testing.assert_array_equal(out[:33], lm[:33])
    assert out_world is world
    assert 200.0 < out[34, 0] < 210.0  # smoothed towards the previous position


def test_smoother_smooths_body_landmarks_and_visibility() -> None:
    smoother = PoseSmoother(smooth_landmarks=True)
    smoother.apply(*_landmarks(0.0), 1_000_000_000)
    lm, world = _landmarks(10.0)
    lm[:33, 3] = 0.0
    out, _ = smoother.apply(lm, world, 1_033_333_333)
    assert (out[:33, 0] < lm[:33, 0]).all() and (out[:33, 0] > lm[:33, 0] - 10).all()
    np.testing.assert_allclose(out[:33, 3], 0.81)
