"""The first end-to-end run: the demo config, BlazePose full on TFLite, a real video, MQTT."""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema

from tests.conftest import CONFORMANCE, REPO
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Received, Subscriber

TOPIC = "posed/demo-video/gym/poses"
SCHEMA = json.loads((REPO / "posed" / "schemas" / "poses.json").read_text())


def on_topic(messages: Sequence[Received]) -> list[Received]:
    return [m for m in messages if m.topic == TOPIC]


def _found(payload: dict[str, Any]) -> bool:
    return payload["count"] > 0 and bool(payload["poses"])


def test_demo_config_publishes_poses(tmp_path: Path) -> None:
    """Guards: the demo finds the woman in the sample clip and publishes her 33 BlazePose keypoints
    (a pipeline that publishes only empty frames fails here)."""
    demo = (REPO / "config" / "demo-video.yaml").read_text()
    assert "name: blazepose-full" in demo and "type: tflite" in demo
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/demo-video/#"]) as sub:
        config = tmp_path / "demo.yaml"
        # Only the broker's port and the clip's place (`posed demo` caches it in ~/.cache) differ.
        clip = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
        assert "path: ~/.cache/posed/samples/pose_squats.mp4" in demo
        config.write_text(
            demo.replace("port: 1883", f"port: {broker.port}").replace(
                "~/.cache/posed/samples/pose_squats.mp4", str(clip)
            )
        )
        with Daemon(config, tmp_path / "posed.log") as daemon:
            daemon.notify.wait_for("READY=1", timeout=60)
            # Five frames, at least one of them with a person in it; BlazePose tracks one person.
            messages = sub.wait_until(
                lambda ms: (
                    len(on_topic(ms)) >= 5 and any(_found(json.loads(m.payload)) for m in on_topic(ms))
                ),
                timeout=90,
            )
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(timeout=10) == 0, daemon.log_text()
    poses = [json.loads(m.payload) for m in on_topic(messages)]
    for payload in poses:
        jsonschema.validate(payload, SCHEMA)
        assert payload["model"] == "blazepose-full" and payload["backend"] == "tflite"
        assert (payload["width"], payload["height"]) == (720, 1280)
    found = [p for p in poses if _found(p)]
    assert found, "no pose in any frame"
    for payload in found:
        assert payload["count"] == len(payload["poses"])
        for pose in payload["poses"]:
            assert len(pose["keypoints"]) == 33 and pose["score"] > 0.5
            # Some keypoints of a person in view lie inside the 720x1280 image.
            inside = [k for k in pose["keypoints"] if 0 <= k["x"] < 720 and 0 <= k["y"] < 1280]
            assert len(inside) >= 17, pose
    frames = [p["frame"] for p in poses]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
