"""PoseNet against Coral's reference decodings of test_couple.jpg, on both backends.

Coral's tolerance: same number of poses; keypoints with reference score >= 0.5
within 4 px; keypoint scores within 0.1; pose scores within 0.05. Coordinates
are compared in model-input pixels, as the references are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from posed.cameras.media_files import read_image
from posed.keypoints import COCO_17
from posed.model_files import ResolvedModel
from posed.plugins import load_backend
from posed.posenet import quantfix
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.layout import detect_layout
from posed.posenet.options import PoseNetOptions
from posed.tflite_file import read_model_info
from tests.conftest import CONFORMANCE, MODELS

SIZES = ("353_481", "481_641", "721_1281")
BACKENDS = ("tflite", "openvino")
CORAL_SETTINGS = PoseNetOptions(max_pose_detections=10, score_threshold=0.2, nms_radius=10)


@dataclass(frozen=True)
class ReferencePose:
    score: float
    keypoints: np.ndarray  # (17, 3): x, y, score in model-input pixels


def read_reference(size: str) -> list[ReferencePose]:
    rows: dict[int, list[dict[str, str]]] = {}
    path = CONFORMANCE / "coral-posenet" / f"posenet_mobilenet_v1_075_{size}_reference.csv"
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(int(row["pose_id"]), []).append(row)
    poses = []
    for pose_id in sorted(rows):
        kps = rows[pose_id]
        assert [r["keypoint_label"].lower() for r in kps] == list(COCO_17)
        points = np.array(
            [[float(r["keypoint_x"]), float(r["keypoint_y"]), float(r["keypoint_score"])] for r in kps]
        )
        poses.append(ReferencePose(float(kps[0]["pose_score"]), points))
    return poses


@pytest.fixture(scope="module")
def couple(shared: Path) -> np.ndarray:
    return read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg")


@pytest.fixture(scope="module")
def corrected_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corrected")


@pytest.fixture(scope="module", params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_posenet(
    backend_name: str, size: str, corrected_dir: Path, options: PoseNetOptions = CORAL_SETTINGS
) -> PoseNetEstimator:
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    model = ResolvedModel(
        f"posenet-{size}", "posenet", {"main": MODELS / f"posenet_mobilenet_v1_075_{size}_quant.tflite"}
    )
    return PoseNetEstimator.open(model, options, backend, config, corrected_dir=corrected_dir)


@pytest.fixture(scope="module", params=SIZES)
def estimator(
    request: pytest.FixtureRequest, backend_name: str, corrected_dir: Path
) -> Iterator[PoseNetEstimator]:
    with open_posenet(backend_name, str(request.param), corrected_dir) as est:
        yield est


def test_matches_coral_reference(estimator: PoseNetEstimator, couple: np.ndarray) -> None:
    layout = estimator.layout
    size = f"{layout.input_height}_{layout.input_width}"
    reference = read_reference(size)
    poses = estimator.estimate(couple, None)
    assert len(poses) == len(reference), [p.score for p in poses]
    height, width = couple.shape[:2]
    to_model = np.array([layout.input_width / width, layout.input_height / height])
    worst_px = worst_kp_score = worst_pose_score = 0.0
    for pose, ref in zip(poses, reference, strict=True):
        assert pose.names == COCO_17
        points = pose.keypoints[:, :2] * to_model
        sure = ref.keypoints[:, 2] >= 0.5
        assert sure.sum() >= 10  # the comparison really covers the pose
        distance = np.hypot(*(points - ref.keypoints[:, :2]).T)
        worst_px = max(worst_px, float(distance[sure].max()))
        worst_kp_score = max(worst_kp_score, float(np.abs(pose.keypoints[:, 2] - ref.keypoints[:, 2]).max()))
        worst_pose_score = max(worst_pose_score, abs(pose.score - ref.score))
    print(f"{size} on {estimator.devices}: max {worst_px:.2f} px, keypoint score {worst_kp_score:.3f}, "
          f"pose score {worst_pose_score:.4f}")  # fmt: skip
    assert worst_px <= 4.0
    assert worst_kp_score <= 0.1
    assert worst_pose_score <= 0.05


def test_uncorrected_file_is_worse(backend_name: str, couple: np.ndarray, tmp_path: Path) -> None:
    """Without the quantization fix the same decoder misses Coral's keypoints (why the fix exists)."""
    src = MODELS / "posenet_mobilenet_v1_075_481_641_quant.tflite"
    fixed = quantfix.write_corrected_copy(src, tmp_path / "fixed.tflite")
    assert quantfix.corrected_model(fixed) == fixed  # a correct file is used as it is
    with (
        open_posenet(backend_name, "481_641", tmp_path) as corrected,
        _open_raw(backend_name, src) as raw,
    ):
        good = corrected.decode(corrected.infer(couple))
        bad = raw.decode(raw.infer(couple))
    reference = read_reference("481_641")
    assert len(good) == len(reference)

    def worst(decoded: np.ndarray) -> float:
        """Largest distance to Coral over all keypoints, confident or not."""
        return max(
            float(np.hypot(*(kps[:, :2] - ref.keypoints[:, :2]).T).max())
            for kps, ref in zip(decoded, reference, strict=False)
        )

    # Measured: about 1.2 px with the fix, 11.5 px without (clipped short offsets).
    assert worst(good.keypoints) <= 4.0
    assert worst(bad.keypoints) > 8.0


def _open_raw(backend_name: str, path: Path) -> PoseNetEstimator:
    """An estimator on the flawed file as it is, bypassing the correction."""
    backend = load_backend(backend_name)
    config = backend.config_model.model_validate({"type": backend_name})
    info = read_model_info(path)
    session = backend.open_session(path, config)
    return PoseNetEstimator(
        "raw", session, detect_layout(info.inputs, info.outputs), info.outputs, CORAL_SETTINGS
    )
