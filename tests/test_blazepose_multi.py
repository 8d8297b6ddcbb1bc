"""BlazePose for several people (model.blazepose.num_poses > 1), on real images and video.

Measured on test_couple.jpg (1920x1278, two people side by side): both detectors find
both; MediaPipe Tasks 1.2.2 with num_poses=5 finds one, because its
detector sees the couple as one box between them; posed runs it again with the person
found blanked out. On vtest.avi with num_poses 5 (docs/people.md): blazepose 0.70 people per
frame, posenet 3.54.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from posed.backend import Backend, BackendConfig
from posed.blazepose.multi import MultiBlazePoseEstimator, _overlaps
from posed.cli.estimate import read_image
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.estimator import open_estimator
from posed.keypoints import BLAZEPOSE_33, COCO_17
from posed.mqtt import payloads
from posed.mqtt.schemas import load_schema
from posed.plugins import load_backend
from posed.tracking.ids import IdSource
from posed.types import Pose
from tests.conftest import CONFORMANCE, MEDIA, MODELS, POSED
from tests.test_tracking_video import track, video

COUPLE = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
CORAL = CONFORMANCE / "coral-posenet" / "posenet_mobilenet_v1_075_481_641_reference.csv"
SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
DETECTORS = ["blazepose", "posenet"]
# Body joints both keypoint sets name; a keypoint on the wrong person is hundreds of px off.
JOINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee")
NEAR_PX = 60.0


def backend_pair(name: str = "tflite") -> tuple[Backend, BackendConfig]:
    backend = load_backend(name)
    return backend, backend.config_model.model_validate({"type": name})


def multi(backend: str = "tflite", ids: IdSource | None = None, **options: object) -> MultiBlazePoseEstimator:
    model = ModelConfig(name="blazepose-full", blazepose=BlazePoseOptions.model_validate(options))
    source = IdSource() if ids is None else ids
    estimator = open_estimator(model, *backend_pair(backend), model_dirs=[MODELS], ids=source)
    assert isinstance(estimator, MultiBlazePoseEstimator)
    return estimator


def coral_people() -> list[dict[str, np.ndarray]]:
    """Coral's two best decoded poses of test_couple.jpg, joints in image pixels."""
    image = read_image(COUPLE)
    sx, sy = image.shape[1] / 641, image.shape[0] / 481  # the CSV is in model-input pixels
    people: dict[int, tuple[float, dict[str, np.ndarray]]] = {}
    with CORAL.open() as file:
        for row in csv.DictReader(file):
            _score, joints = people.setdefault(int(row["pose_id"]), (float(row["pose_score"]), {}))
            xy = np.array([float(row["keypoint_x"]) * sx, float(row["keypoint_y"]) * sy])
            joints[row["keypoint_label"].lower()] = xy
    best = sorted(people.values(), key=lambda item: -item[0])[:2]
    return [joints for _, joints in best]


def owner(pose_joints: dict[str, np.ndarray], people: list[dict[str, np.ndarray]]) -> int:
    """Which reference person every joint of the pose lies on (fails if they disagree or none is near)."""
    owners = set()
    for joint in JOINTS:
        distances = [float(np.hypot(*(pose_joints[joint] - person[joint]))) for person in people]
        assert min(distances) <= NEAR_PX, f"{joint} is {min(distances):.0f} px from either person"
        owners.add(int(np.argmin(distances)))
    assert len(owners) == 1, "the joints of one pose lie on two people"
    return owners.pop()


