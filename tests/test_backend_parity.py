"""LiteRT and OpenVINO agree on the raw outputs of every fixed-size model, on real images.

MoveNet MultiPose has a dynamic input size; tests/test_movenet_conformance.py runs it on both
backends at the sizes posed picks.

Inputs: the whole image resized to the model input; BlazePose detector scaled to [-1, 1],
landmarks to [0, 1]; PoseNet raw uint8. Reference: LiteRT with XNNPACK (its default).
OpenVINO runs on the CPU at its default posed precision (f32).

Tolerances, and what was measured (4 images: pose.jpg, test_couple.jpg, a vtest.avi frame,
a pose_squats.mp4 frame; OpenVINO 2026.4, LiteRT 2.3, on a CPU with AVX-512 VNNI; a CPU without
an int8 dot-product instruction is held to its own measured figures, below):

* Float models (BlazePose detector, landmarks lite/full/heavy): max |a - b| <=
  1e-3 x max(range of the LiteRT output, max |LiteRT output|, 1). Measured worst:
  6.1e-4 (heavy, pose-presence score on the vtest frame); landmarks <= 3.4e-5,
  segmentation logits <= 3.0e-4, heatmaps <= 2.1e-5.
* PoseNet uint8 outputs, in quantization steps (mean / p99 / max allowed; measured worst):
    heatmaps       1.0 / 4  / 10   (0.56 / 3  / 7)
    short offsets  4.5 / 24 / 80   (3.1  / 17 / 57)
    mid offsets    0.5 / 2  / 6    (0.22 / 1  / 4)
  Short offsets far from any person are large, clipped values that every kernel library
  rounds its own way: LiteRT's own builtin kernels differ from its XNNPACK ones by up to
  250 steps there (p99 74), far more than OpenVINO does. Where the reference heatmap sees
  a keypoint (p > 0.5) the outputs are close: heatmaps within 4 steps (measured 3) and
  short offsets within 32 steps = 2.5 px (measured 27).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posed.backend import InferenceSession
from posed.plugins import load_backend
from posed.testing.compare import Tolerance, compare_outputs
from posed.testing.cpu_features import NO_VNNI_POSENET_TOLERANCES, has_int8_dot_product
from posed.testing.inputs import DETECTOR_RANGE, UNIT_RANGE, image_input, load_rgb
from tests.conftest import CONFORMANCE, MODELS

IMAGES = (CONFORMANCE / "tfjs-pose-detection" / "pose.jpg", CONFORMANCE / "coral-posenet" / "test_couple.jpg")
FLOAT_TOLERANCE = Tolerance(float_rel=1e-3)
# Held to the figures measured on this kind of CPU (posed/testing/cpu_features.py says why).
if has_int8_dot_product():
    POSENET_TOLERANCES = {
        "float_heatmaps": Tolerance(quant_mean_steps=1.0, quant_p99_steps=4, quant_max_steps=10),
        "float_short_offsets": Tolerance(quant_mean_steps=4.5, quant_p99_steps=24, quant_max_steps=80),
        "float_mid_offsets": Tolerance(quant_mean_steps=0.5, quant_p99_steps=2, quant_max_steps=6),
    }
    KEYPOINT_HEATMAP_STEPS = 4
    KEYPOINT_SHORT_OFFSET_STEPS = 32
else:  # measured worst over 2 images x 3 sizes: 1.81/13/32, 12/80/253, 1.06/6/18; cells 9 and 61
    POSENET_TOLERANCES = NO_VNNI_POSENET_TOLERANCES
    KEYPOINT_HEATMAP_STEPS = 12
    KEYPOINT_SHORT_OFFSET_STEPS = 80
DYNAMIC_INPUT = ("movenet_multipose_lightning_float16.tflite",)
ALL_FILES = sorted(p.name for p in MODELS.glob("*.tflite"))
MODEL_FILES = [name for name in ALL_FILES if name not in DYNAMIC_INPUT]


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    return [load_rgb(path) for path in IMAGES]


@pytest.fixture(scope="module", params=MODEL_FILES)
def sessions(request: pytest.FixtureRequest) -> Iterator[tuple[Path, InferenceSession, InferenceSession]]:
    """Both backends' sessions for one model; each model is loaded once for the module."""
    path = MODELS / request.param
    tflite, openvino = load_backend("tflite"), load_backend("openvino")
    with (
        tflite.open_session(path, tflite.config_model.model_validate({"type": "tflite"})) as reference,
        openvino.open_session(
            path, openvino.config_model.model_validate({"type": "openvino", "device": "CPU"})
        ) as candidate,
    ):
        yield path, reference, candidate


def test_every_shared_model_is_covered() -> None:
    """Guards: the glob finds the shared models (BlazePose 4, PoseNet 3, MoveNet 3), none left out."""
    assert len(ALL_FILES) == 10
    assert len(MODEL_FILES) == 9


def test_raw_outputs_agree(
    sessions: tuple[Path, InferenceSession, InferenceSession], images: list[np.ndarray]
) -> None:
    path, reference, candidate = sessions
    assert [(o.name, o.shape, o.dtype) for o in candidate.outputs] == [
        (o.name, o.shape, o.dtype) for o in reference.outputs
    ]
    quantized = reference.inputs[0].dtype == "uint8"
    float_range = DETECTOR_RANGE if path.name == "pose_detection.tflite" else UNIT_RANGE
    tolerances = POSENET_TOLERANCES if quantized else FLOAT_TOLERANCE
    failures = []
    for image_path, image in zip(IMAGES, images, strict=True):
        inputs = (image_input(reference.inputs[0], image, float_range),)
        expected = tuple(a.copy() for a in reference.run(*inputs))
        actual = candidate.run(*inputs)
        diffs = compare_outputs(reference.outputs, expected, actual, tolerances)
        failures += [f"{image_path.name}: {d}" for d in diffs if not d.ok]
        if quantized:
            failures += _keypoint_cells(reference, expected, actual, image_path.name)
    assert not failures, f"{path.name}: " + "\n".join(failures)


def _keypoint_cells(
    session: InferenceSession, expected: tuple[np.ndarray, ...], actual: tuple[np.ndarray, ...], label: str
) -> list[str]:
    """Where LiteRT's heatmap sees a keypoint, OpenVINO's heatmap and short offsets are close."""
    heat_spec = session.outputs[0]
    assert heat_spec.name == "float_heatmaps" and heat_spec.quantization is not None
    logits = (
        expected[0].astype(np.float64) - heat_spec.quantization.zero_point
    ) * heat_spec.quantization.scale
    seen = logits > 0.0  # sigmoid > 0.5
    assert seen.any(), f"{label}: no keypoint in the reference heatmap; the test image proves nothing"
    heat_diff = np.abs(expected[0].astype(int) - actual[0].astype(int))[seen].max()
    both = np.concatenate([seen, seen], axis=-1)  # short offsets: 17 dy channels, then 17 dx
    short_diff = np.abs(expected[1].astype(int) - actual[1].astype(int))[both].max()
    problems = []
    if heat_diff > KEYPOINT_HEATMAP_STEPS:
        problems.append(f"{label}: heatmap at keypoints differs by {heat_diff} steps")
    if short_diff > KEYPOINT_SHORT_OFFSET_STEPS:
        problems.append(f"{label}: short offsets at keypoints differ by {short_diff} steps")
    return problems
