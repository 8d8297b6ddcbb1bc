"""The pose tracker and the id source: the id promises, with the clock given as timestamps."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import ValidationError

from posed.tracking.config import COCO_FALLOFF, TrackerOptions
from posed.tracking.ids import IdSource
from posed.tracking.similarity import box_similarity, keypoint_similarity
from posed.tracking.tracker import PoseTracker

TYPES = ["keypoint", "bounding_box"]


def person(x: float, y: float, *, size: float = 0.2, score: float = 0.9) -> np.ndarray:
    """A (17, 3) pose: keypoints spread over a size x 2*size box whose top left is (x, y)."""
    grid = np.linspace(0.0, 1.0, 17)
    points = np.empty((17, 3))
    points[:, 0] = x + size * grid
    points[:, 1] = y + 2 * size * grid[::-1]
    points[:, 2] = score
    return points


def frame(*people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keypoints = np.stack(people) if people else np.zeros((0, 17, 3))
    return keypoints, keypoints[:, :, 2].mean(axis=1)


def tracker(kind: str = "bounding_box", **options: object) -> PoseTracker:
    return PoseTracker(TrackerOptions.model_validate({"type": kind, **options}), IdSource())


@pytest.mark.parametrize("kind", TYPES)
def test_a_person_keeps_their_id_while_in_view(kind: str) -> None:
    track = tracker(kind)
    seen = {i for t in range(30) for i in track.update(*frame(person(0.1 + 0.005 * t, 0.2)), t / 10)}
    assert len(seen) == 1


@pytest.mark.parametrize("kind", TYPES)
def test_two_people_keep_distinct_ids(kind: str) -> None:
    track = tracker(kind)
    first = track.update(*frame(person(0.1, 0.2), person(0.6, 0.2)), 0.0)
    assert len(set(first)) == 2
    for t in range(1, 20):
        ids = track.update(*frame(person(0.1 + 0.003 * t, 0.2), person(0.6 - 0.003 * t, 0.2)), t / 10)
        assert ids == first


@pytest.mark.parametrize("kind", TYPES)
def test_a_gap_shorter_than_max_age_keeps_the_id(kind: str) -> None:
    track = tracker(kind, max_age=1.0)
    (before,) = track.update(*frame(person(0.3, 0.2)), 0.0)
    assert track.update(*frame(), 0.5) == []
    assert track.update(*frame(person(0.3, 0.2)), 1.0) == [before]


@pytest.mark.parametrize("kind", TYPES)
def test_a_person_lost_longer_than_max_age_gets_a_new_id(kind: str) -> None:
    track = tracker(kind, max_age=1.0)
    (before,) = track.update(*frame(person(0.3, 0.2)), 0.0)
    (after,) = track.update(*frame(person(0.3, 0.2)), 1.01)
    assert after != before
    # max_age is a setting, not a constant: a longer one keeps the same gap linked.
    patient = tracker(kind, max_age=2.0)
    (kept,) = patient.update(*frame(person(0.3, 0.2)), 0.0)
    assert patient.update(*frame(person(0.3, 0.2)), 1.01) == [kept]


@pytest.mark.parametrize("kind", TYPES)
def test_ids_are_never_reused(kind: str) -> None:
    ids = IdSource()
    options = TrackerOptions.model_validate({"type": kind, "max_age": 0.5, "max_tracks": 2})
    track = PoseTracker(options, ids)
    handed: list[int] = []
    for t in range(40):
        # People appear at new places, vanish, come back after max_age; the tracker is reset twice.
        people = [person(0.05 + 0.2 * ((t + k) % 4), 0.1 + 0.1 * k) for k in range(t % 3)]
        handed += track.update(*frame(*people), t * 0.3)
        if t in (13, 27):
            track.reset()
    fresh = track.fresh_ids(3)
    assert len(handed) > 30
    # An id is handed out again only to the pose it was tracking before, never to a new one.
    births = [i for n, i in enumerate(handed) if i not in handed[:n]]
    assert len(births) >= 10 and births == sorted(births) and len(set(births)) == len(births)
    assert not set(fresh) & set(handed) and len(set(fresh)) == 3
    # A second tracker on the same source (another camera, a reopened estimator) never repeats them.
    other = PoseTracker(options, ids)
    assert not set(other.update(*frame(person(0.3, 0.2)), 0.0)) & set(handed + fresh)


@pytest.mark.parametrize("kind", TYPES)
def test_reset_forgets_the_people_but_not_the_ids(kind: str) -> None:
    track = tracker(kind)
    (before,) = track.update(*frame(person(0.3, 0.2)), 0.0)
    track.reset()
    (after,) = track.update(*frame(person(0.3, 0.2)), 0.1)
    assert after != before


@pytest.mark.parametrize("kind", TYPES)
def test_a_pose_unlike_every_track_starts_a_new_one(kind: str) -> None:
    track = tracker(kind, predict_motion=False)
    (left,) = track.update(*frame(person(0.05, 0.2)), 0.0)
    (right,) = track.update(*frame(person(0.7, 0.2)), 0.1)
    assert right != left
    assert sorted(track.track_ids) == sorted([left, right])


@pytest.mark.parametrize("kind", TYPES)
def test_one_track_never_goes_to_two_poses(kind: str) -> None:
    track = tracker(kind)
    (only,) = track.update(*frame(person(0.3, 0.2)), 0.0)
    # Two poses both close to the one track: the more confident one takes it.
    ids = track.update(*frame(person(0.31, 0.2, score=0.6), person(0.3, 0.2, score=0.95)), 0.1)
    assert ids[1] == only and ids[0] != only


def test_max_tracks_forgets_the_least_recently_seen() -> None:
    track = tracker(max_tracks=2)
    (a,) = track.update(*frame(person(0.0, 0.0, size=0.1)), 0.0)
    (b,) = track.update(*frame(person(0.4, 0.0, size=0.1)), 0.1)
    (c,) = track.update(*frame(person(0.8, 0.0, size=0.1)), 0.2)
    assert track.track_ids == [c, b]
    (again,) = track.update(*frame(person(0.0, 0.0, size=0.1)), 0.3)
    assert again not in (a, b, c)


def test_min_similarity_decides_the_link() -> None:
    # Boxes overlapping with IoU 0.25: linked at the default 0.15, not at 0.3.
    loose, strict = tracker(predict_motion=False), tracker(min_similarity=0.3, predict_motion=False)
    for track in (loose, strict):
        track.update(*frame(person(0.2, 0.2, size=0.2)), 0.0)
    (x,) = loose.update(*frame(person(0.32, 0.2, size=0.2)), 0.1)
    (y,) = strict.update(*frame(person(0.32, 0.2, size=0.2)), 0.1)
    assert x == 1 and y == 2


def test_motion_prediction_follows_a_walker_through_missed_frames() -> None:
    # Half a body width per frame at 5 fps, then three frames missed: where the walker was last
    # seen no longer overlaps where they are now; where their speed puts them does.
    plain, predicting = tracker(predict_motion=False), tracker(predict_motion=True)
    walk = [
        frame(person(0.05 + 0.05 * t, 0.2, size=0.1)) if t not in (4, 5, 6) else frame() for t in range(8)
    ]
    plain_ids = [i for t, poses in enumerate(walk) for i in plain.update(*poses, t / 5)]
    predicted_ids = [i for t, poses in enumerate(walk) for i in predicting.update(*poses, t / 5)]
    assert len(predicted_ids) == 5 and len(set(predicted_ids)) == 1
    assert len(set(plain_ids)) == 2  # the case prediction is for


def test_time_going_backwards_starts_over() -> None:
    track = tracker()
    (before,) = track.update(*frame(person(0.3, 0.2)), 50.0)
    (after,) = track.update(*frame(person(0.3, 0.2)), 0.0)  # a recording restarted
    assert after != before
    assert track.track_ids == [after]


def _reference_oks(pose: np.ndarray, track: np.ndarray, threshold: float, minimum: int) -> float:
    """tfjs's KeypointTracker.oks, one pair at a time, as its TypeScript reads."""
    confident = track[track[:, 2] > threshold]
    x0, x1 = min([1.0, *confident[:, 0]]), max([0.0, *confident[:, 0]])
    y0, y1 = min([1.0, *confident[:, 1]]), max([0.0, *confident[:, 1]])
    area = (x1 - x0) * (y1 - y0) + 1e-6
    total, valid = 0.0, 0
    for i in range(17):
        if pose[i, 2] < threshold or track[i, 2] < threshold:
            continue
        valid += 1
        d2 = (pose[i, 0] - track[i, 0]) ** 2 + (pose[i, 1] - track[i, 1]) ** 2
        total += np.exp(-d2 / (2 * area * (2 * COCO_FALLOFF[i]) ** 2))
    return 0.0 if valid < minimum else total / valid


