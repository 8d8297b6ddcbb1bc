"""The `snapshots:` section, each camera's `privacy`, and what they change: checks, reloads, entities."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from posed.config.loader import load_config
from posed.daemon.publishing import camera_events
from posed.daemon.reload import plan_reload
from posed.errors import ConfigError
from posed.evidence.recorder import default_directory
from posed.mqtt.discovery import DiscoveryMessage
from posed.mqtt.snapshot_topics import SnapshotTopics, snapshot_discovery
from posed.mqtt.topics import Topics
from tests.conftest import MODELS, POSED

BASE = """\
device_id: dev
backend: {{type: tflite, num_threads: 1}}
model: {{name: blazepose-lite}}
cameras:
  hall: {{type: video, path: a.avi, privacy: {privacy}, zones: {{bed: {{points: [[0, 0], [1, 0], [1, 1]]}}}}}}
  yard: {{type: video, path: b.avi}}
snapshots: {snapshots}
"""


def write(
    tmp_path: Path, *, privacy: str = "full", snapshots: str = "{enabled: true}", name: str = "c"
) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(privacy=privacy, snapshots=snapshots))
    return path


def test_off_by_default_and_falls_and_gestures_when_on(tmp_path: Path) -> None:
    off = load_config(write(tmp_path, snapshots="{}")).config
    assert not off.snapshots.enabled and off.cameras["hall"].privacy == "full"
    on = load_config(write(tmp_path, name="on")).config.snapshots
    assert on.kinds == ["fall", "gesture"] and not on.clips.enabled


@pytest.mark.parametrize(
    ("privacy", "snapshots", "key", "says"),
    [
        ("hidden", "{enabled: true}", "cameras.hall.privacy", "full"),
        ("full", "{enabled: true, kinds: [fall, fall]}", "snapshots.kinds", "twice"),
        ("full", "{enabled: true, kinds: [sneeze]}", "snapshots.kinds", "gesture"),
        ("full", "{enabled: true, max_count: 0}", "snapshots.max_count", "1"),
        ("full", "{enabled: true, clips: {before_seconds: 60}}", "snapshots.clips.before_seconds", "15"),
    ],
)
def test_bad_settings_name_their_key_and_what_is_valid(
    tmp_path: Path, privacy: str, snapshots: str, key: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, privacy=privacy, snapshots=snapshots))
    (issue,) = caught.value.issues
    assert issue.key.startswith(key) and issue.line is not None and says in issue.message, issue


def test_posed_check_refuses_a_store_directory_it_cannot_make(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file")
    path = write(tmp_path, snapshots=f"{{enabled: true, directory: {blocker / 'snapshots'}}}")
    result = subprocess.run(
        [*POSED, "check", "-c", str(path), "--model-dir", str(MODELS)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert (
        "snapshots.directory" in result.stderr + result.stdout
        and "not a directory" in result.stderr + result.stdout
    )


def test_the_default_directory_follows_systemd_then_xdg() -> None:
    assert default_directory({"STATE_DIRECTORY": "/var/lib/posed:/other"}) == Path("/var/lib/posed/snapshots")
    assert default_directory({"XDG_STATE_HOME": "/home/u/.state"}) == Path("/home/u/.state/posed/snapshots")


def test_a_changed_snapshots_section_restarts_the_recorder_and_the_entities(tmp_path: Path) -> None:
    old = load_config(write(tmp_path, name="old"))
    new = load_config(write(tmp_path, snapshots="{enabled: true, kinds: [fall, zone]}", name="new"))
    plan = plan_reload(old, new)
    assert plan.evidence and plan.publisher and not plan.cameras_changed and not plan.estimators
    private = load_config(write(tmp_path, privacy="skeleton", name="private"))
    plan = plan_reload(old, private)
    assert plan.cameras_changed == ("hall",) and not plan.evidence


def test_an_image_entity_per_camera_and_kind_its_analyzers_can_raise(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, snapshots="{enabled: true, kinds: [fall, zone, rep]}"))
    events = camera_events(loaded)
    # No exercise is configured (no rep images); only `hall` has a zone.
    assert events["hall"].snapshots == ("fall", "zone") and events["yard"].snapshots == ("fall",)
    topics = Topics("posed", "dev")
    devices = [
        DiscoveryMessage("x", {"device": {"identifiers": [f"{topics.ha_node_id}_{c}"]}, "qos": 1})
        for c in ("hall", "yard")
    ]
    messages = snapshot_discovery(topics, events, devices)
    assert [m.topic for m in messages] == [
        topics.discovery_of("image", key)
        for key in ("hall_fall_snapshot", "hall_zone_snapshot", "yard_fall_snapshot")
    ]
    document = messages[0].document
    assert document["image_topic"] == "posed/dev/hall/events/fall/snapshot" and document["qos"] == 1
    assert document["availability"] == [{"topic": topics.availability}]  # not the camera's
    json.dumps(document)
    off = load_config(write(tmp_path, snapshots="{}", name="off"))
    assert all(not e.snapshots for e in camera_events(off).values())


class Connection:
    def __init__(self) -> None:
        self.states: dict[str, bytes] = {}

    def put_state(self, topic: str, payload: bytes) -> None:
        self.states[topic] = payload

    def wake(self) -> None:
        pass


def test_snapshots_are_retained_state_of_configured_kinds_only(tmp_path: Path) -> None:
    events = camera_events(load_config(write(tmp_path)))
    topics = Topics("posed", "dev")
    connection = Connection()
    family = SnapshotTopics(topics, connection, events)  # type: ignore[arg-type]
    assert family.retained_topics() == [
        f"posed/dev/{camera}/events/{kind}/snapshot"
        for camera in ("hall", "yard")
        for kind in ("fall", "gesture")
    ]
    family.publish("hall", "fall", b"\xff\xd8\xffjpeg")
    family.publish("hall", "zone", b"\xff\xd8\xffnot configured")
    family.publish("gone", "fall", b"\xff\xd8\xffremoved by a reload")
    assert connection.states == {"posed/dev/hall/events/fall/snapshot": b"\xff\xd8\xffjpeg"}


def test_each_camera_privacy_reaches_the_recorder_and_the_preview(tmp_path: Path) -> None:
    from posed.daemon.evidence import camera_privacy
    from posed.daemon.preview import camera_views

    loaded = load_config(write(tmp_path, privacy="skeleton"))
    assert camera_privacy(loaded) == {"hall": "skeleton", "yard": "full"}
    views = camera_views(loaded)
    assert views["hall"].privacy == "skeleton" and views["yard"].privacy == "full"


def test_a_store_directory_that_cannot_be_made_is_a_config_error_and_a_reload_keeps_the_old(
    tmp_path: Path,
) -> None:
    from posed.daemon.evidence import EvidencePart
    from posed.events.stage import EventStage
    from posed.preview.tap import PreviewTap

    class Sink:
        def publish_snapshot(self, camera: str, kind: str, jpeg: bytes) -> None:
            pass

        def publish_events(self, *args: object) -> None:
            pass

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    good = load_config(
        write(tmp_path, snapshots=f"{{enabled: true, directory: {tmp_path / 'ok'}}}", name="good")
    )
    bad = load_config(write(tmp_path, snapshots=f"{{enabled: true, directory: {blocker / 's'}}}", name="bad"))
    tap = PreviewTap()
    part = EvidencePart(Sink(), EventStage(Sink(), tap), tap)
    with pytest.raises(ConfigError) as caught:
        part.start(bad)
    (issue,) = caught.value.issues
    assert issue.key == "snapshots.directory" and issue.line is not None and str(blocker) in issue.message
    part.start(good)
    with pytest.raises(ConfigError):
        part.apply(good, bad)
    assert part.recorder is not None and part.recorder.store.directory == tmp_path / "ok"
    assert tap.evidence is part.recorder.store
    part.close()
