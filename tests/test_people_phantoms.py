"""The phantom filter on constructed frames: a pose counts once pixels moved inside its box."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from posed.people.config import PeopleConfig, PhantomConfig
from posed.people.phantoms import PhantomFilter
from posed.types import ImageArray, Pose
from tests.events_support import figure

W, H = 320, 240
FPS = 10.0
BACKGROUND = 90


def still_image() -> ImageArray:
    image = np.full((H, W, 3), BACKGROUND, dtype=np.uint8)
    image[150:200, 100:140] = 160  # a chair: a shape that never moves
    return image


def with_block(x: int, y: int = 60, size: int = 40, level: int = 230) -> ImageArray:
    """The still scene with a bright block (someone) at x, y."""
    image = still_image()
    image[y : y + size, x : x + size] = level
    return image


def pose_at(box: tuple[float, float, float, float], person: int | None) -> Pose:
    base = figure(person=person)
    return Pose(base.score, base.keypoints, base.names, box, id=person)


def run(frames: list[tuple[ImageArray, list[Pose]]], **config: object) -> list[list[int | None]]:
    """The ids kept on each frame."""
    people = PhantomFilter(PhantomConfig.model_validate(config))
    return [[p.id for p in people.update(i / FPS, image, poses)] for i, (image, poses) in enumerate(frames)]


CHAIR = (95.0, 145.0, 50.0, 60.0)


def test_a_pose_on_a_still_chair_is_never_reported() -> None:
    kept = run([(still_image(), [pose_at(CHAIR, 1)])] * 50)
    assert kept == [[]] * 50


def test_a_pose_that_moved_counts_and_stays_counted_when_still() -> None:
    moving = [(with_block(20 + 8 * i), [pose_at((15.0 + 8 * i, 55.0, 50.0, 50.0), 7)]) for i in range(10)]
    still = [(with_block(92), [pose_at((87.0, 55.0, 50.0, 50.0), 7)])] * 40
    kept = run(moving + still)
    # no comparison on the first frame, then motion_frames (2) frames of evidence
    assert kept[:2] == [[], []]
    assert all(ids == [7] for ids in kept[3:])


def test_one_frame_of_motion_is_not_enough_with_motion_frames_two() -> None:
    frames = [(still_image(), [pose_at(CHAIR, 1)])] * 10
    frames[6] = (with_block(100, 150, 40), [pose_at(CHAIR, 1)])  # one flicker inside the chair's box
    kept = run(frames, motion_interval=0.1)
    assert kept[7:] == [[]] * 3
    assert run(frames, motion_frames=1, motion_interval=0.1)[6] == [1]


def test_slow_movement_shows_against_the_frame_motion_interval_before() -> None:
    # 1 pixel a frame at 30 fps: hardly any change from one frame to the next
    frames = [(with_block(20 + i), [pose_at((15.0 + i, 55.0, 50.0, 50.0), 3)]) for i in range(30)]
    people = PhantomFilter(PhantomConfig(motion_interval=0.5))
    kept = [people.update(i / 30.0, image, poses) for i, (image, poses) in enumerate(frames)]
    assert kept[-1] and kept[-1][0].id == 3
    nearest = PhantomFilter(PhantomConfig(motion_interval=1 / 30.0, pixel_threshold=60))
    assert not any(nearest.update(i / 30.0, image, poses) for i, (image, poses) in enumerate(frames))


def test_motion_a_counted_person_explains_is_no_evidence_for_a_pose_overlapping_them() -> None:
    person = [(with_block(20 + 8 * i), [pose_at((15.0 + 8 * i, 55.0, 50.0, 50.0), 1)]) for i in range(8)]
    # the counted person keeps moving inside the box of a second pose that overlaps theirs
    overlap = [
        (
            with_block(80 + 3 * (i % 2)),
            [pose_at((75.0 + 3 * (i % 2), 55.0, 50.0, 50.0), 1), pose_at((70.0, 50.0, 60.0, 60.0), 2)],
        )
        for i in range(20)
    ]
    kept = run(person + overlap)
    assert all(ids == [1] for ids in kept[-20:])


def test_a_frame_where_the_whole_scene_changed_is_no_evidence() -> None:
    frames = [(still_image(), [pose_at(CHAIR, 1)])] * 5
    frames += [(still_image() // 2 + 10, [pose_at(CHAIR, 1)])] * 10  # the light went down
    assert run(frames, motion_interval=0.1) == [[]] * 15
    # the same change counts where the limit allows it (the whole image changed)
    assert run(frames, motion_interval=0.1, scene_motion_limit=1.0)[-1] == [1]


Frames = list[tuple[ImageArray, list[Pose]]]


def walk_then_lost(gap: int, new_box: tuple[float, float, float, float]) -> Frames:
    walk = [(with_block(20 + 8 * i), [pose_at((15.0 + 8 * i, 55.0, 50.0, 50.0), 1)]) for i in range(10)]
    lying_still = with_block(120)
    lost: Frames = [(lying_still, [])] * gap
    return walk + lost + [(lying_still, [pose_at(new_box, 2)])] * 5


def test_a_new_id_where_a_counted_person_was_just_lost_counts_at_once() -> None:
    kept = run(walk_then_lost(15, (110.0, 70.0, 70.0, 40.0)))  # 1.5 s later, lying across their place
    assert kept[-5:] == [[2]] * 5


def test_a_new_id_elsewhere_or_after_inherit_seconds_must_show_motion_itself() -> None:
    assert run(walk_then_lost(15, (250.0, 180.0, 40.0, 40.0)))[-5:] == [[]] * 5  # elsewhere
    assert run(walk_then_lost(15, (110.0, 70.0, 70.0, 40.0)), inherit_seconds=1.0)[-5:] == [[]] * 5
    assert run(walk_then_lost(15, (110.0, 70.0, 70.0, 40.0)), inherit_seconds=0)[-5:] == [[]] * 5


def test_a_pose_already_there_when_a_counted_person_is_lost_does_not_inherit() -> None:
    walk = [
        (with_block(20 + 8 * i), [pose_at((15.0 + 8 * i, 55.0, 50.0, 50.0), 1), pose_at(CHAIR, 5)])
        for i in range(10)
    ]
    after = [(with_block(92), [pose_at(CHAIR, 5)])] * 10
    assert all(5 not in ids for ids in run(walk + after))


def test_off_reports_every_pose_and_a_pose_without_id_is_passed_on() -> None:
    frames = [(still_image(), [pose_at(CHAIR, 1)])] * 5
    assert run(frames, enabled=False) == [[1]] * 5
    assert run([(still_image(), [pose_at(CHAIR, None)])] * 3) == [[None]] * 3


def test_a_resolution_change_or_time_going_back_starts_the_comparison_afresh() -> None:
    people = PhantomFilter(PhantomConfig(motion_frames=1))
    pose = pose_at((15.0, 55.0, 50.0, 50.0), 1)
    assert people.update(0.0, with_block(20), [pose]) == []
    assert people.update(1.0, np.zeros((120, 160, 3), dtype=np.uint8), [pose]) == []  # new size
    assert people.update(0.5, with_block(40), [pose]) == []  # time went back


def test_the_config_is_strict_and_bounded() -> None:
    assert PeopleConfig().phantoms.enabled is True
    with pytest.raises(ValidationError):
        PhantomConfig.model_validate({"moving_fraction": 0})
    with pytest.raises(ValidationError):
        PhantomConfig.model_validate({"pixel_threshold": 0})
    with pytest.raises(ValidationError):
        PeopleConfig.model_validate({"phantoms": {"colour": 1}})
