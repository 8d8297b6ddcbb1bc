"""Recognising PoseNet layouts from tensor names and shapes, and refusing everything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posed.backend import Quantization, TensorSpec
from posed.errors import ModelError
from posed.model_files import ResolvedModel
from posed.plugins import load_backend
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.layout import detect_layout
from posed.posenet.options import PoseNetOptions
from posed.posenet.preprocess import RESNET_MEAN, InputBuilder
from posed.tflite_file import read_model_info
from tests.conftest import MODELS


def spec(name: str, *shape: int, dtype: str = "float32") -> TensorSpec:
    return TensorSpec(name, tuple(shape), dtype)


def tfjs_outputs(prefix: str, grid: tuple[int, int]) -> list[TensorSpec]:
    """TF Lite's float PoseNet output names and shapes (in the file's own order)."""
    h, w = grid
    return [
        spec(f"{prefix}/heatmap_2/BiasAdd", 1, h, w, 17),
        spec(f"{prefix}/offset_2/BiasAdd", 1, h, w, 34),
        spec(f"{prefix}/displacement_fwd_2/BiasAdd", 1, h, w, 32),
        spec(f"{prefix}/displacement_bwd_2/BiasAdd", 1, h, w, 32),
    ]


@pytest.mark.parametrize(
    ("size", "grid"), [("353_481", (23, 31)), ("481_641", (31, 41)), ("721_1281", (46, 81))]
)
def test_coral_files(shared: Path, size: str, grid: tuple[int, int]) -> None:
    info = read_model_info(MODELS / f"posenet_mobilenet_v1_075_{size}_quant.tflite")
    layout = detect_layout(info.inputs, info.outputs, custom_ops=info.custom_ops)
    height, width = (int(v) for v in size.split("_"))
    assert (layout.kind, layout.architecture, layout.input_mode) == ("coral", "mobilenet_v1", "uint8")
    assert (layout.input_height, layout.input_width, layout.stride) == (height, width, 16)
    assert (layout.grid_height, layout.grid_width) == grid
    assert layout.heatmaps == "float_heatmaps"
    assert layout.short_offsets == "float_short_offsets"
    assert layout.mid_offsets == ("float_mid_offsets",)


def test_tflite_float_posenet_257() -> None:
    """posenet_mobilenet_v1_100_257x257_multi_kpt_stripped.tflite, described by its tensors."""
    outputs = tfjs_outputs("MobilenetV1", (9, 9))
    shuffled = [outputs[3], outputs[1], outputs[2], outputs[0]]  # found by name, not position
    layout = detect_layout([spec("sub_2", 1, 257, 257, 3)], shuffled)
    assert (layout.kind, layout.architecture, layout.input_mode) == ("tfjs", "mobilenet_v1", "float_unit")
    assert (layout.stride, layout.grid_height, layout.grid_width) == (32, 9, 9)
    assert layout.heatmaps == "MobilenetV1/heatmap_2/BiasAdd"
    assert layout.short_offsets == "MobilenetV1/offset_2/BiasAdd"
    assert layout.mid_offsets == (
        "MobilenetV1/displacement_fwd_2/BiasAdd",
        "MobilenetV1/displacement_bwd_2/BiasAdd",
    )


@pytest.mark.parametrize(("size", "grid", "stride"), [((481, 641), (31, 41), 16), ((480, 640), (15, 20), 32)])
def test_resnet50_exports(size: tuple[int, int], grid: tuple[int, int], stride: int) -> None:
    layout = detect_layout([spec("image", 1, *size, 3)], tfjs_outputs("resnet_v1_50", grid))
    assert (layout.kind, layout.architecture, layout.input_mode) == ("tfjs", "resnet50", "float_resnet")
    assert layout.stride == stride


def test_input_builder_modes() -> None:
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    base = detect_layout([spec("in", 1, 30, 40, 3)], tfjs_outputs("MobilenetV1", (2, 3)))
    unit = InputBuilder(base)(image)
    assert unit.dtype == np.float32 and unit.shape == (1, 30, 40, 3)
    np.testing.assert_allclose(unit[0], image / 127.5 - 1, atol=1e-6)
    resnet = detect_layout([spec("in", 1, 30, 40, 3)], tfjs_outputs("resnet_v1_50", (2, 3)))
    np.testing.assert_allclose(InputBuilder(resnet)(image)[0], image + RESNET_MEAN, atol=1e-4)
    int8 = detect_layout([spec("in", 1, 30, 40, 3, dtype="int8")], tfjs_outputs("MobilenetV1", (2, 3)))
    np.testing.assert_array_equal(InputBuilder(int8)(image)[0], image.astype(np.int16) - 128)


def pil_nearest_indices(size_in: int, size_out: int) -> np.ndarray:
    """Source pixels PIL's resize(NEAREST) reads: it starts at half a step and adds the step
    (in input pixels) once per output pixel, in double precision, then truncates."""
    step = size_in / size_out
    positions = np.full(size_out, step)
    positions[0] = step * 0.5
    return np.add.accumulate(positions).astype(np.int64)


@pytest.mark.parametrize("size", ["353_481", "481_641", "721_1281"])
def test_resize_picks_the_pixels_pil_nearest_picks(shared: Path, size: str) -> None:
    """Coral's references were made with PIL's NEAREST; the resize must read the same pixels
    (including the rows where rounding decides, e.g. row 176 of 1278 -> 353)."""
    info = read_model_info(MODELS / f"posenet_mobilenet_v1_075_{size}_quant.tflite")
    layout = detect_layout(info.inputs, info.outputs)
    image = np.random.default_rng(1).integers(0, 256, (1278, 1920, 3), dtype=np.uint8)
    resized = InputBuilder(layout)(image)[0]
    rows = pil_nearest_indices(1278, layout.input_height)
    cols = pil_nearest_indices(1920, layout.input_width)
    np.testing.assert_array_equal(resized, image[rows][:, cols])


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (
            [spec("input_1", 1, 224, 224, 3)],
            [spec("Identity", 1, 2254, 12), spec("Identity_1", 1, 2254, 1)],
            "not a PoseNet model",
        ),
        (
            [spec("in", 1, 257, 257, 3)],
            [spec("a", 1, 9, 9, 17), spec("b", 1, 9, 9, 34), spec("c", 1, 9, 9, 32), spec("d", 1, 9, 9, 32)],
            "displacement_fwd",
        ),
        (
            [spec("in", 1, 257, 257, 3)],
            [spec("h", 1, 9, 9, 17), spec("s", 1, 9, 9, 34), spec("m", 1, 12, 9, 64)],
            "one grid",
        ),
        (
            [spec("in", 1, 400, 400, 3)],
            [spec("h", 1, 9, 9, 17), spec("s", 1, 9, 9, 34), spec("m", 1, 9, 9, 64)],
            "stride",
        ),
        (
            [spec("in", 1, 257, 257, 3)],
            [spec("h", 1, 9, 9, 17), spec("s", 1, 9, 9, 34)],
            "expected heatmaps",
        ),
        ([spec("in", 1, 257, 257, 1)], tfjs_outputs("MobilenetV1", (9, 9)), "image input"),
    ],
)
def test_refuses_other_models(inputs: list[TensorSpec], outputs: list[TensorSpec], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        detect_layout(inputs, outputs)


def test_refuses_coral_decoder_op() -> None:
    outputs = [spec("poses", 1, 10, 17, 2), spec("keypoint_scores", 1, 10, 17)]
    with pytest.raises(ModelError, match="PosenetDecoderOp"):
        detect_layout(
            [spec("sub_2", 1, 481, 641, 3, dtype="uint8")], outputs, custom_ops=["PosenetDecoderOp"]
        )


@pytest.mark.parametrize("name", ["pose_detection.tflite", "pose_landmark_lite.tflite"])
def test_estimator_refuses_non_posenet_file(shared: Path, tmp_path: Path, name: str) -> None:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite"})
    model = ResolvedModel("wrong", "posenet", {"main": MODELS / name})
    with pytest.raises(ModelError, match=rf"{name}: not a PoseNet model"):
        PoseNetEstimator.open(model, PoseNetOptions(), backend, config, corrected_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing was "corrected" on the way


def test_quantized_specs_keep_quantization() -> None:
    """A quantized tfjs-layout model is still recognised (its quantization is used when dequantizing)."""
    q = Quantization(0.05, 128)
    outputs = [TensorSpec(s.name, s.shape, "uint8", q) for s in tfjs_outputs("MobilenetV1", (9, 9))]
    layout = detect_layout([spec("in", 1, 257, 257, 3, dtype="uint8")], outputs)
    assert (layout.kind, layout.input_mode) == ("tfjs", "uint8")
