"""posed.draw, checked by pixels: on real poses from the real models, every pixel the drawing
changes lies on a predicted keypoint, a skeleton edge, or the person's box and label tab, and
the keypoints, edges and visibility cue are where and what colour they should be. An image
without people comes out unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from posed.cameras.media_files import read_image
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.draw import (
    HIDDEN_EDGE_COLOR,
    SCORE_COLORS,
    DrawStyle,
    draw_poses,
    edges_for,
    label_tab,
    line_width,
    person_color,
    score_bins,
)
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.plugins import load_backend
from posed.posenet.options import PoseNetOptions
from posed.types import Pose
from tests.conftest import CONFORMANCE

POSE_JPG = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"
COUPLE_JPG = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
AA_MARGIN = 2.0  # anti-aliased lines spill up to about a pixel beyond their width


def estimator(model: str, models_dir: Path) -> PoseEstimator:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite"})
    options = ModelConfig(
        name=model,
        blazepose=BlazePoseOptions(static_image_mode=True),
        posenet=PoseNetOptions(score_threshold=0.2),
    )
    return open_estimator(options, backend, config, model_dirs=[models_dir])


@pytest.fixture(scope="module")
def blazepose_case(
    models_dir: Path, private_cache: Path
) -> Iterator[tuple[npt.NDArray[np.uint8], list[Pose]]]:
    image = read_image(POSE_JPG)
    with estimator("blazepose-full", models_dir) as e:
        yield image, e.estimate(image, None)


@pytest.fixture(scope="module")
def posenet_case(models_dir: Path, private_cache: Path) -> Iterator[tuple[npt.NDArray[np.uint8], list[Pose]]]:
    image = read_image(COUPLE_JPG)
    with estimator("posenet-mobilenet-075-481x641", models_dir) as e:
        yield image, e.estimate(image, None)


def changed_pixels(before: npt.NDArray[np.uint8], after: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """(N, 2) x, y of every pixel the drawing changed."""
    ys, xs = np.nonzero((before != after).any(axis=2))
    return np.stack([xs, ys], axis=1).astype(np.float64)


def distance_to_segments(
    points: npt.NDArray[np.float64], a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
):
    """(N,) distance from each point to the nearest of the segments a[i]-b[i]."""
    if len(a) == 0:
        return np.full(len(points), np.inf)
    d = b - a
    length2 = np.maximum((d**2).sum(axis=1), 1e-9)
    t = np.clip(((points[:, None, :] - a[None]) * d[None]).sum(axis=2) / length2, 0.0, 1.0)
    nearest = a[None] + t[..., None] * d[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


def skeleton_distance(points: npt.NDArray[np.float64], poses: list[Pose]):
    """Distance of each point to the nearest keypoint or skeleton edge of any pose."""
    best = np.full(len(points), np.inf)
    for pose in poses:
        xy = pose.keypoints[:, :2].astype(np.float64)
        edges = edges_for(pose.names)
        best = np.minimum(best, distance_to_segments(points, xy, xy))  # the keypoints themselves
        best = np.minimum(best, distance_to_segments(points, xy[edges[:, 0]], xy[edges[:, 1]]))
    return best


def box_distance(points: npt.NDArray[np.float64], pose: Pose):
    x, y, w, h = pose.box
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
    return distance_to_segments(points, corners, np.roll(corners, -1, axis=0))


def in_tab(points: npt.NDArray[np.float64], image_shape: tuple[int, ...], pose: Pose, width: int):
    tab = label_tab(image_shape, pose, width)
    x, y = points[:, 0], points[:, 1]
    return (x >= tab.x0 - 1) & (x <= tab.x1 + 1) & (y >= tab.y0 - 1) & (y <= tab.y1 + 1)


@pytest.mark.parametrize("case", ["blazepose_case", "posenet_case"])
def test_drawn_pixels_lie_on_keypoints_and_edges(case: str, request: pytest.FixtureRequest) -> None:
    image, poses = request.getfixturevalue(case)
    assert poses, "the real model must find people in this picture"
    style = DrawStyle(box=False)
    drawn = draw_poses(image, poses, style)
    changed = changed_pixels(image, drawn)
    width = line_width(image, style)
    reach = 2 * width + 1 + AA_MARGIN  # a keypoint disc's radius, the widest mark
    off = skeleton_distance(changed, poses) > reach
    assert not off.any(), f"{off.sum()} drawn pixels are on no keypoint or edge, e.g. {changed[off][:5]}"
    # ...and the drawing is really there: on every keypoint and at the middle of every edge.
    for pose in poses:
        xy = np.rint(pose.keypoints[:, :2]).astype(int)
        assert (drawn[xy[:, 1], xy[:, 0]] != image[xy[:, 1], xy[:, 0]]).any(axis=1).all()
        edges = edges_for(pose.names)
        middle = np.rint((pose.keypoints[edges[:, 0], :2] + pose.keypoints[edges[:, 1], :2]) / 2).astype(int)
        assert (drawn[middle[:, 1], middle[:, 0]] != image[middle[:, 1], middle[:, 0]]).any(axis=1).all()


def test_the_box_and_its_label_are_drawn_around_each_person(posenet_case) -> None:
    image, poses = posenet_case
    assert len(poses) == 2
    drawn = draw_poses(image, poses)
    changed = changed_pixels(image, drawn)
    width = line_width(image, DrawStyle())
    on_skeleton = skeleton_distance(changed, poses) <= 2 * width + 1 + AA_MARGIN
    on_box = np.zeros(len(changed), dtype=bool)
    for pose in poses:
        on_box |= box_distance(changed, pose) <= width / 2 + AA_MARGIN
        on_box |= in_tab(changed, image.shape, pose, width)
    assert (on_skeleton | on_box).all()
    for order, pose in enumerate(poses):
        x, y, _, h = (round(v) for v in pose.box)
        # The left edge of the box, away from the skeleton, is in the person's colour.
        left = drawn[y + h // 2 - 20 : y + h // 2 + 20, x]
        assert (left == person_color(pose, order)).all(axis=1).any()
        tab = label_tab(image.shape, pose, width)
        assert (drawn[tab.y0 + 1, tab.x0 + 1] == person_color(pose, order)).all()


def test_keypoints_are_coloured_by_score_and_hidden_ones_are_rings(blazepose_case) -> None:
    image, poses = blazepose_case
    pose = poses[0]
    # The same real pose with chosen scores: a confident nose, a doubtful left wrist, a hidden left ankle.
    keypoints = pose.keypoints.copy()
    names = list(pose.names)
    nose, wrist, ankle = names.index("nose"), names.index("left_wrist"), names.index("left_ankle")
    keypoints[:, 2] = 0.99
    keypoints[wrist, 2] = 0.55
    keypoints[ankle, 2] = 0.05
    drawn = draw_poses(image, [replace(pose, keypoints=keypoints)], DrawStyle(box=False))

    def at(index: int) -> tuple[int, ...]:
        x, y = np.rint(keypoints[index, :2]).astype(int)
        return tuple(int(v) for v in drawn[y, x])

    assert at(nose) == SCORE_COLORS[-1]  # green
    assert at(wrist) == SCORE_COLORS[int(score_bins(np.array([0.55], dtype=np.float32))[0])]
    # The hidden ankle: a red ring around a dark centre, and its edges thin and grey.
    x, y = np.rint(keypoints[ankle, :2]).astype(int)
    assert max(at(ankle)) < 60, "a hidden keypoint's centre is dark"
    radius = 2 * line_width(image, DrawStyle())
    ring = drawn[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    assert (ring == SCORE_COLORS[0]).all(axis=1).any(), "a hidden keypoint's ring is in its score's colour"
    knee = keypoints[names.index("left_knee"), :2]
    middle = np.rint((knee + keypoints[ankle, :2]) / 2).astype(int)
    # Anti-aliasing blends a thin line with the picture a little: close to grey, far from the person's colour.
    pixel = drawn[middle[1], middle[0]].astype(int)
    assert np.abs(pixel - HIDDEN_EDGE_COLOR).max() <= 16
    assert np.abs(pixel - person_color(pose, 0)).max() > 60


def test_an_image_without_people_comes_out_unchanged(models_dir: Path, private_cache: Path) -> None:
    image = read_image(POSE_JPG)[:200, :400].copy()  # sky and clouds only
    with estimator("blazepose-full", models_dir) as e:
        poses = e.estimate(image, None)
    assert poses == []
    drawn = draw_poses(image, poses)
    assert drawn is not image and np.array_equal(drawn, image)


def test_a_pose_with_unknown_keypoint_names_gets_points_but_no_edges() -> None:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    keypoints = np.array([[20, 20, 0.9], [80, 80, 0.9]], dtype=np.float32)
    pose = Pose(score=0.9, keypoints=keypoints, names=("a", "b"), box=(20, 20, 60, 60))
    drawn = draw_poses(image, [pose], DrawStyle(box=False))
    assert drawn[20, 20].any() and drawn[80, 80].any()
    assert not drawn[50, 50].any(), "no skeleton is known for these names"
