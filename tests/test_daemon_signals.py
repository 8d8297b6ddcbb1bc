"""Signal handlers only record; the main loop's wait() wakes at once."""

from __future__ import annotations

import os
import signal
import threading
import time

from posed.daemon.signals import SignalEvents


def test_sighup_wakes_the_wait_and_is_taken_once() -> None:
    with SignalEvents() as events:
        assert not events.take_reload()
        threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGHUP)).start()
        started = time.monotonic()
        events.wait(30)
        assert time.monotonic() - started < 25, "wait() did not wake on the signal"
        assert events.take_reload()
        assert not events.take_reload()
        assert not events.stop_requested


def test_several_sighups_make_one_reload() -> None:
    with SignalEvents() as events:
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGHUP)
        events.wait(0)
        assert events.take_reload()
        assert not events.take_reload()


def test_sigterm_and_sigint_request_a_stop() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        with SignalEvents() as events:
            os.kill(os.getpid(), signum)
            events.wait(0)
            assert events.stop_requested
            assert events.last_stop_signal == signum
            assert not events.take_reload()


def test_previous_handlers_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    with SignalEvents():
        assert signal.getsignal(signal.SIGHUP) is not before[signal.SIGHUP]
    assert {s: signal.getsignal(s) for s in before} == before
