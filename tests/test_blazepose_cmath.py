"""posed.blazepose.cmath against the C library's own functions, the ones MediaPipe's C++ calls.

Promise guarded: posed's sigmoids (heatmap refinement, landmark visibility,
detector scores), its projection's cos/sin and its ROI angle's atan2 give
glibc's float results bit for bit. One ulp anywhere moves a tracked crop onto
another 1/32-px warp step, and over the squat video that grows into pixels
(each of these was worth 1.5-22 px there; docs/models.md, accuracy).
"""

from __future__ import annotations

import numpy as np

from posed.blazepose import cmath
from posed.blazepose.detector import _TO_UNIT_RANGE
from posed.blazepose.landmarks import project
from posed.blazepose.roi import NormRect, alignment_rect
from posed.blazepose.tracker import AUX_FILTER, BODY_FILTER, WORLD_FILTER
from tests.libm import LIBM

F32 = np.float32


def _sample() -> np.ndarray:
    """Logits as the models give them: every 997th float32 in +-30, then some far out."""
    start, stop = F32(1e-6).view(np.int32), F32(30.0).view(np.int32)
    steps = np.arange(start, stop, 997, dtype=np.int32).view(np.float32)
    far = np.array([60.5, -63.1, 88.7, 88.8, -103.9, -104.5, 100.0, -100.0, 0.0], dtype=np.float32)
    return np.concatenate([steps, -steps, far])


def test_expf_is_the_c_librarys_bit_for_bit() -> None:
    values = _sample()
    expected = np.array([LIBM.expf(v) for v in values], dtype=np.float32)
    with np.errstate(over="ignore"):
        mine = cmath.expf(values)
        numpy_own = np.exp(values)
    np.testing.assert_array_equal(mine.view(np.uint32), expected.view(np.uint32))
    # The sample can tell them apart: numpy's float32 exp is not glibc's.
    assert (numpy_own != expected).sum() > 100


def test_sigmoid_saturates_like_the_cpp() -> None:
    # expf(100) is inf and 1 / (1 + inf) is 0; expf(-100) is 0 and the sigmoid 1.
    np.testing.assert_array_equal(cmath.sigmoid(np.array([-100.0, 100.0, 0.0])), [0.0, 1.0, 0.5])


def _angles_where_numpy_misses(function: str) -> list[np.float32]:
    rng = np.random.default_rng(3)
    angles = rng.uniform(-np.pi, np.pi, 20000).astype(np.float32)
    own = getattr(np, function)(angles)
    return [a for a, v in zip(angles, own, strict=True) if v != getattr(LIBM, f"{function}f")(a)][:5]


def test_projection_uses_the_c_librarys_cos_and_sin() -> None:
    angles = _angles_where_numpy_misses("cos") + _angles_where_numpy_misses("sin")
    assert angles, "numpy's float32 cos/sin agree with glibc everywhere: the test lost its point"
    points = np.array([[0.3, 0.8, 0.1, 0.9, 0.9], [0.71, 0.12, -0.2, 0.5, 0.5]], dtype=np.float32)
    for angle in angles:
        rect = NormRect(0.45, 0.55, 0.6, 0.35, float(angle))
        mine = points.copy()
        project(mine, rect)
        c, s = LIBM.cosf(angle), LIBM.sinf(angle)
        x, y = points[:, 0] - F32(0.5), points[:, 1] - F32(0.5)
        expected_x = (c * x - s * y) * F32(rect.width) + F32(rect.x_center)
        expected_y = (s * x + c * y) * F32(rect.height) + F32(rect.y_center)
        np.testing.assert_array_equal(mine[:, 0], expected_x)
        np.testing.assert_array_equal(mine[:, 1], expected_y)


def test_roi_angle_uses_the_c_librarys_atan2() -> None:
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(3000):
        center, scale = rng.uniform(0, 1, 2).astype(np.float32), rng.uniform(0, 1, 2).astype(np.float32)
        rect = alignment_rect(
            (float(center[0]), float(center[1])), (float(scale[0]), float(scale[1])), 720, 1280
        )
        x0, y0 = center[0] * F32(720), center[1] * F32(1280)
        x1, y1 = scale[0] * F32(720), scale[1] * F32(1280)
        angle = F32(np.pi * 90.0 / 180.0) - LIBM.atan2f(-(y1 - y0), x1 - x0)
        expected = F32(angle - 2 * np.pi * np.floor((float(angle) + np.pi) / (2 * np.pi)))
        assert F32(rect.rotation) == expected
        checked += 1
    assert checked == 3000


def test_detector_input_is_opencvs_fused_multiply_add() -> None:
    """convertTo(CV_32F, 2/255.f, -1) rounds p * scale - 1 once (v_fma), not twice."""
    scale = F32(2.0) / F32(255.0)
    pixels = np.arange(256)
    fused = np.array([F32(float(p) * float(scale) - 1.0) for p in pixels], dtype=np.float32)
    twice = (pixels.astype(np.float32) * scale + F32(-1.0)).astype(np.float32)
    np.testing.assert_array_equal(_TO_UNIT_RANGE, fused)
    assert (fused != twice).sum() > 50


def test_filter_parameters_are_the_protos_floats() -> None:
    """LandmarksSmoothingCalculatorOptions' fields are floats: the double filters see 0.05f, not 0.05."""
    assert BODY_FILTER["min_cutoff"] == float(F32(0.05)) != 0.05
    assert AUX_FILTER["min_cutoff"] == float(F32(0.01)) != 0.01
    assert WORLD_FILTER["min_cutoff"] == float(F32(0.1)) != 0.1