def joints_of(keypoints: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {k["name"]: np.array([k["x"], k["y"]]) for k in keypoints}


def test_cli_num_poses_2_finds_both_people_on_test_couple(shared: Path) -> None:
    result = subprocess.run(
        [
            *POSED,
            "estimate",
            "--model",
            "blazepose-full",
            "--model-dir",
            str(MODELS),
            "--num-poses",
            "2",
            str(COUPLE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (image,) = json.loads(result.stdout)
    poses = image["poses"]
    assert len(poses) == 2
    assert all(len(p["keypoints"]) == 33 and len(p["keypoints3d"]) == 33 for p in poses)
    assert len({p["id"] for p in poses}) == 2 and all(isinstance(p["id"], int) for p in poses)
    people = coral_people()
    assert sorted(owner(joints_of(p["keypoints"]), people) for p in poses) == [0, 1]


@pytest.mark.parametrize("backend", ["tflite", "openvino"])
@pytest.mark.parametrize("detector", DETECTORS)
def test_each_detector_finds_both_people(
    shared: Path, private_cache: Path, detector: str, backend: str
) -> None:
    image = read_image(COUPLE)
    with multi(backend, num_poses=3, detector=detector) as estimator:
        poses = estimator.estimate(image, None)
        again = estimator.estimate(image, None)
    assert len(poses) == 2  # three allowed, two there: nobody counted twice
    people = coral_people()
    joints = [{name: pose.keypoints[BLAZEPOSE_33.index(name), :2] for name in JOINTS} for pose in poses]
    assert sorted(owner(j, people) for j in joints) == [0, 1]
    assert all(pose.keypoints3d is not None and pose.keypoints3d.shape == (33, 3) for pose in poses)
    # Still images stand alone: new ids every time, never one twice.
    ids = [p.id for p in poses + again]
    assert len(set(ids)) == 4


@pytest.mark.parametrize("detector", DETECTORS)
def test_one_person_is_counted_once_and_keeps_one_id(
    shared: Path, private_cache: Path, detector: str
) -> None:
    # Three lanes and one squatter: the free lanes must not pick the squatter up again.
    ids = IdSource()
    with multi(num_poses=3, ids=ids, detector=detector, detection_interval=0.0) as estimator:
        poses = track(estimator, video(SQUATS))
        runs = estimator.detector_runs
    assert all(len(frame) == 1 for frame in poses.values())
    assert len({p.id for frame in poses.values() for p in frame}) == 1
    # Found again by the detector, the squatter is recognised as tracked before any lane
    # takes them on as someone new: not one more id was handed out.
    assert ids.take() == 2
    assert runs >= 60  # interval 0: it looked for more people on (nearly) every frame


def test_detector_runs_at_a_bounded_rate(shared: Path) -> None:
    # 65 frames, 5 fps: 13 s. One person tracked and two lanes free: one detection per second.
    with multi(num_poses=3, detection_interval=1.0) as estimator:
        poses = track(estimator, video(SQUATS))
        bounded = estimator.detector_runs
    assert all(len(frame) == 1 for frame in poses.values())
    assert 10 <= bounded <= 15
    # Every lane taken: the detector does not run at all once the person is found.
    with multi(num_poses=1, detector="posenet") as estimator:
        track(estimator, video(SQUATS))
        assert estimator.detector_runs == 1


def test_posenet_finds_more_people_far_away_than_blazepose(shared: Path, private_cache: Path) -> None:
    counts = {}
    for detector in DETECTORS:
        with multi(num_poses=5, detector=detector) as estimator:
            poses = track(estimator, video(MEDIA / "vtest.avi", 0, 149))
        ids = [p.id for frame in poses.values() for p in frame]
        assert len(set(ids)) <= len(ids)
        for frame in poses.values():
            assert len({p.id for p in frame}) == len(frame)
            # Lanes that drift onto one walker are merged: nobody counts twice.
            boxes = [p.box for p in frame]
            for i, box in enumerate(boxes):
                assert not _overlaps(box, boxes[i + 1 :], 0.5), "two poses on one person"
        counts[detector] = len(ids) / len(poses)
    assert counts["posenet"] > 2.0 * counts["blazepose"]


def test_mqtt_payloads_carry_several_blazepose_people(shared: Path) -> None:
    image = read_image(COUPLE)
    with multi(num_poses=2) as estimator:
        people: list[Pose] = estimator.estimate(image, None)
    assert len(people) == 2
    schema = load_schema("poses")
    for fmt in ("full", "compact"):
        document = payloads.poses(
            device_id="dev",
            camera="cam",
            frame_number=1,
            captured_at=1.0,
            latency_ms=1.0,
            inference_ms=1.0,
            model="blazepose-full",
            backend="tflite",
            width=image.shape[1],
            height=image.shape[0],
            people=people,
            fmt=fmt,
        )
        jsonschema.validate(json.loads(payloads.encode(document)), schema)
        assert document["count"] == 2
        assert [p["id"] for p in document["poses"]] == [p.id for p in people]
        assert all(len(p["keypoints"]) == 33 for p in document["poses"])


def test_one_pose_config_keeps_the_single_person_estimator(shared: Path) -> None:
    from posed.blazepose.estimator import BlazePoseEstimator

    model = ModelConfig(name="blazepose-full")
    with open_estimator(model, *backend_pair(), model_dirs=[MODELS]) as estimator:
        assert isinstance(estimator, BlazePoseEstimator)
    # The joints compared above are named alike in both keypoint sets.
    assert all(name in BLAZEPOSE_33 and name in COCO_17 for name in JOINTS)


def test_detector_model_must_be_posenet(shared: Path) -> None:
    from posed.errors import ModelError

    with pytest.raises(ModelError, match="not a PoseNet model"):
        multi(num_poses=2, detector="posenet", detector_model="blazepose-lite")