def test_keypoint_similarity_is_tfjs_oks() -> None:
    rng = np.random.default_rng(18)
    poses = rng.uniform(0.0, 1.0, (5, 17, 3))
    tracks = poses[[0, 2, 4]] + rng.normal(0.0, 0.02, (3, 17, 3))
    matrix = keypoint_similarity(
        poses, tracks, np.array(COCO_FALLOFF), confidence_threshold=0.3, min_keypoints=4
    )
    expected = [[_reference_oks(p, t, 0.3, 4) for t in tracks] for p in poses]
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-15)
    assert matrix[0, 0] > 0.1 and matrix[2, 1] > 0.1  # the noisy copies are similar


def test_box_similarity_is_iou() -> None:
    boxes = np.array([[0.0, 0.0, 0.2, 0.2], [0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.6, 0.6]])
    iou = box_similarity(boxes, boxes)
    np.testing.assert_allclose(np.diag(iou), 1.0)
    assert iou[0, 1] == pytest.approx(0.01 / 0.07)
    assert iou[0, 2] == 0.0


def test_id_source_is_safe_across_threads() -> None:
    ids = IdSource()
    taken: list[list[int]] = [[] for _ in range(4)]

    def take(into: list[int]) -> None:
        into.extend(ids.take() for _ in range(2000))

    threads = [threading.Thread(target=take, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for into in taken for i in into]
    assert sorted(everything) == list(range(1, 8001))


def test_tracker_options_defaults_and_ranges() -> None:
    options = TrackerOptions()
    assert (options.type, options.max_tracks, options.max_age) == ("bounding_box", 18, 1.0)
    assert options.similarity_threshold == 0.15
    assert TrackerOptions(type="keypoint").similarity_threshold == 0.2
    assert TrackerOptions(min_similarity=0.4).similarity_threshold == 0.4
    for bad in ({"keypoint_falloff": [0.1] * 16}, {"max_age": 0}, {"min_similarity": 1.5}, {"type": "iou"}):
        with pytest.raises(ValidationError):
            TrackerOptions.model_validate(bad)
