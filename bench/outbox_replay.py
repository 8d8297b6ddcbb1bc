"""How long the MQTT outbox takes to hand over every retained topic of a replay.

    PYTHONPATH=. .venv/bin/python bench/outbox_replay.py [TOPICS ...]

A replay (Home Assistant came online) marks every retained topic again; with 1,000
zones that is about 4,000. Each take() must stay cheap at that size (a heap, O(log n)),
or the sender thread spends seconds per replay while poses wait.
"""

from __future__ import annotations

import sys
import time

from posed.mqtt.outbox import Lane, Message, Outbox


def replay_seconds(topics: int) -> tuple[int, float]:
    box = Outbox(queue_size=10, max_inflight=10**9, event_queue_size=10)
    for i in range(topics):
        box.put_state(Message(f"posed/dev/t{i}", b"x", 1, True, Lane.STATE, rank=1 + i % 3))
    while box.take() is not None:
        pass
    box.replay_state()
    started = time.perf_counter()
    taken = 0
    while box.take() is not None:
        taken += 1
    return taken, time.perf_counter() - started


def main() -> None:
    for topics in [int(a) for a in sys.argv[1:]] or [1000, 4000, 16000]:
        taken, seconds = replay_seconds(topics)
        each = seconds / taken * 1e6
        print(f"{topics:>6} topics: {taken} takes in {seconds * 1000:8.1f} ms ({each:6.2f} us each)")


if __name__ == "__main__":
    main()
