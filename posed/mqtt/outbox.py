"""What waits to be published, with hard bounds on memory. No network here.

Four lanes, sent in this order of priority:
- state: the latest payload of each retained topic (discovery, availability,
  count, presence, camera status). Updates while a message waits replace it,
  and a (re)connect marks every state topic for sending again.
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
        self._dirty: dict[str, None] = {}  # ordered set of state topics to send
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
            self._dirty[message.topic] = None

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
                topic = min(self._dirty, key=lambda t: self._state[t].rank)
                del self._dirty[topic]
                message = self._state[topic]
                if message.forget:
                    del self._state[topic]  # not replayed on the next connect
                return message
            if self._events:
                return self._events.popleft()
            if self._latest is not None:
                message, self._latest = self._latest, None
                return message
            if self._stream:
                return self._stream.popleft()
            return None

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
                self._dirty[message.topic] = None
            elif self._state.get(message.topic) is message:
                self._dirty[message.topic] = None

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
            for topic in self._state:
                self._dirty[topic] = None

    def replay_state(self) -> None:
        """Send every state topic again (Home Assistant restarted)."""
        with self._lock:
            for topic in self._state:
                self._dirty[topic] = None

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
            return not (self._stream or self._events or self._dirty or self._latest or self._inflight)
