"""A hung inference: WATCHDOG=1 stops, posed restarts the worker, then gives up with exit 1.

The hang comes from a real backend plugin registered through entry-point
metadata: it wraps the TFLite backend and blocks forever inside run() after a
number of model runs per session. It writes down (CLOCK_MONOTONIC, shared with
this process) when each session opens and when each hang begins, so the test
counts the pings between those events instead of judging gaps by their length.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto
from tests.plugin_fixture import install_plugin, plugin_env

HANG_BACKEND = """
from __future__ import annotations

import os
import threading
import time
from typing import Literal

from pydantic import Field

from posed.backend import BackendConfig
from posed_tflite.config import TFLiteConfig
from posed_tflite.plugin import TFLiteBackend


class HangConfig(BackendConfig):
    type: Literal["hangtest"] = Field(description="TFLite that hangs.")
    hang_after: int = Field(description="Model runs per session before run() never returns.")
    wedge_close: bool = Field(False, description="close() never returns (a stuck driver).")


def note(event):
    with open(os.environ["POSED_HANG_EVENTS"], "a") as events:
        events.write(f"{event} {time.monotonic()}\\n")


class HangSession:
    def __init__(self, inner, hang_after, wedge_close):
        self._inner = inner
        self._left = hang_after
        self._wedge_close = wedge_close
        self.inputs, self.outputs, self.device = inner.inputs, inner.outputs, "hang:" + inner.device

    def run(self, *arrays):
        self._left -= 1
        if self._left < 0:
            note("hang")
            threading.Event().wait()  # a wedged accelerator: this call never comes back
        return self._inner.run(*arrays)

    def close(self):
        if self._wedge_close:
            note("wedged")
            threading.Event().wait()
        self._inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HangBackend:
    name = "hangtest"
    config_model = HangConfig

    def probe(self):
        return TFLiteBackend().probe()

    def open_session(self, model_path, config, *, role="main"):
        settings = TFLiteConfig(type="tflite", num_threads=1)
        inner = TFLiteBackend().open_session(model_path, settings, role=role)
        note("open")
        return HangSession(inner, config.hang_after, config.wedge_close)
"""

HANG_TIMEOUT = 2.5
WATCHDOG_USEC = 1_000_000  # pings every 0.5 s while frames are processed
# Between a hang's start and the worker's restart, at most this many pings: one may still slip
# out if the loop went round since the previous ping, and one sent just before the hang may be
# read by the test just after it. A watchdog that ignored the hang would send about five.
SLIPPED = 2


def _events(path: Path) -> list[tuple[str, float]]:
    lines = path.read_text().split("\n") if path.exists() else []
    return [(name, float(at)) for name, at in (line.split() for line in lines if line)]


def test_hung_inference_stops_the_watchdog_restarts_the_worker_then_exits_1(tmp_path: Path) -> None:
    """Guards: a hung inference stops WATCHDOG=1 (systemd's cue), is restarted with a new
    estimator once within daemon.restart_budget, and the daemon exits 1 when the budget is spent."""
    site = install_plugin(
        tmp_path / "site",
        name="hangtest",
        module="posed_hang_backend",
        source=HANG_BACKEND,
        attr="HangBackend",
    )
    events_path = tmp_path / "events.txt"
    env = {**plugin_env(site), "POSED_HANG_EVENTS": str(events_path)}
    with Mosquitto(tmp_path) as broker:
        config = write_config(
            tmp_path / "posed.yaml",
            port=broker.port,
            backend="{type: hangtest, hang_after: 15}",
            daemon=f"{{hang_timeout: {HANG_TIMEOUT}, restart_budget: 1}}",
        )
        with Daemon(config, tmp_path / "posed.log", watchdog_usec=WATCHDOG_USEC, env=env) as daemon:
            ready = daemon.notify.wait_for("READY=1", timeout=60)
            code = daemon.process.wait(timeout=120)  # on timeout, leaving the block kills it
            log = daemon.log_text()
            pings = daemon.notify.times_of("WATCHDOG=1", ready)
            stopping = daemon.notify.wait_for("STOPPING=1", after=ready, timeout=5)
            stopped_at = daemon.notify.messages[stopping].at
    exited = time.monotonic()

    assert code == 1, log
    assert log.count("inference has not returned") == 2, log
    assert log.count("restarting its worker") == 1, log
    assert "restart budget (daemon.restart_budget = 1 per 10 min) is spent" in log, log
    events = _events(events_path)
    hangs = [at for name, at in events if name == "hang"]
    assert len(hangs) == 2, events
    first_hang, second_hang = hangs
    reopened = min(at for name, at in events if name == "open" and at > first_hang)

    def count(start: float, end: float) -> int:
        return sum(start < t < end for t in pings)

    # Pinged while frames flowed, silent while the inference hung, pinged again after the restart.
    assert count(0.0, first_hang) >= 1, (pings, events)
    assert count(first_hang, reopened) <= SLIPPED, (pings, events)
    assert count(reopened, second_hang) >= 1, ("no WATCHDOG=1 after the worker restarted", pings, events)
    assert count(second_hang, exited) <= SLIPPED, ("WATCHDOG=1 went on during the second hang", pings)
    assert stopped_at >= pings[-1]


def test_a_stop_that_wedges_exits_1_after_shutdown_timeout(tmp_path: Path) -> None:
    """Guards: SIGTERM stops posed within daemon.shutdown_timeout even when closing wedges (a
    driver that never returns): its guard exits 1 rather than leave systemd waiting."""
    site = install_plugin(
        tmp_path / "site",
        name="hangtest",
        module="posed_hang_backend",
        source=HANG_BACKEND,
        attr="HangBackend",
    )
    events_path = tmp_path / "events.txt"
    env = {**plugin_env(site), "POSED_HANG_EVENTS": str(events_path)}
    with Mosquitto(tmp_path) as broker:
        config = write_config(
            tmp_path / "posed.yaml",
            port=broker.port,
            backend="{type: hangtest, hang_after: 1000000, wedge_close: true}",
            daemon="{shutdown_timeout: 1.0}",
        )
        with Daemon(config, tmp_path / "posed.log", env=env) as daemon:
            daemon.notify.wait_for("READY=1", timeout=60)
            daemon.signal(signal.SIGTERM)
            code = daemon.process.wait(timeout=30)  # without the guard: never
            log = daemon.log_text()
    assert code == 1, log
    assert "stopping took longer than daemon.shutdown_timeout (1.0 s): exiting now" in log, log
    assert any(name == "wedged" for name, _ in _events(events_path))
