"""MoveNet's parts on their own: layout detection from the file (input dtype, size, output shape),
tfjs's input resampling and MultiPose size rule, the smart-cropping rules, decoding and the
keypoint filter. The whole pipeline is held to tfjs itself in test_movenet_conformance.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from posed.backend import TensorSpec
from posed.errors import ModelError
from posed.models.layout import detect_layout as detect_file_layout
from posed.movenet.config import MoveNetOptions
from posed.movenet.crop import RegionFilter, initial_region, next_region, torso_visible
from posed.movenet.decode import multi_pose, single_pose
from posed.movenet.layout import detect_layout
from posed.movenet.resample import Letterbox, crop_and_resize, multipose_size, resize_and_pad
from posed.movenet.smoothing import KeypointSmoother
from posed.tflite_file import read_model_info

LIGHTNING = "movenet_singlepose_lightning_f32_from_tfjs.tflite"
THUNDER = "movenet_singlepose_thunder_f32_from_tfjs.tflite"
MULTI = "movenet_multipose_lightning_float16.tflite"


def spec(shape: tuple[int, ...], dtype: str = "float32", name: str = "t") -> TensorSpec:
    return TensorSpec(name, shape, dtype)


# --- layout -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (LIGHTNING, ("single", "int32", (192, 192), 1)),
        (THUNDER, ("single", "int32", (256, 256), 1)),
        (MULTI, ("multi", "uint8", (1, 1), 6)),
    ],
)
def test_layout_is_read_from_the_file(
    models_dir: Path, filename: str, expected: tuple[str, str, tuple[int, int], int]
) -> None:
    kind, dtype, size, people = expected
    info = read_model_info(models_dir / filename)
    layout = detect_layout(info.inputs, info.outputs)
    assert (layout.kind, layout.input_dtype, (layout.input_height, layout.input_width)) == (kind, dtype, size)
    assert layout.max_people == people
    assert layout.dynamic_input == (kind == "multi")
    file_layout = detect_file_layout(info)
    assert file_layout.family == "movenet" and file_layout.keypoints == "coco-17"
    assert file_layout.kind == f"movenet-{kind}"


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32"])
def test_every_pixel_input_type_is_accepted(dtype: str) -> None:
    layout = detect_layout([spec((1, 192, 192, 3), dtype)], [spec((1, 1, 17, 3))])
    assert layout.input_dtype == dtype and layout.kind == "single"
    multi = detect_layout([spec((1, 320, 320, 3), dtype)], [spec((1, 10, 56))])
    assert multi.kind == "multi" and multi.max_people == 10 and not multi.dynamic_input


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        ([spec((1, 192, 192, 3), "int8")], [spec((1, 1, 17, 3))], "type int8"),
        ([spec((1, 192, 192, 3), "int32")], [spec((1, 1, 17, 3), "uint8")], "expected float32"),
        ([spec((1, 192, 192, 1), "int32")], [spec((1, 1, 17, 3))], r"image input \[1, H, W, 3\]"),
        ([spec((1, 192, 192, 3), "int32")], [spec((1, 1, 33, 3))], r"\[1, 1, 17, 3\]"),
        ([spec((1, 192, 192, 3), "int32")], [spec((1, 6, 56)), spec((1, 6))], r"\[1, N, 56\]"),
    ],
)
def test_other_files_are_refused_with_the_reason(
    inputs: list[TensorSpec], outputs: list[TensorSpec], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        detect_layout(inputs, outputs)


# --- resampling ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "max_dimension", "resized", "padded"),
    [
        (1278, 1920, 256, (170, 256), (192, 256)),  # test_couple.jpg
        (1280, 720, 256, (256, 144), (256, 160)),  # the portrait squat video
        (576, 768, 256, (192, 256), (192, 256)),  # vtest.avi: no padding needed
        (667, 1000, 512, (342, 512), (352, 512)),  # pose.jpg at a larger max dimension
        (1, 512, 256, (1, 256), (32, 256)),  # 0.5 rounds up, as JavaScript's Math.round
        (500, 500, 256, (256, 256), (256, 256)),  # square: the "else" branch
    ],
)
def test_multipose_input_size_follows_tfjs(
    height: int, width: int, max_dimension: int, resized: tuple[int, int], padded: tuple[int, int]
) -> None:
    box = multipose_size(height, width, max_dimension)
    assert (box.resized, box.padded) == (resized, padded)
    assert padded[0] % 32 == 0 and padded[1] % 32 == 0


def test_max_dimension_must_be_a_multiple_of_32() -> None:
    assert MoveNetOptions(multipose_max_dimension=320).multipose_max_dimension == 320
    with pytest.raises(ValueError, match=r"multiple of 32, e\.g\. 256 or 288"):
        MoveNetOptions(multipose_max_dimension=270)


def _scalar_bilinear(image: np.ndarray, y: float, x: float) -> np.ndarray:
    """tfjs's CPU kernel for one position, written out the slow way."""
    h, w = image.shape[:2]
    top, bottom = max(0, math.floor(y)), min(h - 1, math.ceil(y))
    left, right = max(0, math.floor(x)), min(w - 1, math.ceil(x))
    y_lerp, x_lerp = y - top, x - left
    px = image.astype(np.float64)
    upper = px[top, left] + (px[top, right] - px[top, left]) * x_lerp
    lower = px[bottom, left] + (px[bottom, right] - px[bottom, left]) * x_lerp
    result: np.ndarray = (upper + (lower - upper) * y_lerp).astype(np.float32)
    return result


