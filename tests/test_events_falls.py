"""Falls through what real falls do to tracking and to the 2-D picture, on constructed stick
figures: a new tracker id part-way through a fall, a fall towards the camera (the torso stays
vertical in 2-D), lying on a bed, and a fallen person the estimator can no longer find."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from posed.events.falls import MAX_PEOPLE
from posed.events.geometry import Body
from posed.types import Pose
from tests.events_support import Frames, figure, of_type, run, standing_on

W, H = 640, 640  # tall enough that a body lying on the floor is clear of the edges
FPS = 10.0
FLOOR = 460.0
STAND = ((0.0, 0.0), (0.0, 0.0))


def standing(x: float = 320.0, person: int | None = 1) -> Pose:
    return figure(hips=standing_on(FLOOR, x, 100.0, STAND), person=person)


def tipping(start: float, end: float, seconds: float, person: int = 1) -> list[Pose]:
    steps = max(1, round(seconds * FPS))
    return [
        figure(
            hips=standing_on(FLOOR, 160.0, 100.0, STAND),
            person=person,
            rotate=start + (end - start) * i / steps,
            pivot=(160.0, FLOOR),
        )
        for i in range(1, steps + 1)
    ]


def lying(person: int, floor: float = FLOOR) -> Pose:
    """Lying along the floor (or a bed at `floor`), head to the right, clear of the edges."""
    return figure(
        hips=standing_on(floor, 160.0, 100.0, STAND), person=person, rotate=90.0, pivot=(160.0, floor)
    )


def towards_camera(person: int) -> Pose:
    """Lying on the back, feet to the camera: the torso vertical in 2-D but foreshortened to a
    third, the feet nearer (lower in the picture), the head near the floor level, arms out."""
    ankles_y = FLOOR + 20.0
    legs = ((0.0, 0.0), (0.0, 0.0))
    return figure(
        hips=standing_on(ankles_y, 160.0, 35.0, legs),
        scale=35.0,
        arms=((80, 100), (-80, -100)),
        person=person,
    )


def sitting_on_the_floor(person: int) -> Pose:
    """Sitting up on the floor, side-on, legs out in front: low, but the head well up."""
    legs = ((90.0, 90.0), (90.0, 90.0))
    return figure(hips=(160.0, FLOOR - 8.0), legs=legs, width_factor=0.1, person=person)


def hold(pose: Pose, seconds: float) -> list[Pose]:
    return [pose] * round(seconds * FPS)


def clip(*parts: Sequence[Pose | None]) -> Frames:
    """Consecutive parts at FPS; None is a frame where the estimator found nobody."""
    poses = [pose for part in parts for pose in part]
    return [(i / FPS, [] if pose is None else [pose]) for i, pose in enumerate(poses)]


def nobody(seconds: float) -> list[Pose | None]:
    return [None] * round(seconds * FPS)


def falls(frames: Frames, config: dict[str, object] | None = None) -> list[tuple[str, object, int]]:
    events = run(frames, W, H, {"falls": config or {}})[0]
    return [(str(e.fields["state"]), e.fields.get("reason"), e.person) for e in of_type(events, "fall")]


def test_a_new_id_found_lying_where_the_falling_person_was_lost_continues_the_fall() -> None:
    # The fast change is seen under id 1, which the tracker loses; id 2 is found lying there.
    frames = clip(hold(standing(160.0), 2), tipping(0, 60, 0.3), nobody(1.5), hold(lying(2), 6))
    assert falls(frames) == [("detected", None, 2)]
    # Without the handover, id 2 never saw a fast change.
    assert falls(frames, {"handover_distance": 0.01, "handover_seconds": 0}) == []


def test_a_new_id_far_from_where_the_person_was_lost_does_not_continue_the_fall() -> None:
    # lying at the back of the room, well over a body length from where id 1 went down
    far = figure(
        hips=standing_on(120.0, 40.0, 40.0, STAND), scale=40.0, person=2, rotate=90.0, pivot=(40.0, 120.0)
    )
    frames = clip(hold(standing(160.0), 2), tipping(0, 60, 0.3), nobody(1.5), hold(far, 6))
    assert falls(frames) == []


def test_someone_lost_upright_and_found_lying_there_moments_later_has_fallen() -> None:
    # unseen for longer than fast_seconds: no fast change is left in the history
    frames = clip(hold(standing(160.0), 2), nobody(2.0), hold(lying(2), 6))
    assert falls(frames) == [("detected", None, 2)]
    # found lying only after handover_seconds: nobody saw how they got down
    assert falls(clip(hold(standing(160.0), 2), nobody(4.0), hold(lying(2), 6))) == []


def test_a_fall_towards_the_camera_is_lying_although_the_torso_stays_vertical() -> None:
    angle = Body(towards_camera(1), W, H, 0.5).torso_angle()
    assert angle is not None and angle < 10  # upright, going by the torso angle alone
    frames = clip(hold(standing(160.0), 2), [towards_camera(1)] * 5, hold(towards_camera(1), 6))
    assert falls(frames) == [("detected", None, 1)]
    # the 2-D torso angle alone (the low cue off) never sees it lying
    assert falls(frames, {"low_height": 0.1}) == []


def test_sitting_up_on_the_floor_after_a_fast_drop_is_not_lying() -> None:
    frames = clip(hold(standing(160.0), 2), hold(sitting_on_the_floor(1), 8))
    assert falls(frames) == []


def test_a_fallen_person_who_sits_up_on_the_floor_has_not_got_up() -> None:
    frames = clip(
        hold(standing(160.0), 2), tipping(0, 90, 0.5), hold(lying(1), 1), hold(sitting_on_the_floor(1), 6)
    )
    assert falls(frames) == [("detected", None, 1)]


def test_lying_on_a_bed_is_not_a_fall_but_the_same_drop_to_the_floor_is() -> None:
    bed = FLOOR - 300.0  # seen from above, the bed's top is far up the picture from the floor
    on_bed = [
        figure(hips=standing_on(bed, 160.0, 100.0, STAND), person=1, rotate=90.0 * i / 5, pivot=(160.0, bed))
        for i in range(1, 6)
    ]
    frames = clip(hold(standing(160.0), 2), on_bed, hold(lying(1, floor=bed), 8))
    assert falls(frames) == []
    assert falls(frames, {"raised_head": 3.0}) == [("detected", None, 1)]


def test_a_fallen_person_lost_in_the_middle_of_the_view_stays_fallen() -> None:
    frames = clip(hold(standing(160.0), 2), tipping(0, 90, 0.5), hold(lying(1), 4), nobody(60))
    events, engine = run(frames, W, H, {"falls": {"lost_seconds": 5}})
    assert [e.fields["state"] for e in of_type(events, "fall")] == ["detected"]
    assert engine.state().fallen is True


def test_a_person_lost_while_lying_before_the_confirmation_is_confirmed() -> None:
    frames = clip(hold(standing(160.0), 2), tipping(0, 90, 0.5), hold(lying(1), 1), nobody(5))
    events = run(frames, W, H)[0]
    (detected,) = of_type(events, "fall")
    last_seen = max(t for t, poses in frames if poses)
    # confirm_seconds after the body was first seen lying (part-way through tipping over)
    assert detected.person == 1 and last_seen < detected.timestamp and 5.0 <= detected.timestamp <= 5.5


def test_someone_getting_up_where_a_lost_fallen_person_lay_clears_the_fall() -> None:
    frames = clip(
        hold(standing(160.0), 2),
        tipping(0, 90, 0.5),
        hold(lying(1), 4),
        nobody(20),
        hold(standing(320.0, 7), 3),
    )
    assert falls(frames) == [("detected", None, 1), ("cleared", "upright", 7)]


def test_a_fallen_person_last_seen_at_the_edge_clears_as_lost() -> None:
    at_edge = [dataclasses.replace(p, box=(0.0, p.box[1], p.box[2], p.box[3])) for p in hold(lying(1), 4)]
    frames = clip(hold(standing(160.0), 2), tipping(0, 90, 0.5), at_edge, nobody(12))
    assert falls(frames) == [("detected", None, 1), ("cleared", "lost", 1)]


def test_people_kept_while_unseen_are_bounded() -> None:
    # Many people fall at places far apart and are lost there: each is kept (fallen), up to a bound.
    frames: Frames = []
    t = 0.0
    for person in range(1, 2 * MAX_PEOPLE):
        x, floor = 700.0 + (person % 12) * 700.0, 700.0 + (person // 12) * 700.0
        poses = [figure(hips=standing_on(floor, x, 100.0, STAND), person=person)] * 10
        poses += [
            figure(hips=standing_on(floor, x, 100.0, STAND), person=person, rotate=a, pivot=(x, floor))
            for a in (20, 40, 60, 80, 90, 90, 90, 90)
        ]
        for pose in poses:
            frames.append((t, [pose]))
            t += 0.1
    events, engine = run(frames, 10_000, 10_000)
    assert engine.falls is not None and len(engine.falls._people) == MAX_PEOPLE
    assert len(of_type(events, "fall")) > MAX_PEOPLE  # each was confirmed while unseen
