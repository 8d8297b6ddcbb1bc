"""What waits to be published, with hard bounds on memory. No network here.

Four lanes, sent in this order of priority:
- state: the latest payload of each retained topic (discovery, availability,
  count, presence, camera status). Updates while a message waits replace it,
  and a (re)connect marks every state topic for sending again, ahead of all else.
  A replay (Home Assistant restarted) sends them all again too, but takes turns
  with the other lanes, so thousands of retained topics never hold up poses; and a
  replay asked for while one is under way is coalesced into a single next one.
  The next state topic comes from a heap ordered by (rank, order marked): O(log n).
- event: the analyzers' events (a fall, a rep, a gesture) in their own bounded
  FIFO. They are rare and each one matters, so a broker outage long enough to
  overflow the pose queue must not push them out: poses never evict an event.
  Only when the event queue itself is full does its oldest go, counted apart.
- latest: a single slot for `stats`; a newer one replaces an unsent one.
- stream: pose messages in a bounded FIFO that drops the *oldest* when full and
  counts the drop.

At most `max_inflight` messages are handed to the MQTT client at a time and not
yet confirmed (PUBACK at QoS 1/2, written to the socket at QoS 0); that caps the
client library's own queues, which are unbounded. When the connection drops,
unconfirmed stream and event messages go back to the front of their FIFO to be
sent again (at-least-once); unconfirmed state needs nothing, it is re-sent anyway.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from dataclasses import dataclass
from enum import IntEnum


class Lane(IntEnum):
    STATE = 0
    LATEST = 1
    STREAM = 2
    EVENT = 3


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    lane: Lane
    rank: int = 0  # order of state topics on a replay: lower first
    forget: bool = False  # a state topic sent once (a clearing empty payload), then forgotten


class Outbox:
    """Thread-safe; every method takes the lock briefly and never does I/O."""

    def __init__(self, *, queue_size: int, max_inflight: int, event_queue_size: int) -> None:
        self._lock = threading.Lock()
        self._stream: deque[Message] = deque()
        self._events: deque[Message] = deque()
        self._queue_size = queue_size
        self._event_queue_size = event_queue_size
        self._max_inflight = max_inflight
        self._state: dict[str, Message] = {}
        self._dirty = _Marks()  # state topics to send before anything else
        self._replay = _Marks()  # state topics to send again, taking turns with the other lanes
        self._replay_again = False  # another replay was asked for while one was under way
        self._replay_turn = True
        self._latest: Message | None = None
        self._inflight: dict[int, Message] = {}
        self._early_acks: set[int] = set()
        self._dropped = 0
        self._events_dropped = 0

    # -- producers -------------------------------------------------------------

    def put_stream(self, message: Message) -> None:
        with self._lock:
            if len(self._stream) >= self._queue_size:
                self._stream.popleft()
                self._dropped += 1
            self._stream.append(message)

    def put_event(self, message: Message) -> None:
        with self._lock:
            self._events.append(message)
            self._trim_events()

    def put_state(self, message: Message) -> None:
        with self._lock:
            self._state[message.topic] = message
            self._replay.discard(message.topic)
            self._dirty.mark(message.topic, message.rank)

    def put_latest(self, message: Message) -> None:
        with self._lock:
            self._latest = message

    def state_payload(self, topic: str) -> bytes | None:
        with self._lock:
            message = self._state.get(topic)
            return None if message is None else message.payload

    # -- the sender ------------------------------------------------------------

    def take(self) -> Message | None:
        """The next message to hand to the client, or None (nothing, or the window is full)."""
        with self._lock:
            if len(self._inflight) >= self._max_inflight:
                return None
            if self._dirty:
                return self._take_state(self._dirty)
            if not self._replay and self._replay_again:
                self._replay_again = False
                self._mark_replay()
            others = bool(self._events or self._latest is not None or self._stream)
            if self._replay and (self._replay_turn or not others):
                self._replay_turn = False
                return self._take_state(self._replay)
            self._replay_turn = True
            if self._events:
                return self._events.popleft()
            if self._latest is not None:
                message, self._latest = self._latest, None
                return message
            if self._stream:
                return self._stream.popleft()
            return None

    def _take_state(self, marks: _Marks) -> Message:
        message = self._state[marks.pop()]
        if message.forget:
            del self._state[message.topic]  # not replayed on the next connect
        return message

    def _mark_replay(self) -> None:
        for topic, message in self._state.items():
            if topic not in self._dirty:
                self._replay.mark(topic, message.rank)

    def handed(self, mid: int, message: Message) -> None:
        """The client accepted `message` as `mid`."""
        with self._lock:
            if mid in self._early_acks:
                self._early_acks.discard(mid)
            else:
                self._inflight[mid] = message

    def give_back(self, message: Message) -> None:
        """The client could not take `message` (no connection): keep it for later."""
        with self._lock:
            if message.lane is Lane.STREAM:
                self._stream.appendleft(message)
                self._trim()
            elif message.lane is Lane.EVENT:
                self._events.appendleft(message)
                self._trim_events()
            elif message.lane is Lane.LATEST:
                if self._latest is None:
                    self._latest = message
            elif message.forget and message.topic not in self._state:
                self._state[message.topic] = message
                self._dirty.mark(message.topic, message.rank)
            elif self._state.get(message.topic) is message:
                self._dirty.mark(message.topic, message.rank)

    def drop(self, message: Message) -> None:
        """`message` is lost for good (the client refused it); count it if it was a pose or an event."""
        with self._lock:
            if message.lane is Lane.STREAM:
                self._dropped += 1
            elif message.lane is Lane.EVENT:
                self._events_dropped += 1

    def confirmed(self, mid: int) -> Message | None:
        """The client confirmed `mid` (a paho callback); the window has room again."""
        with self._lock:
            message = self._inflight.pop(mid, None)
            if message is None:
                self._early_acks.add(mid)
            return message

    def reset(self) -> None:
        """A new connection: all state first, then unconfirmed events and poses, ahead of newer ones."""
        with self._lock:
            for lane, queue in ((Lane.STREAM, self._stream), (Lane.EVENT, self._events)):
                # The window holds them in the order they were handed over, oldest first.
                queue.extendleft(reversed([m for m in self._inflight.values() if m.lane is lane]))
            self._inflight.clear()
            self._early_acks.clear()
            self._trim()
            self._trim_events()
            self._replay.clear()  # everything goes out first anyway
            self._replay_again = False
            for topic, message in self._state.items():
                self._dirty.mark(topic, message.rank)

    def replay_state(self) -> bool:
        """Send every state topic again (Home Assistant restarted). False when coalesced: a
        replay is under way, and one more follows it, however often this is called meanwhile."""
        with self._lock:
            if self._replay:
                self._replay_again = True
                return False
            self._mark_replay()
            return True

    def _trim(self) -> None:
        # Putting messages back may overfill the queue; the oldest go, as always.
        while len(self._stream) > self._queue_size:
            self._stream.popleft()
            self._dropped += 1

    def _trim_events(self) -> None:
        while len(self._events) > self._event_queue_size:
            self._events.popleft()
            self._events_dropped += 1

    # -- counters --------------------------------------------------------------

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    @property
    def events_dropped(self) -> int:
        """Events lost: the event queue overflowed during an outage, or the client refused one."""
        with self._lock:
            return self._events_dropped

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._stream)

    @property
    def events_queued(self) -> int:
        with self._lock:
            return len(self._events)

    @property
    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def idle(self) -> bool:
        """Nothing waiting and nothing unconfirmed."""
        with self._lock:
            return not (
                self._stream
                or self._events
                or self._dirty
                or self._replay
                or self._replay_again
                or self._latest
                or self._inflight
            )


class _Marks:
    """A set of state topics to send, lowest rank first, then in the order they were marked.

    A heap with lazy deletion: each topic's live entry is the one `_live` names; entries
    left behind by discard() or a new rank are skipped when they surface, and dropped when
    they outnumber the live ones (so the heap stays within twice the topics). Not
    thread-safe: the Outbox's lock guards it.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str]] = []
        self._live: dict[str, tuple[int, int]] = {}
        self._order = itertools.count()

    def __bool__(self) -> bool:
        return bool(self._live)

    def __contains__(self, topic: str) -> bool:
        return topic in self._live

    def mark(self, topic: str, rank: int) -> None:
        current = self._live.get(topic)
        if current is not None and current[0] == rank:
            return  # already marked: keeps its place, as a set would
        entry = (rank, next(self._order))
        self._live[topic] = entry
        heapq.heappush(self._heap, (*entry, topic))
        if len(self._heap) > 2 * len(self._live) + 64:
            self._compact()

    def discard(self, topic: str) -> None:
        self._live.pop(topic, None)

    def pop(self) -> str:
        """The next topic; only when the set is not empty."""
        while True:
            rank, order, topic = heapq.heappop(self._heap)
            if self._live.get(topic) == (rank, order):
                del self._live[topic]
                return topic

    def clear(self) -> None:
        self._heap.clear()
        self._live.clear()

    def _compact(self) -> None:
        self._heap = [(rank, order, topic) for topic, (rank, order) in self._live.items()]
        heapq.heapify(self._heap)