def test_resize_and_pad_matches_tfjs_resize_bilinear_and_pad() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)
    box = Letterbox(resized=(13, 20), padded=(32, 32))
    tensor = resize_and_pad(image, box, "int32")
    assert tensor.shape == (1, 32, 32, 3) and tensor.dtype == np.int32
    for r in range(13):
        for c in range(20):
            expected = _scalar_bilinear(image, 23 / 13 * r, 37 / 20 * c).astype(np.int32)
            assert (tensor[0, r, c] == expected).all(), (r, c)
    assert not tensor[0, 13:].any() and not tensor[0, :, 20:].any()


def test_crop_and_resize_matches_tfjs_and_fills_outside_with_zero() -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    region = np.array([-0.25, 0.1, 0.9, 1.2])  # above and right of the frame
    tensor = crop_and_resize(image, region, (9, 11), "int32")[0]
    y1, x1, y2, x2 = (float(v) for v in region.astype(np.float32))
    for r in range(9):
        y = y1 * 29 + r * (y2 - y1) * 29 / 8
        for c in range(11):
            x = x1 * 39 + c * (x2 - x1) * 39 / 10
            if not (0 <= y <= 29 and 0 <= x <= 39):
                assert not tensor[r, c].any(), (r, c)
                continue
            assert (tensor[r, c] == _scalar_bilinear(image, y, x).astype(np.int32)).all(), (r, c)
    assert not tensor[0].any(), "the first row lies above the frame"


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32"])
def test_every_input_type_gets_the_same_truncated_pixels(dtype: str) -> None:
    image = np.random.default_rng(5).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    region = np.array([0.1, 0.2, 0.7, 0.9])
    reference = crop_and_resize(image, region, (16, 16), "int32")
    tensor = crop_and_resize(image, region, (16, 16), dtype)  # type: ignore[arg-type]
    assert tensor.dtype == np.dtype(dtype)
    assert (tensor.astype(np.int32) == reference).all()
    assert reference.min() >= 0 and reference.max() <= 255


