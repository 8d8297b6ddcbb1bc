"""Retained topics of a camera removed from the config are cleared, Home Assistant entities too.

Real Mosquitto: one publisher runs with two cameras, a second one (a restart with
a new config) with only one; a late subscriber then sees what the broker retains.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from posed.mqtt.cleanup import RetainedCleanup
from posed.mqtt.publisher import Publisher
from posed.mqtt.topics import Topics
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.mqtt_support import config, frames, poses_for, wait

HA = {"homeassistant": {"enabled": True, "discovery_prefix": "ha"}}
TOPICS = Topics("posed", "dev", "ha")
Done = Callable[[list[Received]], bool]


def retained(broker: Mosquitto, patterns: list[str]) -> dict[str, bytes]:
    """Every retained message the broker holds under `patterns` (a fresh subscriber gets them)."""
    with Subscriber(broker, patterns) as late:
        late.barrier()  # the broker sent the retained messages first: they are all here
        messages: list[Received] = late.snapshot()
    return {m.topic: m.payload for m in messages if m.retain and m.payload}


def live(messages: list[Received], topic: str) -> list[bytes]:
    """Payloads published on `topic` while the watcher was subscribed (not the retained replay)."""
    return [m.payload for m in messages if m.topic == topic and not m.retain]


def announced(cameras: list[str], *, ha: bool) -> Done:
    """Done when each camera's retained state (and its 4 discovery entities) went out."""

    def done(ms: list[Received]) -> bool:
        for camera in cameras:
            state = (TOPICS.count(camera), TOPICS.presence(camera), TOPICS.status(camera))
            if not all(live(ms, topic) for topic in state):
                return False
            discovery = {m.topic for m in ms if m.topic.startswith("ha/") and f"/{camera}_" in m.topic}
            if ha and len(discovery) < 4:
                return False
        return True

    return done


def cleared(topics: set[str]) -> Done:
    """Done when every one of `topics` was cleared (an empty retained publish)."""
    return lambda ms: all(b"" in live(ms, topic) for topic in topics)


def run_publisher(broker: Mosquitto, cameras: list[str], *, ha: bool, done: Done) -> Topics:
    """One run of posed's publisher; returns once `done(what a watcher saw)` holds."""
    cfg = config(broker, **(HA if ha else {}))
    with (
        Subscriber(broker, ["posed/#", "ha/#"]) as watcher,
        Publisher(cfg, "dev", cameras=cameras, model="blazepose-full", backend="tflite") as pub,
    ):
        pub.start()
        wait(lambda: pub.connected, 10, "the connection")
        for camera in cameras:
            pub.publish_camera_status(camera, "online")
            for frame, _ in zip(frames(), range(3), strict=False):
                people = poses_for(frame, 1)
                size = {"width": frame.width, "height": frame.height}
                pub.publish_poses(camera, frame, people, inference_ms=5.0, **size)
        watcher.wait_until(done, timeout=30)  # the broker's retained answers, and our clearing
        assert pub.topics.count(cameras[0]) == TOPICS.count(cameras[0])
        return pub.topics


def test_a_removed_camera_leaves_nothing_retained(tmp_path: Path) -> None:
    """Guards: retained topics (and HA entities) of a camera removed from the config are cleared."""
    with Mosquitto(tmp_path) as broker:
        topics = run_publisher(broker, ["front", "back"], ha=True, done=announced(["front", "back"], ha=True))
        everything = ["posed/dev/#", "ha/#"]
        before = retained(broker, everything)
        back = {t for t in before if "/back/" in t or "/back_" in t}
        assert {topics.count("back"), topics.presence("back"), topics.status("back")} <= back
        assert sum("ha/" in t for t in back) == 9, sorted(back)

        run_publisher(broker, ["front"], ha=True, done=cleared(back))
        after = retained(broker, everything)
    assert not [t for t in after if "/back/" in t or "/back_" in t], sorted(after)
    # The camera still configured keeps its entities and state.
    assert {t for t in before if "back" not in t} <= set(after)


