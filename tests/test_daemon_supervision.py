"""The daemon's restart budget and watchdog decisions on exact times (posed.daemon.supervision).

Time is their subject, so they take the time as an argument; the end-to-end tests
(test_daemon_hang.py, test_daemon_run.py) check that the daemon follows them.
"""

from __future__ import annotations

import pytest

from posed.daemon.service import RESTART_WINDOW
from posed.daemon.supervision import RestartBudget, WatchdogPing


def test_restart_budget_refills_after_its_window() -> None:
    """Guards: daemon.restart_budget counts the restarts of the last 10 minutes; an older one
    no longer counts, so a daemon that recovers once an hour is never given up on."""
    assert RESTART_WINDOW == 600.0
    budget = RestartBudget(RESTART_WINDOW)
    assert budget.spend(0.0, 2) and budget.spend(100.0, 2)
    assert not budget.spend(599.0, 2), "two restarts in 10 minutes spend a budget of 2"
    assert budget.spend(601.0, 2), "the first restart is more than 10 minutes old"
    assert not budget.spend(650.0, 2)
    assert budget.spend(701.0, 2) and budget.used == 2


def test_restart_budget_counts_past_restarts_against_a_reloaded_budget() -> None:
    budget = RestartBudget(RESTART_WINDOW)
    assert budget.spend(0.0, 3) and budget.spend(1.0, 3)
    assert not budget.spend(2.0, 2), "a reload lowering the budget to 2 leaves no restart"
    assert budget.spend(3.0, 3) and budget.used == 3


def test_watchdog_pings_every_interval_while_the_loops_go_round() -> None:
    """Guards: WATCHDOG=1 goes out every interval (half of WATCHDOG_USEC), never more often,
    never late, while every processing loop keeps going round."""
    ping = WatchdogPing(1.0, now=0.0)
    sent = []
    for step in range(1, 51):  # the main loop's 0.2 s ticks; each loop beat just before
        now = step * 0.2
        if ping.due(now, [now - 0.01, now - 0.05]):
            sent.append(now)
    assert [round(t, 6) for t in sent] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    # The loop sleeps a tick, or less when the next ping falls due sooner.
    assert ping.pause(10.0, 0.2) == 0.2
    assert ping.pause(10.95, 0.2) == pytest.approx(0.05)
    assert ping.pause(12.0, 0.2) == 0.01


def test_watchdog_stops_while_any_loop_is_stuck() -> None:
    """Guards: a single processing loop stuck in an inference stops WATCHDOG=1, even while the
    other cameras' loops go round, so systemd restarts the daemon when posed cannot."""
    ping = WatchdogPing(1.0, now=0.0)
    assert ping.due(1.0, [0.9, 0.95])
    stuck_since = 1.1
    sent = [t for t in (2.0, 3.0, 4.0, 5.0) if ping.due(t, [t - 0.01, stuck_since])]
    assert sent == [2.0], "one ping may follow the last round; none after it"
    assert ping.due(6.0, [5.99, 5.5]), "pings resume once the loop goes round again"


def test_watchdog_without_running_loops_or_systemd() -> None:
    ping = WatchdogPing(1.0, now=0.0)
    assert not ping.due(5.0, []), "no running loop: nothing proves posed is alive"
    off = WatchdogPing(None, now=0.0)
    assert not off.due(100.0, [99.0]) and off.pause(100.0, 0.2) == 0.2
