"""The motion gate's decisions on constructed frames: noise, flicker, area, masks, keep-alive, watching."""

from __future__ import annotations

import numpy as np
import pytest

from posed.gate.config import MotionGateConfig, MotionMask
from posed.gate.motion import MotionDetector, grey_copy
from posed.gate.stage import MotionGate
from posed.types import Frame, ImageArray

WIDTH, HEIGHT, FPS = 640, 360, 10.0


def _scene(seed: int = 0) -> np.ndarray:
    """A textured still room: smooth shading plus furniture-like blocks, float RGB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = 60 + 80 * (x / WIDTH) + 40 * (y / HEIGHT)
    image = np.repeat(base[:, :, None], 3, axis=2)
    for _ in range(12):
        x0, y0 = rng.integers(0, WIDTH - 80), rng.integers(0, HEIGHT - 60)
        image[y0 : y0 + rng.integers(20, 60), x0 : x0 + rng.integers(20, 80)] = rng.uniform(20, 235, 3)
    # A saturated window: clipping must not turn flicker into motion.
    image[20:120, 500:620] = 255.0
    return image


SCENE = _scene()


def _frame(
    t: float,
    *,
    noise: float = 3.0,
    flicker: float = 0.05,
    box: tuple[int, int, int, int] | None = None,
    seed: int = 0,
) -> Frame:
    """The scene at time t with Gaussian sensor noise (sigma, grey levels), a 1 Hz brightness flicker
    (+- fraction) and optionally a dark person-like box (x, y, w, h)."""
    rng = np.random.default_rng(seed + int(t * 1000))
    image = SCENE * (1.0 + flicker * np.sin(2 * np.pi * t))
    if box is not None:
        x, y, w, h = box
        image[y : y + h, x : x + w] = (40.0, 30.0, 90.0)
    image = image + rng.normal(0.0, noise, image.shape)
    pixels: ImageArray = np.clip(image, 0, 255).astype(np.uint8)
    return Frame(pixels, int(t * FPS), t, t, media_time=t)


def _times(seconds: float) -> list[float]:
    return [n / FPS for n in range(round(seconds * FPS))]


def test_a_still_room_with_sensor_noise_and_flicker_runs_the_estimator_only_at_the_keepalive() -> None:
    gate = MotionGate(MotionGateConfig())
    ran = [t for t in _times(6.0) if gate.decide(_frame(t), watching=False).run]
    # The first frame (no background yet), then once a second.
    assert ran == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    counters = gate.counters()
    assert counters.looked == 60 and counters.gated == 54
    assert counters.cpu_seconds > 0


def test_a_strong_flicker_or_exposure_swing_over_the_whole_image_is_no_motion() -> None:
    # +-15 %: a fluorescent tube or a camera's auto exposure hunting; no pixel moved.
    detector = MotionDetector(MotionGateConfig())
    results = [detector.update(grey_copy(_frame(t, flicker=0.15).image, 160), t) for t in _times(3.0)]
    assert not any(r.moved for r in results[1:]), [round(r.area, 4) for r in results]


def test_a_lamp_lit_wall_in_a_dark_room_flickering_is_no_motion() -> None:
    # Most of the image is dark, a wall is bright: a +-15 % flicker moves the wall by 30 grey
    # levels and the rest by 6, so no single offset or noise level explains it; the gain does.
    rng = np.random.default_rng(5)
    room = np.full((90, 160), 40.0)
    room[10:60, 40:110] = 200.0
    detector = MotionDetector(MotionGateConfig())
    for t in _times(3.0):
        grey = room * (1.0 + 0.15 * np.sin(2 * np.pi * t)) + rng.normal(0.0, 1.0, room.shape)
        moved = detector.update(np.clip(grey, 0, 255).astype(np.uint8), t).moved
        assert t == 0.0 or not moved, f"motion at {t} s"


def test_heavy_noise_raises_the_threshold_instead_of_holding_the_gate_open() -> None:
    detector = MotionDetector(MotionGateConfig(width=320))  # less averaging: more noise left
    results = [detector.update(grey_copy(_frame(t, noise=12.0).image, 320), t) for t in _times(3.0)]
    assert not any(r.moved for r in results[1:])
    assert results[-1].threshold > MotionGateConfig().min_delta, "the threshold follows the noise"


def test_a_person_walking_in_is_motion_on_the_first_frame_they_appear() -> None:
    gate = MotionGate(MotionGateConfig())
    times = _times(4.0)
    for t in times[:25]:
        gate.decide(_frame(t), watching=False)
    entering = _frame(2.5, box=(0, 100, 60, 200))  # at the edge of the image, 60 x 200 of 640 x 360
    verdict = gate.decide(entering, watching=False)
    assert verdict.run and verdict.reason == "motion"


def test_a_change_smaller_than_min_area_is_not_motion_and_a_larger_one_is() -> None:
    # A 12 x 12 box is 0.06 % of the image; a 40 x 40 box 0.7 %.
    for side, moved in ((12, False), (40, True)):
        detector = MotionDetector(MotionGateConfig(min_area=0.002))
        for t in _times(1.0):
            detector.update(grey_copy(_frame(t).image, 160), t)
        result = detector.update(grey_copy(_frame(1.0, box=(300, 150, side, side)).image, 160), 1.0)
        assert result.moved is moved, f"{side} px box: area {result.area:.4f}"


def test_motion_inside_a_mask_is_ignored_and_outside_it_is_not() -> None:
    tv = MotionMask(points=[(0.4, 0.3), (0.7, 0.3), (0.7, 0.8), (0.4, 0.8)])
    masked = MotionGate(MotionGateConfig(), [tv])
    plain = MotionGate(MotionGateConfig())
    for t in _times(2.1):  # the last keep-alive run is at 2.0 s
        masked.decide(_frame(t), watching=False)
        plain.decide(_frame(t), watching=False)
    inside = _frame(2.05, box=(300, 130, 100, 120))  # within x 256..448, y 108..288
    assert plain.decide(inside, watching=False).reason == "motion"
    assert masked.decide(inside, watching=False).reason == "still"
    outside = _frame(2.1, box=(40, 130, 100, 120))
    assert masked.decide(outside, watching=False).reason == "motion"


def test_masks_are_looked_up_by_camera_name() -> None:
    mask = MotionMask(points=[(0, 0), (1, 0), (1, 1)])
    config = MotionGateConfig(masks={"hall": [mask]})
    hall, porch = MotionGate.for_camera(config, "hall"), MotionGate.for_camera(config, "porch")
    for t in _times(1.1):  # the last keep-alive run is at 1.0 s
        hall.decide(_frame(t), watching=False)
        porch.decide(_frame(t), watching=False)
    # The mask covers the upper-right half: a change there moves only the porch camera.
    change = _frame(1.05, box=(420, 10, 180, 100))
    assert hall.decide(change, watching=False).reason == "still"
    assert porch.decide(change, watching=False).reason == "motion"


def test_while_anyone_is_watched_every_frame_runs_and_then_for_hold_seconds() -> None:
    gate = MotionGate(MotionGateConfig(hold_seconds=2.0))
    verdicts = [gate.decide(_frame(t), watching=t < 3.0) for t in _times(8.0)]
    reasons = [v.reason for v in verdicts]
    assert all(v.run for v in verdicts[:30]), "someone tracked or a fall in progress: every frame"
    assert set(reasons[:30]) == {"watching"}
    assert set(reasons[30:49]) == {"hold"}, "still every frame for hold_seconds after the last person"
    later = [v for v in verdicts[50:] if v.run]  # 4.9 s: the hold has just ended
    assert [v.reason for v in later] == ["keepalive"] * len(later) and 2 <= len(later) <= 3


def test_someone_seen_for_a_moment_in_a_still_view_gets_no_hold() -> None:
    # A detector's false positive in sensor noise lasts a few frames; a person is seen for longer.
    gate = MotionGate(MotionGateConfig(hold_seconds=2.0))
    times = _times(3.0)
    verdicts = [gate.decide(_frame(t), watching=1.0 <= t < 1.2) for t in times]
    assert [v.reason for v in verdicts[10:12]] == ["watching", "watching"]
    assert not any(v.run for v in verdicts[12:21]), "back to gating at once"
    assert verdicts[21].reason == "keepalive", "a second after the last run (at 1.1 s)"


def test_keepalive_interval_is_configurable() -> None:
    gate = MotionGate(MotionGateConfig(keepalive_seconds=0.5))
    runs = sum(gate.decide(_frame(t), watching=False).run for t in _times(5.0))
    assert runs == 10


def test_a_disabled_gate_runs_every_frame_and_still_counts_them() -> None:
    gate = MotionGate(MotionGateConfig(enabled=False))
    assert all(gate.decide(_frame(t), watching=False).reason == "off" for t in _times(1.0))
    assert gate.counters().looked == 10 and gate.counters().gated == 0


def test_reset_forgets_the_background_so_the_next_frame_runs() -> None:
    gate = MotionGate(MotionGateConfig())
    for t in _times(1.5):
        gate.decide(_frame(t), watching=False)
    gate.reset()
    assert gate.decide(_frame(1.5), watching=False).reason == "motion"


def test_a_skipped_frame_is_never_decoded_and_a_run_one_is() -> None:
    decoded: list[int] = []
    gate = MotionGate(MotionGateConfig())

    def lazy(t: float) -> Frame:
        full = _frame(t)
        preview = grey_copy(full.image, 160)

        def decode() -> ImageArray:
            decoded.append(full.number)
            return full.image

        return Frame(None, full.number, t, t, t, preview=preview, decode=decode, size=(WIDTH, HEIGHT))

    frames = [lazy(t) for t in _times(1.5)]
    for frame in frames:
        gate.decide(frame, watching=False)
    assert decoded == [], "the gate looks at the preview only"
    assert frames[3].width == WIDTH and frames[3].height == HEIGHT and not frames[3].decoded
    assert frames[3].image.shape == (HEIGHT, WIDTH, 3) and decoded == [3]


def test_a_frame_without_image_needs_a_decoder_and_a_size() -> None:
    with pytest.raises(ValueError, match="decode"):
        Frame(None, 0, 0.0, 0.0)