def test_without_home_assistant_discovery_is_left_alone(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker:
        topics = run_publisher(broker, ["front", "back"], ha=True, done=announced(["front", "back"], ha=True))
        own = {topics.count("back"), topics.presence("back"), topics.status("back")}
        run_publisher(broker, ["front"], ha=False, done=cleared(own))
        after = retained(broker, ["posed/dev/#", "ha/#"])
    # posed's own retained state of the removed camera is cleared either way ...
    assert topics.count("back") not in after and topics.status("back") not in after
    # ... but discovery belongs to Home Assistant integration the user switched off.
    assert sum(t.startswith("ha/") and "back_" in t for t in after) == 9


def _config_of(topics: Topics) -> bytes:
    return json.dumps({"availability": [{"topic": topics.availability}]}).encode()


def test_what_counts_as_stale() -> None:
    topics = Topics("posed", "dev", "ha")
    keep = [topics.count("front"), topics.discovery("sensor", "front_people")]
    cleanup = RetainedCleanup(topics, frozenset(keep), homeassistant=True)
    ours = _config_of(topics)
    assert cleanup.is_stale(topics.count("back"), b"1", retained=True)
    assert cleanup.is_stale(topics.camera_availability("back"), b"online", retained=True)
    assert cleanup.is_stale(topics.diagnostics("back"), b"{}", retained=True)
    assert cleanup.is_stale(topics.discovery("sensor", "back_people"), ours, retained=True)
    # Only what this instance published: a config of another device, or not JSON, stays.
    other = _config_of(Topics("elsewhere", "dev", "ha"))
    assert not cleanup.is_stale(topics.discovery("sensor", "back_people"), other, retained=True)
    assert not cleanup.is_stale(topics.discovery("sensor", "back_people"), b"{}", retained=True)
    assert not cleanup.is_stale(topics.discovery("sensor", "back_people"), b"\xff", retained=True)
    # The prefix-blind node id of earlier versions: ours are cleared, another prefix's kept.
    legacy = f"ha/sensor/{topics.legacy_ha_node_id}/front_person_count/config"
    assert cleanup.is_stale(legacy, ours, retained=True)
    assert not cleanup.is_stale(legacy, other, retained=True)
    assert not cleanup.is_stale(topics.count("front"), b"1", retained=True)  # still ours
    assert not cleanup.is_stale(topics.count("back"), b"1", retained=False)  # a live echo
    assert not cleanup.is_stale(topics.count("back"), b"", retained=True)  # already cleared
    assert not cleanup.is_stale(topics.poses("back"), b"{}", retained=True)  # never retained by us
    assert not cleanup.is_stale("ha/sensor/posed_other/x_person_count/config", b"{}", retained=True)
    assert not cleanup.is_stale("posed/other/back/count", b"1", retained=True)


def test_same_device_id_under_two_prefixes_never_deletes_the_other(tmp_path: Path) -> None:
    """Guards: the node id is unique per (topic_prefix, device_id), and the clean-up
    clears only discovery configs whose availability topic is this device's.

    No settle times: the test waits for each publisher's configs to reach a watcher, and for
    the second to clear a stale config of its own, which proves it has handled the broker's
    retained answers (and would have cleared anything else it wrongly took for its own).
    """
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["ha/#"]) as watcher:
        first = Publisher(
            config(broker, topic_prefix="site-a", **HA),
            "dev",
            cameras=["front", "back"],
            model="m",
            backend="b",
        )
        with first:
            first.start()
            _wait_connected(first)
            watcher.wait_until(lambda ms: len(_configs(first.topics, ms)) >= 5 + 2 * 9, timeout=30)
        # The same device id under another prefix, with fewer cameras.
        second = Publisher(
            config(broker, topic_prefix="site-b", **HA), "dev", cameras=["front"], model="m", backend="b"
        )
        stale = second.topics.discovery("sensor", "gone_person_count")
        watcher.publish(stale, _config_of(second.topics), retain=True)
        with second:
            second.start()
            _wait_connected(second)
            watcher.wait_until(lambda ms: len(_configs(second.topics, ms) - {stale}) >= 5 + 9, timeout=30)
            watcher.wait_until(lambda ms: b"" in live(ms, stale), timeout=30)
        kept = retained(broker, ["ha/#"])
    a_back = [t for t in kept if first.topics.ha_node_id in t and "/back_" in t]
    assert len(a_back) == 9, sorted(kept)
    assert first.topics.ha_node_id != second.topics.ha_node_id
    assert sum(second.topics.ha_node_id in t for t in kept) == 5 + 9


def _configs(topics: Topics, messages: list[Received]) -> set[str]:
    """The discovery configs under `topics`' node id that went out while the watcher listened."""
    return {m.topic for m in messages if topics.ha_node_id in m.topic and m.payload and not m.retain}


def test_configs_left_under_the_legacy_node_id_are_cleared_if_ours(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["ha/#"]) as sub:
        mine, theirs = Topics("posed", "dev", "ha"), Topics("other", "dev", "ha")
        legacy = f"ha/sensor/{mine.legacy_ha_node_id}"
        sub.publish(f"{legacy}/front_person_count/config", _config_of(mine), retain=True)
        sub.publish(f"{legacy}/side_person_count/config", _config_of(theirs), retain=True)
        run_publisher(broker, ["front"], ha=True, done=cleared({f"{legacy}/front_person_count/config"}))
        left = retained(broker, ["ha/#"])
    assert f"{legacy}/front_person_count/config" not in left
    assert f"{legacy}/side_person_count/config" in left


def _wait_connected(pub: Publisher) -> None:
    deadline = time.monotonic() + 10
    while not pub.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pub.connected
