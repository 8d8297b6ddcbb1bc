"""The bounded outbox: drop-oldest queue, latest state, the in-flight window, reconnects."""

from __future__ import annotations

from posed.mqtt.outbox import Lane, Message, Outbox


def _stream(i: int) -> Message:
    return Message("p/d/c/poses", str(i).encode(), 1, retain=False, lane=Lane.STREAM)


def _state(topic: str, payload: bytes, rank: int = 1) -> Message:
    return Message(topic, payload, 1, retain=True, lane=Lane.STATE, rank=rank)


def _drain(box: Outbox, start_mid: int = 1) -> list[Message]:
    out = []
    mid = start_mid
    while (m := box.take()) is not None:
        box.handed(mid, m)
        box.confirmed(mid)
        out.append(m)
        mid += 1
    return out


def test_queue_drops_the_oldest_and_counts() -> None:
    box = Outbox(queue_size=5, max_inflight=3, event_queue_size=100)
    for i in range(12):
        box.put_stream(_stream(i))
    assert box.queued == 5 and box.dropped == 7
    assert [m.payload for m in _drain(box)] == [b"7", b"8", b"9", b"10", b"11"]


def test_window_limits_what_is_handed_over() -> None:
    box = Outbox(queue_size=50, max_inflight=3, event_queue_size=100)
    for i in range(10):
        box.put_stream(_stream(i))
    taken = []
    for mid in range(1, 10):
        m = box.take()
        if m is None:
            break
        box.handed(mid, m)
        taken.append(m)
    assert len(taken) == 3 and box.inflight == 3 and box.take() is None
    box.confirmed(2)
    assert box.take() is not None


def test_state_keeps_only_the_latest_and_goes_first_in_rank_order() -> None:
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=100)
    box.put_stream(_stream(0))
    box.put_state(_state("a/availability", b"online", rank=2))
    box.put_state(_state("a/c/count", b"1"))
    box.put_state(_state("a/c/count", b"2"))
    box.put_state(_state("ha/config", b"{}", rank=0))
    box.put_latest(Message("a/stats", b"old", 0, retain=False, lane=Lane.LATEST))
    box.put_latest(Message("a/stats", b"new", 0, retain=False, lane=Lane.LATEST))
    sent = [(m.topic, m.payload) for m in _drain(box)]
    assert sent == [
        ("ha/config", b"{}"),
        ("a/c/count", b"2"),
        ("a/availability", b"online"),
        ("a/stats", b"new"),
        ("p/d/c/poses", b"0"),
    ]
    assert box.idle()


def test_reset_resends_unconfirmed_stream_messages_first_and_all_state() -> None:
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=100)
    box.put_state(_state("a/c/count", b"1"))
    for i in range(4):
        box.put_stream(_stream(i))
    handed = []
    for mid in range(1, 5):
        m = box.take()
        assert m is not None
        box.handed(mid, m)
        handed.append(m)
    box.confirmed(1)  # the state went through; poses 0..2 are unconfirmed, 3 still queued
    box.put_stream(_stream(4))
    box.reset()
    sent = [m.payload for m in _drain(box, start_mid=100)]
    assert sent == [b"1", b"0", b"1", b"2", b"3", b"4"]
    assert box.dropped == 0


def test_reset_respects_the_queue_bound() -> None:
    box = Outbox(queue_size=3, max_inflight=10, event_queue_size=100)
    for i in range(3):
        box.put_stream(_stream(i))
    for mid in range(1, 4):
        m = box.take()
        assert m is not None
        box.handed(mid, m)
    for i in range(3, 6):
        box.put_stream(_stream(i))
    box.reset()
    assert box.queued == 3 and box.dropped == 3
    assert [m.payload for m in _drain(box)] == [b"3", b"4", b"5"]


def test_an_ack_before_the_handover_is_recorded_is_not_lost() -> None:
    box = Outbox(queue_size=3, max_inflight=1, event_queue_size=100)
    box.put_stream(_stream(0))
    m = box.take()
    assert m is not None
    assert box.confirmed(7) is None  # paho's thread confirms mid 7 first...
    box.handed(7, m)  # ...then the sender records it
    assert box.inflight == 0


def test_give_back_and_drop() -> None:
    box = Outbox(queue_size=3, max_inflight=5, event_queue_size=100)
    box.put_stream(_stream(0))
    box.put_stream(_stream(1))
    first = box.take()
    assert first is not None
    box.give_back(first)
    assert [m.payload for m in _drain(box)] == [b"0", b"1"]
    box.put_state(_state("s", b"a"))
    old = box.take()
    assert old is not None
    box.put_state(_state("s", b"b"))
    box.give_back(old)  # superseded: only the newer value goes out
    assert [m.payload for m in _drain(box)] == [b"b"]
    box.drop(_stream(9))
    assert box.dropped == 1


def test_give_back_to_a_full_queue_keeps_the_bound() -> None:
    """Guards: the outbox never holds more than its bound, even when the client hands messages back.

    The sender takes a message, the queue fills up behind it, then the client cannot take
    it (connection lost): putting it back must drop the oldest, not grow the queue.
    """
    box = Outbox(queue_size=3, max_inflight=5, event_queue_size=100)
    for i in range(3):
        box.put_stream(_stream(i))
    taken = box.take()
    assert taken is not None and taken.payload == b"0"
    box.put_stream(_stream(3))  # the queue is full again: 1, 2, 3
    box.give_back(taken)
    assert box.queued == 3 and box.dropped == 1
    assert [m.payload for m in _drain(box)] == [b"1", b"2", b"3"]