def test_a_uint8_input_file_gives_the_same_poses_as_the_int32_one(models_dir: Path, tmp_path: Path) -> None:
    """Google's own .tflite files take uint8; the converted ones int32. Same network, same pixels."""
    from posed.config.schema import ModelConfig
    from posed.estimator import open_estimator
    from posed.plugins import load_backend
    from posed.testing.inputs import load_rgb
    from posed.tflite_file import pack_model, unpack_model
    from tests.conftest import CONFORMANCE

    source = models_dir / LIGHTNING
    data = source.read_bytes()
    model = unpack_model(data, source)
    graph = model.subgraphs[0]
    graph.tensors[graph.inputs[0]].type = 3  # UINT8; the graph's first op is a Cast to float
    variant = tmp_path / "movenet_lightning_uint8.tflite"
    variant.write_bytes(pack_model(model, len(data)))
    assert read_model_info(variant).inputs[0].dtype == "uint8"
    image = load_rgb(CONFORMANCE / "tfjs-pose-detection" / "pose.jpg")
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite"})
    found = []
    for path in (source, variant):
        with open_estimator(ModelConfig(path=path), backend, config, model_dirs=[]) as estimator:
            found.append(estimator.estimate(image, 0.0))
    assert len(found[0]) == len(found[1]) == 1
    np.testing.assert_allclose(found[0][0].keypoints, found[1][0].keypoints, atol=1e-3)


# --- smart cropping -----------------------------------------------------------------------------


def test_first_frame_is_the_centred_square_and_a_lost_person_the_padded_frame() -> None:
    np.testing.assert_allclose(initial_region(200, 100, first_frame=True), [0.0, 0.25, 1.0, 0.75])
    np.testing.assert_allclose(initial_region(200, 100, first_frame=False), [-0.5, 0.0, 1.5, 1.0])
    np.testing.assert_allclose(initial_region(100, 200, first_frame=True), [0.25, 0.0, 0.75, 1.0])
    np.testing.assert_allclose(initial_region(100, 200, first_frame=False), [0.0, -0.5, 1.0, 1.5])


def _pose(points: dict[int, tuple[float, float]], score: float = 0.9) -> np.ndarray:
    keypoints = np.zeros((17, 3))
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, score)
    return keypoints


# shoulders 5, 6; hips 11, 12; ankles 15, 16 (COCO order)
STANDING = {
    5: (0.45, 0.3),
    6: (0.55, 0.3),
    11: (0.47, 0.5),
    12: (0.53, 0.5),
    15: (0.46, 0.8),
    16: (0.54, 0.8),
}


def test_next_crop_is_a_square_around_the_hips_sized_by_torso_and_body() -> None:
    width, height = 1000, 500
    region = next_region(_pose(STANDING), width, height)
    # hips centre (500, 250) px; torso reaches 100 px up (x 1.9 = 190), ankles 150 px down (x 1.2 = 180)
    half = 190.0
    expected = [(250 - half) / height, (500 - half) / width, (250 + half) / height, (500 + half) / width]
    np.testing.assert_allclose(region, expected)
    assert math.isclose((region[2] - region[0]) * height, (region[3] - region[1]) * width)  # square in pixels


def test_weak_torso_or_oversized_crop_falls_back_to_the_whole_frame() -> None:
    whole = initial_region(1000, 500, first_frame=False)
    no_hips = _pose(STANDING)
    no_hips[[11, 12], 2] = 0.2  # placed where they belong, but not above MIN_CROP_KEYPOINT_SCORE
    assert not torso_visible(no_hips[:, 2])
    np.testing.assert_allclose(next_region(no_hips, 1000, 500), whole)
    huge = _pose({5: (0.5, 0.0), 6: (0.5, 0.0), 11: (0.5, 0.95), 12: (0.5, 0.95)})
    np.testing.assert_allclose(next_region(huge, 500, 1000), initial_region(500, 1000, first_frame=False))


