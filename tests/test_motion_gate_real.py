"""The motion gate through the real daemon and `posed estimate`, on real footage.

The empty room and the entry are the first seconds of footage/sit_sofa_corner_5fps.mp4
(nobody for 21 s, then a person walks in), cut into a temporary file for each test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import pytest

from tests.conftest import MODELS, POSED, SHARED
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Subscriber

ROOM = SHARED / "footage" / "sit_sofa_corner_5fps.mp4"
ENTRY_AT = 21.0  # seconds, footage/labels.json
FPS = 5.0

pytestmark = pytest.mark.skipif(not ROOM.is_file(), reason=f"the footage is missing: {ROOM}")


def cut(path: Path, seconds: float) -> Path:
    """The first `seconds` of the room clip, re-encoded into `path` (a temporary file)."""
    capture = cv2.VideoCapture(str(ROOM))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (320, 240))
    try:
        for _ in range(round(seconds * FPS)):
            ok, frame = capture.read()
            assert ok
            writer.write(frame)
    finally:
        capture.release()
        writer.release()
    return path


def stamp(line: dict[str, object]) -> float:
    value = line["timestamp"]
    assert isinstance(value, float | int)
    return float(value)


def estimate(clip: Path, *flags: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [*POSED, "estimate", "--model", "blazepose-lite", "--model-dir", str(MODELS), *flags, str(clip)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_estimate_skips_the_empty_room_and_catches_the_entry_as_early_as_without_the_gate(
    tmp_path: Path,
) -> None:
    clip = cut(tmp_path / "entry.avi", 24.0)
    gated, plain = estimate(clip), estimate(clip, "--no-gate")
    assert [line["frame"] for line in gated] == [line["frame"] for line in plain], "every frame is reported"
    assert not any(line["gated"] for line in plain)
    empty = [line for line in gated if stamp(line) < 20.0]
    skipped = sum(bool(line["gated"]) for line in empty)
    assert skipped >= 0.6 * len(empty), f"only {skipped} of {len(empty)} empty-room frames skipped"

    def first_pose(lines: list[dict[str, object]]) -> float:
        return min(stamp(line) for line in lines if line["poses"] and stamp(line) >= 20.0)

    with_gate, without = first_pose(gated), first_pose(plain)
    assert with_gate <= without, f"the gate delayed the first pose: {with_gate} s against {without} s"
    assert with_gate <= ENTRY_AT + 0.6


def test_the_daemon_on_an_empty_room_stays_online_says_nobody_is_there_and_counts_gated_frames(
    tmp_path: Path,
) -> None:
    clip = cut(tmp_path / "empty.avi", 8.0)
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["gate/#"]) as sub:
        config = tmp_path / "posed.yaml"
        config.write_text(
            "device_id: dev\n"
            "backend: {type: tflite, num_threads: 1}\n"
            "model: {name: blazepose-lite}\n"
            f"cameras:\n  room: {{type: video, path: {clip}, realtime: true}}\n"
            f"mqtt: {{host: 127.0.0.1, port: {broker.port}, topic_prefix: gate, stats_interval: 1}}\n"
        )
        with Daemon(config, tmp_path / "posed.log") as daemon:
            assert daemon.process.wait(timeout=120) == 0, daemon.log_text()
        sub.wait_until(lambda ms: any(m.topic == "gate/dev/stats" for m in ms), timeout=10)
        messages = list(sub.messages)
    poses = [json.loads(m.payload) for m in messages if m.topic == "gate/dev/room/poses"]
    assert poses, "frames the gate skips are still published"
    assert all(p["count"] == 0 for p in poses)
    assert any(p["inference_ms"] == 0 for p in poses), "skipped frames: no inference"
    assert [m.text for m in messages if m.topic == "gate/dev/room/presence"][-1] == "OFF"
    stats = [json.loads(m.payload)["cameras"]["room"] for m in messages if m.topic == "gate/dev/stats"]
    online = [s for s in stats if s["status"] == "online" and s["processed_fps"] is not None]
    assert online, f"no stats of the camera online: {stats}"
    last = online[-1]
    assert last["gated_frames"] > 0 and last["gated_fps"] > 0
    assert last["processed_fps"] >= last["gated_fps"], "the fps sensor counts every frame looked at"
    assert last["cpu_percent"] is not None
