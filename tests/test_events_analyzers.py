"""Each analyzer on constructed pose sequences: what the shared videos do not show."""

from __future__ import annotations

import numpy as np
import pytest

from posed.events.event import Event
from posed.types import Pose
from tests.events_support import Frames, figure, of_type, run, standing_on

W, H = 640, 480
FPS = 10.0
FLOOR = 460.0
STAND = ((0.0, 0.0), (0.0, 0.0))


def clip(*parts: list[Pose], fps: float = FPS) -> Frames:
    """Consecutive parts, one pose per frame, stamped at `fps`."""
    poses = [pose for part in parts for pose in part]
    return [(i / fps, [pose]) for i, pose in enumerate(poses)]


def hold(pose: Pose, seconds: float) -> list[Pose]:
    return [pose] * round(seconds * FPS)


def standing(x: float = 320.0, **kw: object) -> Pose:
    return figure(hips=standing_on(FLOOR, x, 100.0, STAND), **kw)  # type: ignore[arg-type]


def tipping(start: float, end: float, seconds: float, pivot_x: float = 320.0) -> list[Pose]:
    """A standing body turning about its ankles from `start` to `end` degrees."""
    steps = max(1, round(seconds * FPS))
    return [
        standing(x=pivot_x, rotate=start + (end - start) * i / steps, pivot=(pivot_x, FLOOR))
        for i in range(1, steps + 1)
    ]


def lying(pivot_x: float = 320.0) -> Pose:
    return standing(x=pivot_x, rotate=-90.0, pivot=(pivot_x, FLOOR))


def falls(events: list[Event]) -> list[tuple[str, object]]:
    return [(str(e.fields["state"]), e.fields.get("reason")) for e in of_type(events, "fall")]


# --- falls ---------------------------------------------------------------------------------


def test_a_fast_fall_that_stays_down_is_detected_then_cleared_on_standing_up() -> None:
    frames = clip(
        hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 5), tipping(-90, 0, 1.0), hold(standing(), 4)
    )
    events, engine = run(frames, W, H)
    assert falls(events) == [("detected", None), ("cleared", "upright")]
    detected, cleared = of_type(events, "fall")
    # confirm_seconds (3 s) after the body lay down, clear_seconds (2 s) after it stood up
    assert 5.0 <= detected.timestamp <= 6.0
    assert cleared.timestamp - detected.timestamp >= 2.0 + 2.0
    assert engine.state().fallen is False


def test_the_fall_state_is_on_between_detected_and_cleared() -> None:
    frames = clip(hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 5))
    events, engine = run(frames, W, H)
    assert falls(events) == [("detected", None)]
    assert engine.state().fallen is True


def test_a_short_lie_is_not_confirmed() -> None:
    frames = clip(
        hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 2), tipping(-90, 0, 1), hold(standing(), 3)
    )
    assert falls(run(frames, W, H)[0]) == []


def test_lying_down_slowly_is_not_a_fall() -> None:
    frames = clip(hold(standing(), 2), tipping(0, -90, 8.0), hold(lying(), 8))
    assert falls(run(frames, W, H)[0]) == []


def test_a_fall_inside_an_ignore_zone_is_not_a_fall_but_outside_it_is() -> None:
    bed = {"bed": {"points": [[0.0, 0.8], [0.6, 0.8], [0.6, 1.0], [0.0, 1.0]]}}
    frames = clip(hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 6))
    ignored = {"falls": {"ignore_zones": ["bed"]}}
    assert falls(run(frames, W, H, ignored, bed)[0]) == []
    events = run(frames, W, H, {}, bed)[0]
    assert falls(events) == [("detected", None)]
    assert of_type(events, "fall")[0].fields["zone"] == "bed"


def test_bending_over_to_tie_shoes_is_not_a_fall() -> None:
    bent = [
        figure(hips=standing_on(FLOOR, 320, 100, STAND), torso=180 - a, arms=((a, a), (a, a)))
        for a in np.linspace(0, 95, 6)
    ]
    down = bent[-1]
    frames = clip(hold(standing(), 2), bent, hold(down, 6), bent[::-1], hold(standing(), 2))
    assert falls(run(frames, W, H)[0]) == []