def test_crop_corners_are_low_pass_filtered() -> None:
    smoother = RegionFilter()
    first = smoother.apply(np.array([0.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(first, [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(smoother.apply(np.array([1.0, 1.0, 2.0, 2.0])), [0.9, 0.9, 1.9, 1.9])
    smoother.reset()
    np.testing.assert_allclose(smoother.apply(np.array([0.5, 0.5, 1.0, 1.0])), [0.5, 0.5, 1.0, 1.0])


# --- decoding -----------------------------------------------------------------------------------


def test_single_pose_maps_the_crop_back_and_scores_confident_keypoints() -> None:
    raw = np.zeros((1, 1, 17, 3), np.float32)
    raw[0, 0, :, 0] = 0.5  # y
    raw[0, 0, :, 1] = 0.25  # x
    raw[0, 0, :, 2] = 0.1
    raw[0, 0, :4, 2] = [0.9, 0.7, 0.5, 0.3]
    decoded = single_pose(raw, np.array([0.2, -0.1, 0.6, 0.7]))
    np.testing.assert_allclose(decoded.keypoints[0, 0], [-0.1 + 0.25 * 0.8, 0.2 + 0.5 * 0.4, 0.9], rtol=1e-6)
    assert math.isclose(decoded.scores[0], (0.9 + 0.7 + 0.5 + 0.3) / 4, rel_tol=1e-6)
    assert single_pose(np.zeros((1, 1, 17, 3)), np.array([0, 0, 1, 1.0])).scores[0] == 0.0


def test_multipose_drops_weak_people_and_maps_keypoints_and_boxes_through_the_letterbox() -> None:
    raw = np.zeros((1, 6, 56), np.float32)
    raw[0, 0, 0:51:3] = 0.5  # y of every keypoint
    raw[0, 0, 1:51:3] = 0.4  # x
    raw[0, 0, 2:51:3] = 0.8
    raw[0, 0, 51:56] = [0.1, 0.2, 0.8, 0.6, 0.7]
    raw[0, 1, 51:56] = [0.1, 0.2, 0.8, 0.6, 0.24]  # below the default min_pose_score 0.25
    box = multipose_size(1278, 1920, 256)  # resized 170 high, padded to 192
    decoded = multi_pose(raw, box.scale, 0.25)
    assert len(decoded) == 1 and math.isclose(decoded.scores[0], 0.7, rel_tol=1e-6)
    np.testing.assert_allclose(decoded.keypoints[0, 0], [0.4, 0.5 * 192 / 170, 0.8], rtol=1e-6)
    np.testing.assert_allclose(decoded.boxes[0], [0.2, 0.1 * 192 / 170, 0.6, 0.8 * 192 / 170], rtol=1e-6)


# --- keypoint smoothing -------------------------------------------------------------------------


def test_the_first_frame_at_time_zero_does_not_start_the_filter() -> None:
    smoother = KeypointSmoother()
    points = np.array([[0.5, 0.5, 0.9]])
    np.testing.assert_array_equal(smoother.apply(points, 0), points)
    moved = np.array([[0.6, 0.5, 0.9]])
    np.testing.assert_array_equal(smoother.apply(moved, 200_000), moved)  # this one starts it
    later = smoother.apply(np.array([[0.7, 0.5, 0.8]]), 400_000)
    assert 0.6 < later[0, 0] < 0.7 and later[0, 1] == 0.5 and later[0, 2] == 0.8


def test_small_jitter_is_damped_more_than_a_real_move() -> None:
    def step(delta: float) -> float:
        smoother = KeypointSmoother()
        smoother.apply(np.array([[0.5, 0.5, 1.0]]), 33_333)
        return float(smoother.apply(np.array([[0.5 + delta, 0.5, 1.0]]), 66_666)[0, 0]) - 0.5

    assert step(0.002) / 0.002 < step(0.2) / 0.2
    assert 0 < step(0.002) < 0.002


def test_a_repeated_timestamp_passes_the_value_through_unchanged() -> None:
    smoother = KeypointSmoother()
    smoother.apply(np.array([[0.5, 0.5, 1.0]]), 33_333)
    smoother.apply(np.array([[0.6, 0.5, 1.0]]), 66_666)
    same = np.array([[0.9, 0.1, 1.0]])
    np.testing.assert_array_equal(smoother.apply(same, 66_666), same)
