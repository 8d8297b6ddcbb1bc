"""What `posed run` would trip over is refused by `posed check`, on the line of the key to fix.

- a preview host this machine has no address for (run exited 1 and systemd restarted it every 5 s);
- an MQTT client id or user name holding NUL or a control character (run blamed the broker);
- cameras and zones whose Home Assistant entity ids collide (`front-door` and `front_door`,
  `Front` and `front`, camera `gym_zone_sofa` beside camera `gym`'s zone `sofa`);
- zones that outline no area (a bow-tie, a repeated point, points on one line), falls whose
  upright angle is not below the lying one, and an `ignore_zones` entry naming no zone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from posed.config import load_config
from posed.config.placed import ha_slug
from posed.errors import ConfigError, ConfigIssue
from posed.events.config import ZoneConfig
from posed.mqtt.discovery import discovery_messages
from posed.mqtt.events_discovery import CameraEvents, events_discovery
from posed.mqtt.topics import Topics
from tests.conftest import MEDIA, MODELS, POSED

BASE = """\
device_id: dev
backend: {type: tflite}
model: {name: blazepose-lite}
cameras:
  front: {type: video, path: clip.mp4}
"""


def issues_of(tmp_path: Path, text: str) -> list[ConfigIssue]:
    path = tmp_path / "posed.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.issues)


# -- check == run -------------------------------------------------------------------------------

UNBINDABLE = "preview: {enabled: true, host: 10.255.255.254, token: abcdefghijklmnopqrst}\n"


def test_a_preview_host_that_cannot_be_bound_fails_check_and_run_exits_78(tmp_path: Path) -> None:
    config = tmp_path / "posed.yaml"
    config.write_text(BASE.replace("clip.mp4", str(MEDIA / "vtest.avi")) + UNBINDABLE)
    check = subprocess.run(
        [*POSED, "check", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 2
    assert (
        f"{config}:6: preview.host: cannot listen on '10.255.255.254': Cannot assign requested address"
        in (check.stderr)
    )
    run = subprocess.run(
        [*POSED, "run", "-c", str(config), "--model-dir", str(MODELS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 78, run.stderr  # RestartPreventExitStatus: no restart every 5 s
    assert "preview.host: cannot listen on" in run.stderr


def test_preview_hosts_of_this_machine_pass(tmp_path: Path) -> None:
    from posed.config.preflight import preflight_document
    from posed.config.reader import read_document

    for host in ("127.0.0.1", "0.0.0.0", "localhost", "::1"):
        path = tmp_path / "posed.yaml"
        path.write_text(BASE + f"preview: {{enabled: true, host: '{host}', token: abcdefghijklmnopqrst}}\n")
        loaded = load_config(path)
        issues = preflight_document(path, read_document(path), loaded, cli_model_dir=MODELS)
        assert not [i for i in issues if i.key == "preview.host"], (host, issues)


@pytest.mark.parametrize(
    ("line", "key", "needle"),
    [
        ('mqtt: {client_id: "posed\\0x"}', "mqtt.client_id", "must not contain NUL"),
        ('mqtt: {client_id: "a\\tb"}', "mqtt.client_id", "control character U+0009"),
        ('mqtt: {username: "u\\x07"}', "mqtt.username", "control character U+0007"),
        ('mqtt: {topic_prefix: "p\\ud800"}', "mqtt.topic_prefix", "valid string"),
        ("mqtt: {host: 'u:pw@broker'}", "mqtt.host", "holds user-info"),
        ("mqtt: {host: 'mqtt://broker'}", "mqtt.host", "not a URL"),
        ("mqtt: {host: 'broker:1883'}", "mqtt.host", "the port goes in mqtt.port"),
    ],
)
def test_mqtt_text_the_broker_would_refuse_fails_check(
    tmp_path: Path, line: str, key: str, needle: str
) -> None:
    (issue,) = issues_of(tmp_path, BASE + line + "\n")
    assert (issue.key, issue.line) == (key, 6) and needle in issue.message, issue


def test_mqtt_hosts_that_are_fine(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "::1", "[::1]", "broker.local", "mqtt_1", "fe80::1%eth0"):
        path = tmp_path / "posed.yaml"
        path.write_text(BASE + f"mqtt: {{host: '{host}', client_id: 'posed-é ok'}}\n")
        assert load_config(path).config.mqtt.host == host


# -- frame memory -------------------------------------------------------------------------------


def test_a_frame_size_the_units_memory_cannot_hold_is_refused_at_check(tmp_path: Path) -> None:
    text = BASE.replace("clip.mp4}", "clip.mp4, width: 16384, height: 16384}")
    (issue,) = issues_of(tmp_path, text)
    assert (issue.key, issue.line) == ("cameras.front", 5), issue
    assert "16384 x 16384 = 268,435,456 pixels" in issue.message and "MemoryMax=1G" in issue.message
    path = tmp_path / "8k.yaml"
    path.write_text(BASE.replace("clip.mp4}", "clip.mp4, width: 7680, height: 4320}"))
    assert load_config(path).config.cameras["front"].width == 7680


def test_cameras_whose_frames_together_exceed_the_memory_are_refused(tmp_path: Path) -> None:
    cameras = "".join(f"  c{i}: {{type: video, path: a.mp4, width: 7680, height: 4320}}\n" for i in range(2))
    (issue,) = issues_of(tmp_path, BASE.replace("  front: {type: video, path: clip.mp4}\n", cameras))
    assert (issue.key, issue.line) == (
        "cameras",
        4,
    ) and "the 2 cameras' frames together hold" in issue.message


def test_one_side_given_is_bounded_when_the_source_says_its_size() -> None:
    import numpy as np

    from posed.cameras.convert import ToRgb
    from posed.errors import CameraError

    to_rgb = ToRgb(width=16384)
    with pytest.raises(CameraError, match=r"resized to 16384 x 16384.*give both width and height"):
        to_rgb(np.zeros((64, 64, 3), dtype=np.uint8))
    assert ToRgb(width=128)(np.zeros((64, 64, 3), dtype=np.uint8)).shape == (128, 128, 3)


# -- Home Assistant entity ids ------------------------------------------------------------------

HA = "mqtt: {homeassistant: {enabled: true}}\n"


@pytest.mark.parametrize(
    ("cameras", "key", "other", "entity"),
    [
        ("  front-door: {type: video, path: a.mp4}\n  front_door: {type: video, path: a.mp4}\n",
         "cameras.front_door", "cameras.front-door", "sensor.posed_dev_front_door_people"),
        ("  Front: {type: video, path: a.mp4}\n  front: {type: video, path: a.mp4}\n",
         "cameras.front", "cameras.Front", "sensor.posed_dev_front_people"),
        ("  a__b: {type: video, path: a.mp4}\n  a_b: {type: video, path: a.mp4}\n",
         "cameras.a_b", "cameras.a__b", "sensor.posed_dev_a_b_people"),
        ("  gym:\n    type: video\n    path: a.mp4\n    zones:\n"
         "      sofa: {points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}\n"
         "  gym_zone_sofa: {type: video, path: a.mp4}\n",
         "cameras.gym_zone_sofa", "cameras.gym.zones.sofa", "sensor.posed_dev_gym_zone_sofa_people"),
    ],
)  # fmt: skip
def test_colliding_entity_ids_are_refused_naming_both_keys(
    tmp_path: Path, cameras: str, key: str, other: str, entity: str
) -> None:
    text = BASE.replace("  front: {type: video, path: clip.mp4}\n", cameras) + HA
    issues = issues_of(tmp_path, text)
    assert [i.key for i in issues] == [key], issues
    (issue,) = issues
    assert entity in issue.message and other in issue.message and key in issue.message
    assert issue.line == text.splitlines().index(next(s for s in text.splitlines() if s.startswith(
        f"  {key.split('.')[1]}:"))) + 1  # fmt: skip
    # Without Home Assistant discovery nothing collides: MQTT topics are case-sensitive.
    path = tmp_path / "plain.yaml"
    path.write_text(text.replace(HA, ""))
    load_config(path)


def test_a_config_that_passes_has_unique_entity_ids_in_what_is_published(tmp_path: Path) -> None:
    names = ["front", "front-yard", "Garage", "gym", "gym_zone", "back_door", "sofa"]
    zone = "{points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}"
    cameras = "".join(
        f"  {n}: {{type: video, path: a.mp4, zones: {{sofa: {zone}, bed: {zone}}}}}\n" for n in names
    )
    path = tmp_path / "posed.yaml"
    path.write_text(
        BASE.replace("  front: {type: video, path: clip.mp4}\n", cameras)
        + HA
        + "events: {reps: {exercises: [squat]}}\n"
    )
    cfg = load_config(path).config
    topics = Topics(cfg.mqtt.topic_prefix, cfg.device_id)
    messages = discovery_messages(
        cfg.mqtt, topics, cameras=list(cfg.cameras), model="m", backend="b", version="1"
    )
    events = {
        n: CameraEvents(
            zones=tuple(c.zones), exercises=("squat",), gestures=tuple(cfg.events.gestures.gestures)
        )
        for n, c in cfg.cameras.items()
    }
    messages += events_discovery(topics, events, messages)
    ids = [
        f"{m.topic.split('/')[1]}.{ha_slug(m.document['object_id'])}"
        for m in messages
        if "object_id" in m.document
    ]
    assert len(ids) == len(set(ids)) and len(ids) > 100
    assert len({m.topic for m in messages}) == len(messages)


# -- zones and falls ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "needle"),
    [
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], "crosses itself"),
        ([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]], "crosses itself"),
        ([[0.2, 0.2], [0.2, 0.2], [0.2, 0.2]], "are the same point"),
        ([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]], "on one line"),
        ([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.1]], "are the same point"),
        ([[0.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.5, 1.0]], "crosses itself"),
        ([[0.0, 0.0], [0.001, 0.0], [0.0, 0.001]], "too small"),
    ],
)
def test_zones_that_outline_no_area_are_refused(
    tmp_path: Path, points: list[list[float]], needle: str
) -> None:
    text = BASE.replace("clip.mp4}", f"clip.mp4,\n    zones: {{bad: {{points: {points}}}}}}}")
    (issue,) = issues_of(tmp_path, text)
    assert (issue.key, issue.line) == ("cameras.front.zones.bad", 6) and needle in issue.message, issue


def test_real_zone_shapes_pass() -> None:
    for points in (
        [(0.1, 0.5), (0.4, 0.5), (0.4, 0.9)],
        [(0, 0), (1, 0), (1, 1), (0, 1)],
        [(0, 0), (0.5, 0), (1, 0), (1, 1), (0, 1)],  # a corner on a straight edge
        [(0, 0), (1, 0), (1, 1), (0.5, 0.2), (0, 1)],  # concave
    ):
        assert ZoneConfig.model_validate({"points": [list(p) for p in points]}).points[0] == points[0]


def test_upright_must_be_below_lying(tmp_path: Path) -> None:
    (issue,) = issues_of(tmp_path, BASE + "events: {falls: {upright_angle: 80, lying_angle: 30}}\n")
    assert (issue.key, issue.line) == ("events.falls", 6)
    assert "upright_angle (80) must be below lying_angle (30)" in issue.message


def test_an_unknown_ignore_zones_entry_is_refused_on_its_own_line(tmp_path: Path) -> None:
    text = (
        BASE.replace(
            "clip.mp4}", "clip.mp4,\n    zones: {sofa: {points: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]}}}"
        )
        + "events:\n  falls:\n    ignore_zones:\n      - sofa\n      - bed\n"
    )
    (issue,) = issues_of(tmp_path, text)
    assert (issue.key, issue.line) == ("events.falls.ignore_zones.1", 11), issue
    assert "'bed' is no camera's zone" in issue.message


def test_an_unknown_ignore_zones_entry_of_estimate_is_refused_on_its_line(tmp_path: Path) -> None:
    from posed.config.loader import load_model
    from posed.events.config import EventsFile

    path = tmp_path / "events.yaml"
    path.write_text("events:\n  falls:\n    ignore_zones: [bed]\n")
    with pytest.raises(ConfigError) as caught:
        load_model(path, EventsFile)
    (issue,) = caught.value.issues
    assert (issue.key, issue.line) == ("events.falls.ignore_zones.0", 3)