def test_crouching_to_tie_shoes_is_not_a_fall() -> None:
    crouch = ((100.0, -30.0), (100.0, -30.0))
    low = figure(hips=standing_on(FLOOR, 320, 100, crouch), torso=120, legs=crouch, arms=((40, 30), (40, 30)))
    frames = clip(hold(standing(), 2), [low] * 60, hold(standing(), 2))
    assert falls(run(frames, W, H)[0]) == []


def test_sitting_down_fast_is_not_a_fall() -> None:
    seated = ((90.0, 0.0), (90.0, 0.0))  # thighs level, shins down, side-on
    sit = figure(hips=standing_on(FLOOR, 320, 100, seated), legs=seated, width_factor=0.1, torso=170)
    frames = clip(hold(standing(width_factor=0.1), 2), [sit] * 80, hold(standing(width_factor=0.1), 2))
    assert falls(run(frames, W, H)[0]) == []


def test_squatting_is_not_a_fall() -> None:
    frames = clip(*(squat_rep() for _ in range(4)))
    assert falls(run(frames, W, H)[0]) == []


def test_walking_past_is_not_a_fall() -> None:
    walk: list[Pose] = []
    for i, x in enumerate(np.linspace(40, 600, 60)):
        swing = 25 * np.sin(i / 2)
        legs = ((swing, swing * 0.3), (-swing, -swing * 0.3))
        walk.append(figure(hips=standing_on(FLOOR, x, 100, legs), legs=legs, width_factor=0.1))
    assert falls(run(clip(walk), W, H)[0]) == []


def test_a_fall_clears_when_the_person_leaves_the_view() -> None:
    frames = clip(hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 4))
    end = frames[-1][0]
    frames += [(end + i / FPS, []) for i in range(1, 120)]
    events = run(frames, W, H, {"falls": {"lost_seconds": 5}})[0]
    assert falls(events) == [("detected", None), ("cleared", "lost")]
    last_seen = max(t for t, poses in frames if poses)
    assert of_type(events, "fall")[1].timestamp == pytest.approx(last_seen + 5)


def test_the_clear_timeout_is_off_by_default_and_clears_when_set() -> None:
    frames = clip(hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 30))
    assert falls(run(frames, W, H)[0]) == [("detected", None)]
    timed = run(frames, W, H, {"falls": {"clear_timeout": 10}})[0]
    assert falls(timed) == [("detected", None), ("cleared", "timeout")]
    # still down after the timeout: no new fall until the person is up and falls again
    shift = frames[-1][0] + 0.1
    again = frames + [
        (t + shift, p) for t, p in clip(hold(standing(), 3), tipping(0, -90, 0.5), hold(lying(), 5))
    ]
    assert [s for s, _ in falls(run(again, W, H, {"falls": {"clear_timeout": 10}})[0])] == [
        "detected",
        "cleared",
        "detected",
    ]


def test_falls_can_be_turned_off() -> None:
    frames = clip(hold(standing(), 2), tipping(0, -90, 0.5), hold(lying(), 5))
    events, engine = run(frames, W, H, {"falls": {"enabled": False}})
    assert falls(events) == [] and engine.state().fallen is None


# --- reps ----------------------------------------------------------------------------------


def squat_rep(depth: float = 95.0, steps: int = 8) -> list[Pose]:
    """One squat seen side-on: thighs from hanging to `depth` degrees forward and back."""
    out = []
    for a in [*np.linspace(0, depth, steps), *np.linspace(depth, 0, steps)]:
        legs = ((a, -a * 0.4), (a, -a * 0.4))
        out.append(
            figure(hips=standing_on(FLOOR, 320, 100, legs), legs=legs, width_factor=0.1, torso=180 - a * 0.3)
        )
    return out


def reps(events: list[Event], exercise: str) -> list[int]:
    return [e.fields["count"] for e in of_type(events, "rep") if e.fields["exercise"] == exercise]  # type: ignore[misc]


def test_squats_count_on_the_return_and_a_shallow_or_unfinished_one_does_not() -> None:
    unfinished = squat_rep()[:12]  # down, and back only part of the way
    frames = clip(hold(standing(width_factor=0.1), 1), squat_rep(), squat_rep(), squat_rep(40), unfinished)
    events = run(frames, W, H, {"reps": {"exercises": ["squat"]}})[0]
    assert reps(events, "squat") == [1, 2]


