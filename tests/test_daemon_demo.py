"""Issue 2's first end-to-end run: the demo config, BlazePose full on TFLite, a real video, MQTT."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import jsonschema

from tests.conftest import CONFORMANCE, REPO
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Subscriber

SCHEMA = json.loads((REPO / "posed" / "schemas" / "poses.json").read_text())


def test_demo_config_publishes_poses(tmp_path: Path) -> None:
    demo = (REPO / "config" / "demo-video.yaml").read_text()
    assert "name: blazepose-full" in demo and "type: tflite" in demo
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/demo/#"]) as sub:
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
            messages = sub.wait_until(
                lambda ms: sum(m.topic == "posed/demo/gym/poses" for m in ms) >= 5, timeout=30
            )
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(timeout=10) == 0, daemon.log_text()
    poses = [json.loads(m.payload) for m in messages if m.topic == "posed/demo/gym/poses"]
    for payload in poses:
        jsonschema.validate(payload, SCHEMA)
        assert payload["model"] == "blazepose-full" and payload["backend"] == "tflite"
        assert (payload["width"], payload["height"]) == (720, 1280)
    frames = [p["frame"] for p in poses]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
