"""A recording played faster than real time is tracked on its own clock, like `posed estimate`.

BlazePose's smoothing depends on the time between frames. The daemon reading a
video with realtime: false must give the poses `posed estimate` gives for the same
file, not poses smoothed as if the frames were milliseconds apart.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from tests.conftest import CONFORMANCE, MODELS, POSED
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Subscriber

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
FRAMES = 65


def keypoints(poses: list[dict[str, object]]) -> np.ndarray:
    (pose,) = poses
    points = pose["keypoints"]
    assert isinstance(points, list)
    return np.array([[p["x"], p["y"]] for p in points], dtype=np.float64)


def test_daemon_on_a_file_matches_posed_estimate(tmp_path: Path) -> None:
    # The frame clock is the subject: both sides report the estimator's every pose (no phantom filter).
    command = [*POSED, "estimate", "--model", "blazepose-lite", "--backend", "tflite", "--keep-phantoms"]
    estimated = subprocess.run(
        [*command, "--model-dir", str(MODELS), str(SQUATS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert estimated.returncode == 0, estimated.stderr[-2000:]
    expected = [json.loads(line) for line in estimated.stdout.splitlines()]
    assert len(expected) == FRAMES
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["clock/dev/squats/poses"]) as sub:
        config = tmp_path / "posed.yaml"
        config.write_text(
            "device_id: dev\n"
            "backend: {type: tflite}\n"
            "model: {name: blazepose-lite}\n"
            "people: {phantoms: {enabled: false}}\n"
            f"cameras:\n  squats: {{type: video, path: {SQUATS}}}\n"
            f"mqtt: {{host: 127.0.0.1, port: {broker.port}, topic_prefix: clock}}\n"
        )
        with Daemon(config, tmp_path / "posed.log") as daemon:
            # Every frame of the file, then the daemon ends by itself.
            assert daemon.process.wait(timeout=120) == 0, daemon.log_text()
        messages = sub.wait_until(lambda ms: len(ms) >= FRAMES, timeout=30)
    published = sorted((json.loads(m.payload) for m in messages), key=lambda p: p["frame"])
    assert [p["frame"] for p in published] == list(range(FRAMES))
    worst = max(
        float(np.abs(keypoints(got["poses"]) - keypoints(want["poses"])).max())
        for got, want in zip(published, expected, strict=True)
    )
    assert worst < 0.05, f"daemon and posed estimate differ by up to {worst:.2f} px"
