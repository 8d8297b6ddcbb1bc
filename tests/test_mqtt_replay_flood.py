"""Home Assistant saying `online` over and over must not stop pose delivery, even with 1,000 zones.

Each `online` asks for every retained topic again (about 4,000 with 1,000 zones): the
replays are coalesced and take turns with the poses, so the poses keep flowing.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto, Subscriber

ZONES = 1000
FLOOD_SECONDS = 10.0
ONLINE_EVERY = 0.25


def _config(path: Path, port: int) -> Path:
    zones = ", ".join(
        f"z{i}: {{points: [[{i / ZONES:.4f}, 0], [{(i + 1) / ZONES:.4f}, 0], [0.5, 1]]}}"
        for i in range(ZONES)
    )
    text = write_config(path, port=port, camera=f", zones: {{{zones}}}").read_text()
    path.write_text(
        text.replace("topic_prefix: posed}", "topic_prefix: posed, homeassistant: {enabled: true}}")
    )
    return path.resolve()


def test_online_every_quarter_second_with_1000_zones_keeps_poses_flowing(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/dev/street/poses"]) as sub:
        config = _config(tmp_path / "posed.yaml", broker.port)
        ha = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ha")
        ha.connect(broker.host, broker.port)
        ha.loop_start()
        try:
            with Daemon(config, tmp_path / "posed.log") as daemon:
                first = sub.wait_for(lambda m: m.topic == "posed/dev/street/poses", timeout=120)
                sub.wait_for(lambda m: m.at > first.at + 5.0, timeout=60)  # settled after the start
                start = time.monotonic()
                sent = 0
                while time.monotonic() < start + FLOOD_SECONDS:
                    ha.publish("homeassistant/status", b"online", qos=1)
                    sent += 1
                    time.sleep(ONLINE_EVERY)
                end = time.monotonic()
                sub.wait_for(lambda m: m.at > end, timeout=30)
                assert daemon.process.poll() is None, daemon.log_text()
                log = daemon.log_text()
        finally:
            ha.loop_stop()
            ha.disconnect()
    arrivals = [start] + [m.at for m in sub.snapshot() if start <= m.at <= end] + [end]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert sent >= 30
    assert max(gaps) < 3.0, f"poses stopped for {max(gaps):.1f} s during the replays"
    # One line per replay started, not one per `online`.
    assert log.count("Home Assistant came online") < sent / 2, log
