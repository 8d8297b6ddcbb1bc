"""Per-camera publishing rules, driven with explicit timestamps (no sleeping)."""

from __future__ import annotations

from posed.mqtt.gate import CameraGate, Decision


def _run(gate: CameraGate, people: list[int], fps: float = 30.0) -> list[Decision]:
    return [gate.on_frame(n, i / fps) for i, n in enumerate(people)]


def test_every_frame_by_default_and_count_only_on_change() -> None:
    gate = CameraGate(max_rate_hz=None, only_when_people=False, presence_hold=1.0)
    decisions = _run(gate, [0, 0, 1, 1, 2, 0])
    assert all(d.publish for d in decisions)
    assert [d.count for d in decisions] == [0, None, 1, None, 2, 0]


def test_rate_limit_takes_every_third_frame_of_a_30_fps_camera_at_10_hz() -> None:
    gate = CameraGate(max_rate_hz=10, only_when_people=False, presence_hold=1.0)
    decisions = _run(gate, [1] * 30)
    published = [i for i, d in enumerate(decisions) if d.publish]
    assert published == list(range(0, 30, 3))


def test_only_when_people_still_sends_the_change_to_zero_even_when_rate_limited() -> None:
    gate = CameraGate(max_rate_hz=2, only_when_people=True, presence_hold=1.0)
    decisions = _run(gate, [0, 0, 1, 1, 1, 0, 0, 0, 2])
    published = [i for i, d in enumerate(decisions) if d.publish]
    # 0, 1: empty from the start; 2: first person; 3, 4: rate limit; 5: the change to zero
    # (inside the rate limit, sent anyway); 6, 7: empty again; 8: rate limit.
    assert published == [2, 5]


def test_presence_holds_then_turns_off() -> None:
    gate = CameraGate(max_rate_hz=None, only_when_people=False, presence_hold=2.0)
    assert gate.on_frame(0, 0.0).presence is False
    assert gate.on_frame(1, 1.0).presence is True
    for t in (1.5, 2.0, 2.9):  # people gone, but within the hold: no flapping
        assert gate.on_frame(0, t).presence is None
    assert gate.on_frame(1, 2.95).presence is None  # back before the hold ran out
    assert gate.on_frame(0, 4.0).presence is None
    off = gate.on_frame(0, 4.96)
    assert off.presence is False and gate.present is False
    assert gate.on_frame(0, 6.0).presence is None


def test_presence_expires_on_the_tick_when_frames_stop_after_an_empty_one() -> None:
    gate = CameraGate(max_rate_hz=None, only_when_people=False, presence_hold=2.0)
    gate.on_frame(1, 0.0)
    gate.on_frame(0, 0.5)
    assert gate.on_tick(1.9) is None
    assert gate.on_tick(2.0) is False
    assert gate.on_tick(3.0) is None  # said once


def test_presence_stays_when_frames_stop_with_people_in_view() -> None:
    gate = CameraGate(max_rate_hz=None, only_when_people=False, presence_hold=2.0)
    gate.on_frame(2, 0.0)
    assert gate.on_tick(100.0) is None
    assert gate.present is True
