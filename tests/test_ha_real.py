"""posed against a real Home Assistant Core 2024.3.3. Not in the default suite:

    .venv/bin/python -m pytest -m homeassistant tests/test_ha_real.py

(the first run makes Home Assistant's venv, see tests/ha_real/core.py; later runs take about
two minutes). A private Mosquitto, HA's own MQTT integration added through its config flow,
and `posed run` with two cameras: `street` (vtest.avi, looping) and `clip`, a two-second
clip the test deletes to kill that camera and puts back to revive it. Entity states are read
through HA's REST API, devices and entities through its websocket API.
"""

from __future__ import annotations

import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.conftest import MEDIA
from tests.daemon_harness import Daemon
from tests.ha_real.core import HomeAssistantCore
from tests.mosquitto import Mosquitto, Subscriber

pytestmark = [pytest.mark.homeassistant, pytest.mark.timeout(900)]

CAMERAS = ("street", "clip")
MAIN = ("people", "occupancy", "processing_rate", "inference_time")
BINARY = {"occupancy", "connectivity"}


def entity(camera: str, key: str) -> str:
    domain = "binary_sensor" if key in BINARY else "sensor"
    return f"{domain}.posed_dev_{camera}_{key}"


def make_clip(path: Path, seconds: float = 2.0, fps: float = 10.0) -> None:
    """A short MJPEG clip of vtest.avi's first frames."""
    capture = cv2.VideoCapture(str(MEDIA / "vtest.avi"))
    writer: Any = None
    try:
        for _ in range(int(seconds * fps)):
            ok, image = capture.read()
            assert ok
            if writer is None:
                height, width = image.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
            writer.write(image)
    finally:
        capture.release()
        if writer is not None:
            writer.release()


def write_config(path: Path, *, port: int, clip: Path, extra_camera: bool = False) -> None:
    extra = f"  side: {{type: video, path: {MEDIA / 'vtest.avi'}, realtime: true, loop: true}}\n"
    path.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {MEDIA / 'vtest.avi'}, realtime: true, loop: true}}\n"
        f"  clip: {{type: video, path: {clip}, realtime: true, loop: true, reconnect_max_delay: 1}}\n"
        f"{extra if extra_camera else ''}"
        # A long stats interval: every value HA shows must come from a first measurement sent at
        # once, or from retained state, not from a stats message that happens to be due.
        f"mqtt: {{host: 127.0.0.1, port: {port}, stats_interval: 300, homeassistant: {{enabled: true}}}}\n"
    )


@dataclass
class Watch:
    """Polls HA's states in the background: every value each entity showed, in order."""

    ha: HomeAssistantCore
    seen: dict[str, list[str]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.wait(0.25):
            try:
                states = self.ha.states()
            except OSError:
                continue
            for s in states:
                if s["entity_id"].startswith(("sensor.posed_", "binary_sensor.posed_")):
                    values = self.seen.setdefault(s["entity_id"], [])
                    if not values or values[-1] != s["state"]:
                        values.append(s["state"])

    def since(self, mark: dict[str, int], entity_id: str) -> list[str]:
        return self.seen.get(entity_id, [])[mark.get(entity_id, 0) :]

    def mark(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.seen.items()}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HomeAssistantCore, Mosquitto, Path]]:
    tmp = tmp_path_factory.mktemp("ha")
    with Mosquitto(tmp) as broker, HomeAssistantCore(tmp / "ha") as ha:
        ha.add_mqtt(broker.host, broker.port)
        yield ha, broker, tmp


def wait_state(
    ha: HomeAssistantCore, entity_id: str, ok: Callable[[str], bool], timeout: float, what: str
) -> str:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        state = ha.state(entity_id)
        last = None if state is None else state["state"]
        if last is not None and ok(last):
            return str(last)
        time.sleep(0.25)
    raise AssertionError(f"{entity_id}: {what} not within {timeout} s (last: {last})")