def _event(i: int) -> Message:
    return Message("p/d/c/events", f"e{i}".encode(), 1, retain=False, lane=Lane.EVENT)


def test_poses_never_push_an_event_out() -> None:
    """Guards: an outage that overflows the pose queue loses no event (fall, rep, gesture)."""
    box = Outbox(queue_size=3, max_inflight=10, event_queue_size=100)
    for i in range(50):
        box.put_stream(_stream(i))
        if i % 10 == 0:
            box.put_event(_event(i))
    assert box.queued == 3 and box.dropped == 47
    assert box.events_queued == 5 and box.events_dropped == 0
    sent = [m.payload for m in _drain(box)]
    # Events first, oldest first; then what is left of the poses.
    assert sent == [b"e0", b"e10", b"e20", b"e30", b"e40", b"47", b"48", b"49"]


def test_event_queue_has_its_own_bound_and_count() -> None:
    """Guards: the event queue is bounded too, and an event lost to it is counted apart from poses."""
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=2)
    for i in range(5):
        box.put_event(_event(i))
    assert box.events_queued == 2 and box.events_dropped == 3 and box.dropped == 0
    assert [m.payload for m in _drain(box)] == [b"e3", b"e4"]


def test_unconfirmed_events_are_sent_again_in_order_after_a_reconnect() -> None:
    """Guards: an event handed to the client but not confirmed when the connection drops is
    re-sent (at-least-once), before newer events and in its original order."""
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=10)
    for i in range(3):
        box.put_event(_event(i))
    box.put_stream(_stream(0))
    for mid in (1, 2, 3, 4):
        message = box.take()
        assert message is not None
        box.handed(mid, message)
    box.confirmed(1)  # e0 arrived; e1, e2 and the pose did not
    box.put_event(_event(3))
    box.reset()
    assert box.inflight == 0
    assert [m.payload for m in _drain(box, start_mid=10)] == [b"e1", b"e2", b"e3", b"0"]


def test_an_event_given_back_keeps_its_place() -> None:
    """Guards: an event the client could not take (no connection) is kept, first in line."""
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=10)
    box.put_event(_event(0))
    box.put_event(_event(1))
    first = box.take()
    assert first is not None
    box.give_back(first)
    assert not box.idle()
    assert [m.payload for m in _drain(box)] == [b"e0", b"e1"]


def test_a_refused_event_counts_as_an_event_lost() -> None:
    box = Outbox(queue_size=10, max_inflight=10, event_queue_size=10)
    box.put_event(_event(0))
    message = box.take()
    assert message is not None
    box.drop(message)
    assert box.events_dropped == 1 and box.dropped == 0


def _replay_box(topics: int) -> Outbox:
    box = Outbox(queue_size=100_000, max_inflight=10, event_queue_size=100)
    for i in range(topics):
        box.put_state(_state(f"p/d/zone{i}/occupancy", b"OFF", rank=1 + i % 3))
    _drain(box)
    return box


def test_a_replay_takes_turns_with_poses_instead_of_holding_them_up() -> None:
    box = _replay_box(4000)
    assert box.replay_state()
    for i in range(100):
        box.put_stream(_stream(i))
    first = _drain(box)[:200]
    # Every second message is a pose while both wait: the poses are through within 200 messages.
    assert sum(m.lane is Lane.STREAM for m in first) == 100
    assert [m.lane for m in first[:4]] == [Lane.STATE, Lane.STREAM, Lane.STATE, Lane.STREAM]


def test_replays_asked_for_during_a_replay_are_coalesced_into_one() -> None:
    box = _replay_box(1000)
    assert box.replay_state()
    mid = 1
    sent: list[Message] = []
    for _ in range(5000):  # Home Assistant says `online` over and over while the replay runs
        assert not box.replay_state()
        if (m := box.take()) is not None:
            box.handed(mid, m)
            box.confirmed(mid)
            sent.append(m)
            mid += 1
            if len(sent) == 500:
                break
    sent += _drain(box, mid)
    # The replay under way, and one more after it: 2 x 1000, not one per `online`.
    assert len(sent) == 2000
    assert len({m.topic for m in sent[:1000]}) == 1000 and len({m.topic for m in sent[1000:]}) == 1000
    assert box.idle()


def test_a_replay_sends_lower_ranks_first_and_a_newer_value_only_once() -> None:
    box = _replay_box(30)
    box.replay_state()
    box.put_state(_state("p/d/zone4/occupancy", b"ON", rank=2))  # an update outranks the replay
    sent = _drain(box)
    assert sent[0].payload == b"ON" and len(sent) == 30
    ranks = [m.rank for m in sent[1:]]
    assert ranks == sorted(ranks)
    assert len({m.topic for m in sent}) == 30


def test_a_reconnect_during_a_replay_sends_everything_first_once() -> None:
    box = _replay_box(50)
    box.replay_state()
    box.replay_state()  # coalesced
    box.put_stream(_stream(1))
    box.reset()
    sent = _drain(box)
    assert [m.lane for m in sent] == [Lane.STATE] * 50 + [Lane.STREAM]
