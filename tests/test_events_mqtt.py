"""The event topics through a real Mosquitto, with the Publisher alone (no daemon, no model):
state only on change, events at QoS 1, and a removed zone or exercise leaves nothing retained."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from posed.events.engine import EventState
from posed.mqtt.events_discovery import CameraEvents
from posed.mqtt.publisher import Publisher
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.mqtt_support import Streamer, config, document, validate, wait

HA = {"homeassistant": {"enabled": True}}
BASE = "posed/dev/front"


def started(broker: Mosquitto, setup: CameraEvents, resets: list[tuple[str, str]] | None = None) -> Publisher:
    publisher = Publisher(
        config(broker, **HA),
        "dev",
        cameras=["front"],
        model="blazepose-full",
        backend="tflite",
        events={"front": setup},
        on_reset=None if resets is None else lambda camera, exercise: resets.append((camera, exercise)),
    )
    publisher.start()
    deadline = time.monotonic() + 10
    while not publisher.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return publisher


def state(sofa: int, bed: int, fallen: bool, squats: int) -> EventState:
    return EventState(zones={"sofa": sofa, "bed": bed}, fallen=fallen, reps={"squat": squats})


def on(topic: str, text: str) -> Callable[[Received], bool]:
    return lambda m: m.topic == topic and m.text == text


def texts(messages: list[Received], topic: str) -> list[str]:
    return [m.text for m in messages if m.topic == topic]


def test_events_and_state_reach_the_broker_and_a_press_reaches_the_handler(tmp_path: Path) -> None:
    resets: list[tuple[str, str]] = []
    with (
        Mosquitto(tmp_path) as broker,
        Subscriber(broker, ["posed/#", "homeassistant/#"]) as sub,
        started(broker, CameraEvents(zones=("sofa", "bed"), exercises=("squat",)), resets) as publisher,
    ):
        sub.wait_for(on(f"{BASE}/reps/squat/count", "0"))  # what posed knows at start
        event = {
            "schema_version": 1,
            "type": "fall",
            "person": 2,
            "timestamp": 1.5,
            "state": "detected",
            "zone": "bed",
        }
        publisher.publish_events("front", [event], state(0, 1, True, 0))
        got = sub.wait_for(lambda m: m.topic == f"{BASE}/events")
        assert json.loads(got.payload) == event and got.qos == 1 and not got.retain
        sub.wait_for(on(f"{BASE}/fall", "ON"))
        sub.wait_for(on(f"{BASE}/zones/bed/occupancy", "ON"))
        sub.wait_for(on(f"{BASE}/zones/bed/count", "1"))
        # the same state again puts nothing new on the wire
        publisher.publish_events("front", [], state(0, 1, True, 0))
        publisher.publish_events("front", [], state(0, 1, False, 0))
        sub.wait_until(lambda ms: len(texts(ms, f"{BASE}/fall")) >= 3)
        assert texts(sub.snapshot(), f"{BASE}/fall") == ["OFF", "ON", "OFF"]
        for message in sub.snapshot():
            validate(publisher.topics, message)
        reset = f"{BASE}/reps/squat/reset"
        sub.publish(reset, b"PRESS")
        # A retained press reaches a connected posed live (MQTT clears the retain flag for
        # existing subscribers), so it counts once; its clearing (empty) must not count.
        sub.publish(reset, b"PRESS", retain=True)
        sub.publish(reset, b"", retain=True)
        sub.publish(reset, b"PRESS")  # processed after the empty one, in order
        deadline = time.monotonic() + 10
        while len(resets) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert resets == [("front", "squat")] * 3


def test_a_removed_zone_or_exercise_leaves_nothing_retained(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/#", "homeassistant/#"]) as sub:
        with started(broker, CameraEvents(zones=("sofa", "bed"), exercises=("squat",))) as first:
            first.publish_events("front", [], state(1, 1, False, 4))
            sub.wait_for(on(f"{BASE}/reps/squat/count", "4"))
            sub.wait_for(on(f"{BASE}/zones/bed/count", "1"))
            sub.wait_for(lambda m: m.topic.endswith("/front_squat_reset/config"))
        sub.clear()
        with started(broker, CameraEvents(zones=("sofa",), exercises=())) as second:
            second.publish_events("front", [], state(1, 0, False, 0))
            for gone in (
                f"{BASE}/zones/bed/occupancy",
                f"{BASE}/zones/bed/count",
                f"{BASE}/reps/squat/count",
                first.topics.discovery_of("button", "front_squat_reset"),
                first.topics.discovery_of("sensor", "front_zone_bed_people"),
            ):
                sub.wait_for(on(gone, ""), timeout=15)  # cleared with an empty retained message
        with Subscriber(broker, ["posed/dev/front/#"]) as late:
            wanted = {f"{BASE}/zones/sofa/occupancy", f"{BASE}/zones/sofa/count", f"{BASE}/fall"}
            kept = late.wait_until(lambda ms: wanted <= {m.topic for m in ms})
            retained = {m.topic for m in kept if m.retain and m.payload}
    assert wanted <= retained
    assert not [t for t in retained if "/bed/" in t or "/reps/" in t], sorted(retained)


def test_events_outlive_an_outage_that_overflows_the_pose_queue(tmp_path: Path) -> None:
    """Guards: a fall or rep that happens while the broker is away reaches it after the
    reconnect, even when far more pose messages than `queue_size` were dropped meanwhile;
    events keep their order and go out before the poses that waited."""
    events_topic, poses_topic = f"{BASE}/events", f"{BASE}/poses"
    # A persistent QoS 1 session on a broker that saves it on a clean stop: whoever of posed
    # and the subscriber reconnects first, the broker keeps the events for the subscriber.
    broker = Mosquitto(tmp_path, persistence=True)
    with (
        broker,
        Subscriber(broker, [events_topic, poses_topic], client_id="events-sub", clean_session=False) as sub,
    ):
        cfg = config(broker, queue_size=5, reconnect_min_delay=0.2, reconnect_max_delay=1.0)
        setup = CameraEvents(zones=(), exercises=("squat",), falls=True)
        with Publisher(
            cfg, "dev", cameras=["front"], model="m", backend="b", events={"front": setup}
        ) as publisher:
            publisher.start()
            wait(lambda: publisher.connected, 10, "the first connection")
            with Streamer(publisher) as stream:
                sub.wait_for(lambda m: m.topic == poses_topic)
                broker.stop()
                wait(lambda: not publisher.connected, 30, "posed to notice the broker is gone")
                events = [
                    {"schema_version": 1, "type": "rep", "person": 1, "timestamp": float(i), "count": i}
                    for i in range(1, 31)
                ]
                for i, event in enumerate(events):
                    publisher.publish_events("front", [event], state(0, 0, False, i + 1))
                # Poses overflow their queue of 5 many times over while the events wait.
                before = publisher.dropped
                wait(lambda: publisher.dropped > before + 20, 60, "the pose queue to overflow")
                assert publisher.counters().events_queued == len(events)
                broker.start()
                wait(lambda: publisher.connected, 60, "the reconnection")
                resumed_from = stream.sent
                sub.wait_for(
                    lambda m: m.topic == poses_topic and int(document(m)["frame"]) > resumed_from, 60
                )
            sub.wait_until(lambda ms: sum(m.topic == events_topic for m in ms) >= len(events), 60)
            counters = publisher.counters()
        received = [json.loads(m.payload) for m in sub.snapshot() if m.topic == events_topic]
        assert received == events, "every event of the outage arrives once, in order"
        assert counters.events_dropped == 0 and counters.events_queued == 0
        topics_in_order = [m.topic for m in sub.snapshot()]
        first_event = topics_in_order.index(events_topic)
        # Nothing that waited with them overtook the events.
        assert poses_topic not in topics_in_order[first_event : first_event + len(events)]
