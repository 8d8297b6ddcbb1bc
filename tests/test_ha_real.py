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


# -- snapshots and blueprints ------------------------------------------------------------------

BLUEPRINTS = Path(__file__).resolve().parents[1] / "blueprints" / "automation" / "posed"
FALL_SENSOR = "binary_sensor.posed_evid_hall_fall"
FALL_IMAGE = "image.posed_evid_hall_fall_snapshot"


def blueprint_automations() -> str:
    """One automation from each of posed's blueprints, the fall's sending persistent notifications."""
    return f"""\
- id: posed_fall
  alias: posed fall
  use_blueprint:
    path: posed/fall_notification.yaml
    input:
      fall_sensor: {FALL_SENSOR}
      snapshot: {FALL_IMAGE}
      notify_service: notify.persistent_notification
      repeat_minutes: 1
      max_repeats: 2
- id: posed_zone_light
  alias: posed zone light
  use_blueprint:
    path: posed/zone_light.yaml
    input:
      zone_occupancy: binary_sensor.posed_evid_hall_zone_floor_occupancy
      light_target: {{entity_id: light.hall}}
      off_delay: 30
- id: posed_gesture
  alias: posed gesture
  use_blueprint:
    path: posed/gesture_action.yaml
    input:
      gestures_event: event.posed_evid_hall_gestures
      gesture: hand_raised
      actions:
        - service: persistent_notification.create
          data: {{message: "hand raised"}}
- id: posed_reps
  alias: posed reps
  use_blueprint:
    path: posed/reps_counter.yaml
    input:
      reps_sensor: sensor.posed_evid_hall_squat_reps
      counter_entity: counter.squats_today
"""


def test_blueprints_load_and_a_real_fall_fires_the_fall_notification_with_its_snapshot(
    setup: tuple[HomeAssistantCore, Mosquitto, Path],
) -> None:
    from tests.evidence_support import fall_clip, idle_images

    ha, broker, tmp = setup
    clip = fall_clip()
    target = ha.directory / "blueprints" / "automation" / "posed"
    target.mkdir(parents=True, exist_ok=True)
    for blueprint in BLUEPRINTS.glob("*.yaml"):
        shutil.copy(blueprint, target / blueprint.name)
    (listed,) = ha.ws({"type": "blueprint/list", "domain": "automation"})
    ours = {path: entry for path, entry in listed.items() if path.startswith("posed/")}
    assert set(ours) == {f"posed/{b.name}" for b in BLUEPRINTS.glob("*.yaml")}, sorted(listed)
    for path, entry in ours.items():
        assert "error" not in entry and entry["metadata"]["domain"] == "automation", (path, entry)
    (ha.directory / "automations.yaml").write_text(blueprint_automations())
    ha.call("automation", "reload")
    for automation in ("posed_fall", "posed_zone_light", "posed_gesture", "posed_reps"):
        wait_state(ha, f"automation.{automation}", lambda s: s == "on", 30, "a valid automation")

    evidence = tmp / "evidence"
    config = tmp / "posed-evid.yaml"
    config.write_text(
        "device_id: evid\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        # Every frame analysed on the file's own clock, however busy the machine; looping keeps
        # the camera (and so the fall sensor) available after the fall.
        f"  hall: {{type: video, path: {clip}, realtime: false, loop: true}}\n"
        f"  idle: {{type: images, path: {idle_images(tmp / 'idle')}, realtime: true, fps: 2, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, homeassistant: {{enabled: true}}}}\n"
        f"snapshots: {{enabled: true, directory: {evidence}, min_free_megabytes: 0}}\n"
    )
    topic = "posed/evid/hall/events/fall/snapshot"
    with Subscriber(broker, [topic]) as snapshots, Daemon(config, tmp / "posed-evid.log") as posed:
        try:
            wait_state(ha, FALL_SENSOR, lambda s: s == "on", 240, "a fall")
            jpeg = snapshots.wait_for(lambda m: m.topic == topic, timeout=30).payload
            wait_state(ha, FALL_IMAGE, lambda s: s not in ("unknown", "unavailable"), 30, "a snapshot")
            assert ha.raw(f"/api/image_proxy/{FALL_IMAGE}") == jpeg  # HA shows posed's picture
            assert jpeg in [p.read_bytes() for p in evidence.glob("*-fall-*.jpg")]
            deadline = time.monotonic() + 30
            while True:
                (notes,) = ha.ws({"type": "persistent_notification/get"})
                sent = [
                    n for n in notes if n["notification_id"] == f"posed_fall_{FALL_SENSOR.replace('.', '_')}"
                ]
                if sent or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert sent, notes
            assert f"/api/image_proxy/{FALL_IMAGE}" in sent[0]["message"] and "hall" in sent[0]["message"]
            fired = ha.state("automation.posed_fall")
            assert fired is not None and fired["attributes"]["last_triggered"] is not None
        finally:
            print(posed.log_text()[-3000:])
