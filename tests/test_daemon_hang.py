"""A hung inference: WATCHDOG=1 stops, posed restarts the worker, then gives up with exit 1.

The hang comes from a real backend plugin registered through entry-point
metadata: it wraps the TFLite backend and blocks forever inside run() after a
number of model runs per session.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.daemon_harness import Daemon, write_config
from tests.mosquitto import Mosquitto
from tests.plugin_fixture import install_plugin, plugin_env

HANG_BACKEND = """
from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field

from posed.backend import BackendConfig
from posed_tflite.config import TFLiteConfig
from posed_tflite.plugin import TFLiteBackend


class HangConfig(BackendConfig):
    type: Literal["hangtest"] = Field(description="TFLite that hangs.")
    hang_after: int = Field(description="Model runs per session before run() never returns.")


class HangSession:
    def __init__(self, inner, hang_after):
        self._inner = inner
        self._left = hang_after
        self.inputs, self.outputs, self.device = inner.inputs, inner.outputs, "hang:" + inner.device

    def run(self, *arrays):
        self._left -= 1
        if self._left < 0:
            threading.Event().wait()  # a wedged accelerator: this call never comes back
        return self._inner.run(*arrays)

    def close(self):
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
        return HangSession(inner, config.hang_after)
"""

HANG_TIMEOUT = 2.5
WATCHDOG_USEC = 1_000_000
PERIOD = 0.5  # WATCHDOG=1 every half of WATCHDOG_USEC while frames are processed
# One ping may still slip out after a hang begins, if the loop went round since the previous one.
SILENT = HANG_TIMEOUT - 2 * PERIOD


def test_hung_inference_stops_the_watchdog_restarts_the_worker_then_exits_1(tmp_path: Path) -> None:
    site = install_plugin(
        tmp_path / "site",
        name="hangtest",
        module="posed_hang_backend",
        source=HANG_BACKEND,
        attr="HangBackend",
    )
    with Mosquitto(tmp_path) as broker:
        config = write_config(
            tmp_path / "posed.yaml",
            port=broker.port,
            backend="{type: hangtest, hang_after: 15}",
            daemon=f"{{hang_timeout: {HANG_TIMEOUT}, restart_budget: 1}}",
        )
        with Daemon(
            config, tmp_path / "posed.log", watchdog_usec=WATCHDOG_USEC, env=plugin_env(site)
        ) as daemon:
            ready = daemon.notify.wait_for("READY=1", timeout=60)
            code = daemon.process.wait(timeout=60)  # on timeout, leaving the block kills it
            exited = daemon.notify.messages[-1].at if len(daemon.notify) else 0.0
            log = daemon.log_text()
            pings = daemon.notify.times_of("WATCHDOG=1", ready)
            stopping = daemon.notify.wait_for("STOPPING=1", after=ready, timeout=1)

    assert code == 1, log
    assert log.count("inference has not returned") == 2, log
    assert log.count("restarting its worker") == 1, log
    assert "restart budget (daemon.restart_budget = 1 per 10 min) is spent" in log, log
    # Pinged while frames flowed, silent while the inference hung, pinged again after the restart.
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    long_gaps = [g for g in gaps if g >= SILENT]
    assert len(long_gaps) == 1, f"expected one silent stretch between pings, gaps: {gaps}"
    resumed = gaps.index(long_gaps[0]) + 1
    assert len(pings) - resumed >= 2, "no WATCHDOG=1 after the worker restarted"
    assert exited - pings[-1] >= SILENT, "WATCHDOG=1 went on during the second hang"
    assert daemon.notify.messages[stopping].at >= pings[-1]
