"""The daemon's people stage: one filter per camera, kept across a reload that does not change it.
(The worker handing only people on, with a real model on real footage: tests/test_people_footage.py.)"""

from __future__ import annotations

import numpy as np

from posed.people.config import PeopleConfig, PhantomConfig
from posed.people.stage import PeopleStage
from posed.types import Frame, ImageArray, Pose
from tests.events_support import figure

W, H = 320, 240


def scene(x: int | None) -> ImageArray:
    image = np.full((H, W, 3), 90, dtype=np.uint8)
    image[150:200, 100:140] = 160  # a chair
    if x is not None:
        image[60:100, x : x + 40] = 230  # someone
    return image


def pose_at(box: tuple[float, float, float, float], person: int) -> Pose:
    base = figure(person=person)
    return Pose(base.score, base.keypoints, base.names, box, id=person)


CHAIR = pose_at((95.0, 145.0, 50.0, 60.0), 1)


def frame(number: int, image: ImageArray) -> Frame:
    return Frame(image, number, float(number), 0.0, media_time=number / 10.0)


def test_each_camera_has_its_own_filter_and_a_reload_keeps_it_when_unchanged() -> None:
    stage = PeopleStage()
    stage.configure(PeopleConfig(), ["a", "b"])
    walking = [
        (frame(i, scene(20 + 8 * i)), [pose_at((15.0 + 8 * i, 55.0, 50.0, 50.0), 7)]) for i in range(8)
    ]
    assert [p.id for p in stage.people("a", *walking[-1])] == []  # camera a has seen nothing yet
    for seen, poses in walking:
        stage.people("a", seen, poses)
    still = (frame(8, scene(76)), [pose_at((71.0, 55.0, 50.0, 50.0), 7)])
    assert [p.id for p in stage.people("a", *still)] == [7]
    assert stage.people("b", *still) == []  # the same id on another camera has shown nothing
    stage.configure(PeopleConfig(), ["a", "b"])  # unchanged: who counts is kept
    assert [p.id for p in stage.people("a", *still)] == [7]
    stage.configure(PeopleConfig(phantoms=PhantomConfig(motion_frames=3)), ["a"])  # changed: afresh
    assert stage.people("a", *still) == []
    stage.configure(PeopleConfig(phantoms=PhantomConfig(enabled=False)), ["a"])
    assert stage.people("a", frame(9, scene(None)), [CHAIR]) == [CHAIR]