def test_noise_and_a_missed_frame_do_not_count_twice() -> None:
    rep = squat_rep()
    rng = np.random.default_rng(7)
    noisy: list[Pose] = []
    for pose in rep * 3:
        jitter = pose.keypoints.copy()
        jitter[:, :2] += rng.normal(0, 3, size=(len(jitter), 2)).astype(np.float32)
        noisy.append(Pose(pose.score, jitter, pose.names, pose.box))
    frames = clip(noisy)
    frames[len(rep) // 2] = (frames[len(rep) // 2][0], [])  # one frame with nobody at the bottom
    # and, in the next rep, one where the knees are not seen at the bottom
    stamp, (bottom,) = frames[len(rep) + len(rep) // 2]
    hidden = bottom.keypoints.copy()
    hidden[[i for i, n in enumerate(bottom.names) if "knee" in n], 2] = 0.1
    frames[len(rep) + len(rep) // 2] = (stamp, [Pose(bottom.score, hidden, bottom.names, bottom.box)])
    events = run(frames, W, H, {"reps": {"exercises": ["squat"]}})[0]
    assert reps(events, "squat") == [1, 2, 3]


def test_a_set_ends_after_the_rest_time_and_a_reset_zeroes_the_count() -> None:
    frames = clip(squat_rep(), squat_rep(), hold(standing(width_factor=0.1), 12), squat_rep())
    events, engine = run(frames, W, H, {"reps": {"exercises": ["squat"], "rest_seconds": 10}})
    sets = of_type(events, "set")
    assert [(s.fields["reps"], s.fields["exercise"]) for s in sets] == [(2, "squat")]
    assert reps(events, "squat") == [1, 2, 3]
    assert engine.state().reps == {"squat": 3}
    engine.reset_reps("squat")
    assert engine.state().reps == {"squat": 0}
    after = [(t + 100, p) for t, p in clip(squat_rep())]
    later = []
    for stamp, poses in after:
        later += engine.update(stamp, poses, W, H)
    assert reps(later, "squat") == [1]


def pushup(angle: float) -> Pose:
    """Body level, side-on, facing +x; arms straight down at 180 degrees, bent below."""
    bend = 180.0 - angle
    return figure(
        hips=(300.0, 380.0), torso=90.0, width_factor=0.1,
        legs=((-90.0, -90.0), (-90.0, -90.0)),
        arms=((-bend / 2, bend / 2), (-bend / 2, bend / 2)),
    )  # fmt: skip


def test_push_ups_need_a_level_body() -> None:
    one = [pushup(a) for a in [*np.linspace(175, 80, 6), *np.linspace(80, 175, 6)]]
    events = run(clip(one * 3), W, H, {"reps": {"exercises": ["push_up"]}})[0]
    assert reps(events, "push_up") == [1, 2, 3]
    standing_bends = [
        figure(arms=((10, 10 + 180 - a), (-10, -10 - 180 + a)))
        for a in [*np.linspace(175, 80, 6), *np.linspace(80, 175, 6)]
    ]
    assert reps(run(clip(standing_bends * 3), W, H, {"reps": {"exercises": ["push_up"]}})[0], "push_up") == []


def jack(t: float) -> Pose:
    arm, leg = 20 + 150 * t, 25 * t
    legs = ((leg, leg), (-leg, -leg))
    return figure(hips=standing_on(FLOOR, 320, 100, legs), arms=((arm, arm), (-arm, -arm)), legs=legs)


def test_jumping_jacks() -> None:
    one = [jack(t) for t in [*np.linspace(0, 1, 5), *np.linspace(1, 0, 5)]]
    events = run(clip(one * 4), W, H, {"reps": {"exercises": ["jumping_jack"]}})[0]
    assert reps(events, "jumping_jack") == [1, 2, 3, 4]
    to_shoulders = [
        figure(arms=((20 + 75 * t,) * 2, (-(20 + 75 * t),) * 2))
        for t in [*np.linspace(0, 1, 5), *np.linspace(1, 0, 5)]
    ]
    counted = run(clip(to_shoulders * 2), W, H, {"reps": {"exercises": ["jumping_jack"]}})[0]
    assert reps(counted, "jumping_jack") == []  # arms only to shoulder height: no jack


def hidden(pose: Pose, prefix: str) -> Pose:
    """The pose with the keypoints whose names start with `prefix` not seen (turned away)."""
    keypoints = pose.keypoints.copy()
    for i, name in enumerate(pose.names):
        if name.startswith(prefix):
            keypoints[i, 2] = 0.0
    return Pose(pose.score, keypoints, pose.names, pose.box, id=pose.id)


def test_jumping_jacks_from_the_side_with_one_arm_seen_and_the_feet_together() -> None:
    side_on = [
        hidden(figure(arms=((20 + 150 * t,) * 2, (-(20 + 150 * t),) * 2), width_factor=0.05), "right")
        for t in [*np.linspace(0, 1, 5), *np.linspace(1, 0, 5)]
    ]
    events = run(clip(side_on * 3), W, H, {"reps": {"exercises": ["jumping_jack"]}})[0]
    assert reps(events, "jumping_jack") == [1, 2, 3]


def test_bicep_curls_alternating_arms() -> None:
    def curl(left: float, right: float) -> Pose:
        return figure(arms=((0.0, 180 - left), (0.0, -(180 - right))))

    sweep = [*np.linspace(175, 30, 6), *np.linspace(30, 175, 6)]
    frames = clip([curl(a, 175) for a in sweep] + [curl(175, a) for a in sweep])
    events = run(frames, W, H, {"reps": {"exercises": ["bicep_curl"]}})[0]
    assert reps(events, "bicep_curl") == [1, 2]


def test_curls_seen_from_the_side_with_the_elbow_drifting_forward() -> None:
    # the far arm hidden, the torso seen; the upper arm swings 45 degrees forward as the
    # forearm comes up to 55 degrees at the elbow
    def curl(t: float) -> Pose:
        upper = 45.0 * t
        pose = figure(arms=((upper, upper + 180 - (175 - 120 * t)), (0.0, 5.0)), width_factor=0.05)
        return hidden(hidden(pose, "right_elbow"), "right_wrist")

    one = [curl(t) for t in [*np.linspace(0, 1, 6), *np.linspace(1, 0, 6)]]
    events = run(clip(one * 4), W, H, {"reps": {"exercises": ["bicep_curl"]}})[0]
    assert reps(events, "bicep_curl") == [1, 2, 3, 4]


def test_arms_bending_while_leaning_into_a_squat_are_no_curl() -> None:
    # seen from an angle, one side of the torso leans 25 degrees, the other under 15
    def lean(t: float) -> Pose:
        pose = figure(arms=((10.0 * t, 10 + 140 * t), (-10.0 * t, -10 - 140 * t)))
        keypoints = pose.keypoints.copy()
        left_hip, left_shoulder = pose.names.index("left_hip"), pose.names.index("left_shoulder")
        keypoints[left_hip, 0] = keypoints[left_shoulder, 0] + 47.0 * t  # tan(25) x the torso
        return Pose(pose.score, keypoints, pose.names, pose.box)

    one = [lean(t) for t in [*np.linspace(0, 1, 6), *np.linspace(1, 0, 6)]]
    assert reps(run(clip(one * 2), W, H, {"reps": {"exercises": ["bicep_curl"]}})[0], "bicep_curl") == []


def test_lunges() -> None:
    def lunge(t: float) -> Pose:
        front, back = (70 * t, -20 * t), (-30 * t, -100 * t)
        legs = (front, back)
        return figure(hips=standing_on(FLOOR, 320, 100, legs), legs=legs, width_factor=0.1)

    one = [lunge(t) for t in [*np.linspace(0, 1, 6), *np.linspace(1, 0, 6)]]
    events = run(clip(one * 2), W, H, {"reps": {"exercises": ["lunge"]}})[0]
    assert reps(events, "lunge") == [1, 2]
    assert reps(run(clip(squat_rep() * 2), W, H, {"reps": {"exercises": ["lunge"]}})[0], "lunge") == []


def test_a_user_defined_exercise() -> None:
    config = {
        "reps": {
            "exercises": ["side_raise"],
            "custom": {
                "side_raise": {
                    "measure": {"angle": ["hip", "shoulder", "wrist"]},
                    "start_below": 30,
                    "far_above": 80,
                }
            },
        }
    }
    raise_ = [figure(arms=((a, a), (-a, -a))) for a in [*np.linspace(10, 90, 5), *np.linspace(90, 10, 5)]]
    assert reps(run(clip(raise_ * 3), W, H, config)[0], "side_raise") == [1, 2, 3]


# --- gestures ------------------------------------------------------------------------------


def gestures(events: list[Event]) -> list[tuple[str, float]]:
    return [(str(e.fields["gesture"]), round(e.timestamp, 1)) for e in of_type(events, "gesture")]


LEFT_UP = figure(arms=((175.0, 175.0), (-10.0, -10.0)))
BOTH_UP = figure(arms=((175.0, 175.0), (-175.0, -175.0)))
T_POSE = figure(arms=((90.0, 90.0), (-90.0, -90.0)))


@pytest.mark.parametrize(
    ("pose", "name"), [(LEFT_UP, "hand_raised"), (BOTH_UP, "both_hands_up"), (T_POSE, "t_pose")]
)
def test_each_gesture_fires_once_per_hold(pose: Pose, name: str) -> None:
    frames = clip(
        hold(standing(), 1),
        hold(pose, 5),
        hold(standing(), 1),
        hold(pose, 0.5),
        hold(standing(), 3),
        hold(pose, 2),
    )
    assert gestures(run(frames, W, H)[0]) == [(name, 2.0), (name, 11.5)]


def test_a_gesture_within_the_cooldown_does_not_fire_again() -> None:
    frames = clip(
        hold(pose := LEFT_UP, 1.5),
        hold(standing(), 0.3),
        hold(pose, 1.5),
        hold(standing(), 0.3),
        hold(pose, 1.5),
    )
    released_at_once = {"gestures": {"release_seconds": 0}}
    assert gestures(run(frames, W, H, released_at_once)[0]) == [("hand_raised", 1.0), ("hand_raised", 4.6)]


def test_gestures_are_per_person() -> None:
    frames = [
        (i / FPS, [figure(arms=LEFT_UP_ARMS, person=1), figure(hips=(500, 300), person=2)]) for i in range(15)
    ]
    frames += [
        (1.5 + i / FPS, [figure(person=1), figure(hips=(500, 300), arms=LEFT_UP_ARMS, person=2)])
        for i in range(15)
    ]
    events = run(frames, W, H)[0]
    assert [(e.person, e.fields["gesture"]) for e in of_type(events, "gesture")] == [
        (1, "hand_raised"),
        (2, "hand_raised"),
    ]


LEFT_UP_ARMS = ((175.0, 175.0), (-10.0, -10.0))


def test_nothing_fires_while_standing_still() -> None:
    events = run(
        clip(hold(standing(), 10)),
        W,
        H,
        {"reps": {"exercises": ["squat", "push_up", "jumping_jack", "bicep_curl", "lunge"]}},
    )[0]
    assert events == []


# --- zones ---------------------------------------------------------------------------------

SOFA = {"points": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


def test_zone_enter_leave_with_inertia_and_loitering() -> None:
    left, right = standing(x=100), standing(x=500)
    frames = clip(hold(left, 1), [right, right, left], hold(right, 5), [left, right], hold(left, 1))
    events, engine = run(frames, W, H, {}, {"sofa": {**SOFA, "loitering_time": 3}})
    states = [(e.fields["state"], round(e.timestamp, 1)) for e in of_type(events, "zone")]
    # two frames inside are not an entry (inertia 3); the flicker at the end is not a leave
    assert states == [("enter", 1.5), ("loitering", 4.5), ("leave", 6.7)]
    assert engine.state().zones == {"sofa": 0}


def test_zone_counts_people_and_forgets_the_unseen() -> None:
    one = figure(hips=standing_on(FLOOR, 400, 100, STAND), person=1)
    two = figure(hips=standing_on(FLOOR, 600, 100, STAND), person=2)
    out = figure(hips=standing_on(FLOOR, 100, 100, STAND), person=3)
    frames = [(i / FPS, [one, two, out]) for i in range(10)]
    events, engine = run(frames, W, H, {}, {"sofa": SOFA})
    assert engine.state().zones == {"sofa": 2}
    assert sorted(e.person for e in of_type(events, "zone")) == [1, 2]
    for i in range(10, 40):
        engine.update(i / FPS, [one], W, H)
    assert engine.state().zones == {"sofa": 1}


@pytest.mark.parametrize(("anchor", "inside"), [("feet", True), ("hips", False), ("box_bottom", True)])
def test_zone_anchors(anchor: str, inside: bool) -> None:
    floor_strip = {"points": [[0.0, 0.9], [1.0, 0.9], [1.0, 1.0], [0.0, 1.0]], "anchor": anchor}
    engine = run(clip(hold(standing(), 1)), W, H, {}, {"floor": floor_strip})[1]
    assert engine.state().zones == {"floor": int(inside)}


def test_the_feet_anchor_falls_back_to_the_hips() -> None:
    pose = standing(x=500)
    hidden = pose.keypoints.copy()
    for i, name in enumerate(pose.names):
        if "ankle" in name or "heel" in name or "foot" in name:
            hidden[i, 2] = 0.1
    no_feet = Pose(pose.score, hidden, pose.names, pose.box)
    hips_zone = {"points": [[0.5, 0.3], [1.0, 0.3], [1.0, 0.6], [0.5, 0.6]]}
    assert run(clip(hold(no_feet, 1)), W, H, {}, {"z": hips_zone})[1].state().zones == {"z": 1}
    assert run(clip(hold(pose, 1)), W, H, {}, {"z": hips_zone})[1].state().zones == {"z": 0}


def waving(swings: int, *, frames_per_swing: int = 5) -> list[Pose]:
    """The left forearm up (upper arm level, out to the side), swinging side to side at the elbow."""
    angles: list[float] = []
    for k in range(swings):
        start, end = (150.0, 210.0) if k % 2 == 0 else (210.0, 150.0)
        angles += list(np.linspace(start, end, frames_per_swing))
    return [figure(arms=((100.0, a), (-10.0, -10.0))) for a in angles]


def test_a_hand_at_head_height_is_hand_raised() -> None:
    # the wrist just above the nose (the hand at the side of the head), held
    at_head = figure(arms=((90.0, 150.0), (-10.0, -10.0)))  # 0.08 torso lengths above the nose
    below = figure(arms=((90.0, 120.0), (-10.0, -10.0)))  # 0.1 under the nose: not raised
    assert gestures(run(clip(hold(at_head, 2)), W, H)[0])[:1] == [("hand_raised", 1.0)]
    assert gestures(run(clip(hold(below, 3)), W, H)[0]) == []


WAVE_ON = {"gestures": {"gestures": ["hand_raised", "both_hands_up", "t_pose", "wave"]}}


def test_a_raised_hand_moving_side_to_side_is_a_wave() -> None:
    events = run(clip(hold(standing(), 1), waving(4), hold(standing(), 1)), W, H, WAVE_ON)[0]
    assert [g for g, _ in gestures(events)].count("wave") == 1


def test_a_raised_hand_held_still_or_one_swing_is_no_wave() -> None:
    still = hold(figure(arms=((100.0, 180.0), (-10.0, -10.0))), 3)
    assert "wave" not in [g for g, _ in gestures(run(clip(still), W, H, WAVE_ON)[0])]
    one_swing = waving(1, frames_per_swing=20)
    assert "wave" not in [g for g, _ in gestures(run(clip(one_swing), W, H, WAVE_ON)[0])]


def test_a_wave_needs_the_hand_up_for_the_hold() -> None:
    # two quick swings, then the hand comes down before hold_seconds (a jumping jack's arc)
    quick = waving(2, frames_per_swing=3)
    assert "wave" not in [g for g, _ in gestures(run(clip(quick, hold(standing(), 2)), W, H, WAVE_ON)[0])]


def test_a_short_dip_of_the_hand_does_not_rearm_the_gesture() -> None:
    frames = clip(hold(LEFT_UP, 2), hold(standing(), 0.5), hold(LEFT_UP, 5))
    assert gestures(run(frames, W, H)[0]) == [("hand_raised", 1.0)]
    frames = clip(hold(LEFT_UP, 2), hold(standing(), 1.5), hold(LEFT_UP, 5))
    assert [g for g, _ in gestures(run(frames, W, H)[0])] == ["hand_raised", "hand_raised"]


def test_a_raised_hand_that_trembles_after_one_swing_is_no_wave() -> None:
    trembling = [figure(arms=((100.0, 210.0 + (4.0 if i % 2 else -4.0)), (-10.0, -10.0))) for i in range(20)]
    events = run(clip(waving(1), trembling), W, H, WAVE_ON)[0]
    assert "wave" not in [g for g, _ in gestures(events)]