def is_number(value: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None


def test_posed_in_home_assistant(setup: tuple[HomeAssistantCore, Mosquitto, Path]) -> None:
    ha, broker, tmp = setup
    clip = tmp / "clip.avi"
    make_clip(clip)
    kept = tmp / "clip-kept.avi"
    shutil.copy(clip, kept)
    config = tmp / "posed.yaml"
    write_config(config, port=broker.port, clip=clip)
    watch = Watch(ha)
    poller = threading.Thread(target=watch.run, daemon=True)
    poller.start()
    with (
        Subscriber(broker, ["posed/dev/availability"]) as availability,
        Daemon(config, tmp / "posed.log") as posed,
    ):
        try:
            _check_everything(
                ha, watch, posed, availability, clip=clip, kept=kept, config=config, broker=broker
            )
        finally:
            watch._stop.set()
            poller.join()
            print(posed.log_text()[-3000:])


def _check_everything(
    ha: HomeAssistantCore,
    watch: Watch,
    posed: Daemon,
    availability: Subscriber,
    *,
    clip: Path,
    kept: Path,
    config: Path,
    broker: Mosquitto,
) -> None:
    # -- everything comes up, with measured values ------------------------------------------
    for camera in CAMERAS:
        wait_state(ha, entity(camera, "people"), is_number, 120, "a person count")
        wait_state(ha, entity(camera, "occupancy"), lambda s: s in ("on", "off"), 30, "on/off")
        wait_state(ha, entity(camera, "connectivity"), lambda s: s == "on", 30, "connected")
        wait_state(ha, entity(camera, "inference_time"), is_number, 30, "an inference time")
        wait_state(ha, entity(camera, "processing_rate"), is_number, 30, "a processing rate")
    wait_state(ha, "sensor.posed_dev_cpu", is_number, 30, "a CPU figure")
    wait_state(ha, "sensor.posed_dev_memory", is_number, 30, "a memory figure")

    # -- devices and names ----------------------------------------------------------------------
    devices, entities = ha.ws(
        {"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}
    )
    ours = {d["name"]: d for d in devices if d.get("manufacturer") == "posed"}
    assert set(ours) == {"posed dev", *CAMERAS}, sorted(ours)
    host = ours["posed dev"]
    assert host["model"] == "blazepose-lite on tflite" and host["sw_version"]
    for camera in CAMERAS:
        assert ours[camera]["via_device_id"] == host["id"], camera
    registry = {e["entity_id"]: e for e in entities if e["platform"] == "mqtt"}
    names = {"people": "People", "occupancy": "Occupancy", "processing_rate": "Processing rate",
             "inference_time": "Inference time", "connectivity": "Connectivity"}  # fmt: skip
    for camera in CAMERAS:
        for key, name in names.items():
            entry = registry[entity(camera, key)]
            assert entry["has_entity_name"] is True and entry["original_name"] == name, entry
            assert entry["device_id"] == ours[camera]["id"] and entry["disabled_by"] is None
        for key in ("camera_fps", "skipped_fps", "reconnects", "stalls"):
            assert registry[entity(camera, key)]["disabled_by"] == "integration", key
    assert registry["sensor.posed_dev_cpu"]["device_id"] == host["id"]
    assert registry["sensor.posed_dev_uptime"]["disabled_by"] == "integration"
    people = ha.state(entity("street", "people"))
    assert people is not None and people["attributes"]["unit_of_measurement"] == "people"
    assert people["attributes"]["friendly_name"] == "street People"

    # -- a dead camera: its entities unavailable, its connectivity off, the others untouched ----
    clip.unlink()
    for key in MAIN:
        wait_state(ha, entity("clip", key), lambda s: s == "unavailable", 60, "unavailable")
    assert wait_state(ha, entity("clip", "connectivity"), lambda s: s == "off", 10, "off") == "off"
    for key in MAIN:
        state = ha.state(entity("street", key))
        assert state is not None and state["state"] != "unavailable", key
    # ... and back, with fresh states.
    mark = watch.mark()
    shutil.copy(kept, clip)
    wait_state(ha, entity("clip", "people"), is_number, 60, "a person count again")
    wait_state(ha, entity("clip", "connectivity"), lambda s: s == "on", 30, "connected again")
    wait_state(ha, entity("clip", "processing_rate"), is_number, 30, "a processing rate again")
    assert "unavailable" not in watch.since(mark, entity("clip", "connectivity"))

    # -- a reload that adds a camera does not blink anything -----------------------------------
    availability.clear()
    mark = watch.mark()
    write_config(config, port=broker.port, clip=clip, extra_camera=True)
    posed.signal(signal.SIGHUP)
    wait_state(ha, entity("side", "people"), is_number, 90, "the new camera's count")
    time.sleep(2)  # let the poller see a while after the reload
    assert [m.text for m in availability.snapshot()] == [], "the device's availability was re-published"
    for camera in CAMERAS:
        for key in MAIN:
            assert "unavailable" not in watch.since(mark, entity(camera, key)), (camera, key)

    # -- no made-up 0.0 measurement, ever -------------------------------------------------------
    for camera in (*CAMERAS, "side"):
        for key in ("inference_time", "processing_rate"):
            values = watch.seen.get(entity(camera, key), [])
            assert values and not [v for v in values if is_number(v) and float(v) == 0.0], (
                camera,
                key,
                values,
            )

    # -- Home Assistant restarts: the entities are back at once, from retained state ------------
    ha.stop()
    ha.start()
    for camera in CAMERAS:
        for key in MAIN:
            wait_state(ha, entity(camera, key), lambda s: s not in ("unknown", "unavailable"), 60, "a state")
    wait_state(ha, "sensor.posed_dev_memory", is_number, 10, "a memory figure")

    # -- a reload that removes a camera removes its entities from HA's registry ---------------
    mark = watch.mark()
    write_config(config, port=broker.port, clip=clip)
    posed.signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while True:
        (entries,) = ha.ws({"type": "config/entity_registry/list"})
        left = [e["entity_id"] for e in entries if "posed_dev_side_" in e["entity_id"]]
        if not left:
            break
        assert time.monotonic() < deadline, f"still registered: {left}"
        time.sleep(1)
    for camera in CAMERAS:
        assert "unavailable" not in watch.since(mark, entity(camera, "people")), camera

    # -- posed killed: unavailable through the last will; started again: back, not stuck ------
    posed.process.kill()
    posed.process.wait()
    for camera in CAMERAS:
        wait_state(ha, entity(camera, "people"), lambda s: s == "unavailable", 30, "unavailable")
        wait_state(ha, entity(camera, "connectivity"), lambda s: s == "unavailable", 10, "unavailable")
    with Daemon(config, config.with_name("posed-again.log")):
        for camera in CAMERAS:
            wait_state(ha, entity(camera, "people"), is_number, 120, "a person count again")
            wait_state(ha, entity(camera, "inference_time"), is_number, 30, "an inference time again")

    # -- Home Assistant had nothing to say about posed's payloads -------------------------------
    complaints = [
        line
        for line in ha.log_text().splitlines()
        if re.search(r"\b(WARNING|ERROR)\b", line) and re.search(r"mqtt|posed", line, re.IGNORECASE)
    ]
    assert complaints == [], "\n".join(complaints)
