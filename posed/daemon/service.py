"""The daemon's lifecycle: start, tell systemd, supervise, reload on SIGHUP, stop on SIGTERM.

The main thread only supervises: it waits for signals, watches the workers for
hung inferences, and sends READY/RELOADING/STOPPING/STATUS/WATCHDOG. The
workers do the per-frame work in their own threads.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from posed.cameras.status import CameraStatus
from posed.config.loader import LoadedConfig
from posed.config.run_load import load_for_run
from posed.daemon.console import console_wanted, mqtt_summary
from posed.daemon.logs import DaemonLogging
from posed.daemon.notify import Notifier
from posed.daemon.parts import Parts
from posed.daemon.reload import model_issue, plan_reload
from posed.daemon.signals import SignalEvents
from posed.daemon.supervision import RestartBudget, WatchdogPing
from posed.daemon.telemetry import Telemetry
from posed.errors import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    ConfigError,
    InferenceHangError,
    ModelError,
    PosedError,
)
from posed.mqtt.credentials import read_password

log = logging.getLogger("posed.daemon")

TICK = 0.2  # seconds between supervision rounds when no signal arrives
STATUS_PERIOD = 5.0  # seconds between STATUS= updates
RESTART_WINDOW = 600.0  # seconds over which daemon.restart_budget counts


class Daemon:
    def __init__(
        self,
        config_path: Path,
        *,
        model_dir: Path | None,
        logs: DaemonLogging,
        log_level_override: str | None,
        notifier: Notifier,
        signals: SignalEvents,
        no_gate: bool = False,
    ) -> None:
        self._path = config_path
        self._model_dir = model_dir
        self._logs = logs
        self._log_level_override = log_level_override
        self._notifier = notifier
        self._signals = signals
        self._parts = Parts(
            model_dir=model_dir,
            on_status=self._on_status,
            stop_requested=lambda: signals.stop_requested,
            no_gate=no_gate,
        )
        self._telemetry = Telemetry()
        self._console = console_wanted(logs)  # a status line every stats_interval on a terminal
        self._restarts = RestartBudget(RESTART_WINDOW)
        self._loaded: LoadedConfig | None = None

    @property
    def config(self) -> LoadedConfig:
        assert self._loaded is not None
        return self._loaded

    def run(self) -> int:
        """Run until stopped. Startup errors propagate; the caller maps them to exit codes."""
        self._adopt(load_for_run(self._path, cli_model_dir=self._model_dir))
        log.info("starting posed with %s", self._path)
        self._notifier.status("starting: loading the model")
        try:
            try:
                self._parts.start(self.config)
            except ModelError as exc:
                raise model_issue(self.config, exc) from None
            if self._signals.stop_requested:
                return EXIT_OK
            self._telemetry.sample(self._parts.workers, self._parts.cameras)
            self._publish_stats()
            status = self._status_line()
            self._notifier.ready(status)
            log.info("ready: %s", status)
            return self._loop()
        finally:
            self._stop()

    # -- main loop -----------------------------------------------------------------------------

    def _loop(self) -> int:
        clock = time.monotonic
        next_status = clock()
        ping = WatchdogPing(self._notifier.watchdog_interval, next_status)
        next_stats = clock() + self.config.config.mqtt.stats_interval
        while True:
            if self._signals.stop_requested:
                signum = self._signals.last_stop_signal
                log.info("%s received: stopping", signal.Signals(signum).name if signum else "stop")
                return EXIT_OK
            if self._signals.take_reload():
                self._reload()
            now = clock()
            if self._supervise(now):
                log.info("every camera reached the end of its stream: stopping")
                return EXIT_OK
            if ping.due(now, self._beats()):
                self._notifier.watchdog()
            # Every round: cheap, and a first measurement goes out at once, not a stats interval later.
            news = self._telemetry.sample(self._parts.workers, self._parts.cameras)
            if now >= next_status:
                self._notifier.status(self._status_line())
                next_status = now + STATUS_PERIOD
            try:
                self._parts.tick_preview(now, self.config)
            except OSError as exc:  # as for the stats: the page's figures wait for the next round
                log.warning("cannot refresh the preview page's stats now: %s", exc)
            self._logs.write_due(time.time())
            due = now >= next_stats
            if due or news:
                self._publish_stats()
                next_stats = now + self.config.config.mqtt.stats_interval
            if due and self._console:
                self._print_status()
            self._signals.wait(ping.pause(clock(), TICK))

    def _beats(self) -> list[float]:
        """The last round of each running processing loop (see WatchdogPing)."""
        return [w.last_beat for w in self._parts.workers.values() if not w.finished]

    def _supervise(self, now: float) -> bool:
        """Restart hung or crashed workers; True when every camera's stream has ended."""
        daemon_cfg = self.config.config.daemon
        for name, worker in list(self._parts.workers.items()):
            busy = worker.busy_for(now)
            if busy is not None and busy > daemon_cfg.hang_timeout:
                log.error(
                    "camera %s: inference has not returned for %.1f s (daemon.hang_timeout %.1f s)",
                    name,
                    busy,
                    daemon_cfg.hang_timeout,
                )
                reason = f"inference hung for more than {daemon_cfg.hang_timeout} s"
                self._restart_worker(name, now, reason, hung=True)
            elif worker.finished and worker.error is not None:
                self._restart_worker(name, now, f"processing failed: {worker.error}", hung=False)
        workers = self._parts.workers.values()
        return bool(workers) and all(w.finished and w.end_of_stream for w in workers)

    def _restart_worker(self, name: str, now: float, reason: str, *, hung: bool) -> None:
        budget = self.config.config.daemon.restart_budget
        if not self._restarts.spend(now, budget):
            self._parts.abandon_worker(name)  # stopping must not wait for it
            message = (
                f"camera {name}: {reason}; the restart budget (daemon.restart_budget = {budget} "
                f"per {RESTART_WINDOW / 60:.0f} min) is spent"
            )
            raise InferenceHangError(message) if hung else PosedError(message)
        log.warning(
            "camera %s: restarting its worker with a new estimator (%d/%d restarts in %.0f min)",
            name,
            self._restarts.used,
            budget,
            RESTART_WINDOW / 60,
        )
        self._parts.replace_worker(self.config, name)

    # -- reload --------------------------------------------------------------------------------

    def _reload(self) -> None:
        log.info("SIGHUP received: reloading %s", self._path)
        self._notifier.reloading("reloading the config")
        try:
            new = load_for_run(self._path, cli_model_dir=self._model_dir)
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("config error: %s", issue)
            log.error(
                "reload rejected (%d config error(s)): still running the previous config", len(exc.issues)
            )
            self._notifier.ready(f"reload rejected: {len(exc.issues)} config error(s); {self._status_line()}")
            return
        plan = plan_reload(self.config, new)
        if not plan.changed:
            log.info("reload: nothing changed")
        else:
            deadline = time.monotonic() + new.config.daemon.shutdown_timeout
            try:
                self._parts.apply(plan, self.config, new, deadline)
            except PosedError as exc:
                log.error("reload failed: %s; still running the previous config", exc)
                self._notifier.ready(f"reload failed; {self._status_line()}")
                return
            log.info("reloaded: restarted %s", plan.describe())
        self._adopt(new)
        self._notifier.ready(self._status_line())

    def _adopt(self, loaded: LoadedConfig) -> None:
        self._loaded = loaded
        self._logs.set_level(self._log_level_override or loaded.config.log_level)
        for secret in _secrets(loaded):
            self._logs.redactor.add(secret)

    # -- stop ----------------------------------------------------------------------------------

    def _stop(self) -> None:
        timeout = self.config.config.daemon.shutdown_timeout
        self._notifier.stopping("stopping")
        started = time.monotonic()
        # The last resort if closing wedges (a stuck driver): exit anyway, in time.
        guard = threading.Timer(timeout, _overrun, args=(timeout,))
        guard.daemon = True
        guard.start()
        try:
            # Most of the time goes to the frames in flight; keep a share for the rest.
            self._parts.close(started + timeout * 0.6)
        finally:
            guard.cancel()
        log.info("stopped in %.2f s", time.monotonic() - started)

    # -- callbacks and helpers -----------------------------------------------------------------

    def _on_status(self, camera: str, status: CameraStatus) -> None:
        """Called from a camera's capture thread on every status change."""
        log.debug("camera %s: status %s", camera, status)  # the camera logs why itself
        worker = self._parts.workers.get(camera)
        if status == CameraStatus.ONLINE and worker is not None:
            worker.request_reset()  # after a reconnect the old tracks mean nothing
        try:
            self._parts.publisher.publish_camera_status(camera, status)
        except Exception as exc:  # the capture thread must keep capturing whatever happens here
            log.error("camera %s: cannot publish status %s: %s", camera, status, exc)

    def _publish_stats(self) -> None:
        try:
            snapshot = self._telemetry.snapshot(
                self._parts.workers, self._parts.cameras, backend=self._parts.backend_name
            )
        except OSError as exc:  # out of descriptors (a connection flood): the next round tries again
            log.warning("cannot gather the stats now: %s", exc)
            return
        self._parts.publisher.publish_stats(snapshot)

    def _status_line(self) -> str:
        return self._telemetry.status_line(self._parts.workers, self._parts.cameras)

    def _print_status(self) -> None:
        # No sample() here: the loop samples every round, and a sample here would swallow its news.
        mqtt = self.config.config.mqtt
        log.info(
            "status: %s; %s",
            self._status_line(),
            mqtt_summary(self._parts.publisher.current, mqtt.host, mqtt.port),
        )


def _overrun(timeout: float) -> None:
    log.error("stopping took longer than daemon.shutdown_timeout (%.1f s): exiting now", timeout)
    logging.shutdown()
    os._exit(EXIT_FAILURE)


def _secrets(loaded: LoadedConfig) -> list[str]:
    """Secret values the config points at, so the log redactor can recognise them."""
    token = loaded.config.preview.token
    secrets = [] if token is None else [token]
    try:
        password = read_password(loaded.config.mqtt, os.environ)
    except PosedError:
        return secrets  # the publisher reports an unreadable password itself
    return secrets if password is None else [*secrets, password.reveal()]


def run_daemon(
    config_path: Path, *, model_dir: Path | None, log_level: str | None, no_gate: bool = False
) -> int:
    """`posed run`: returns the process exit code."""
    logs = DaemonLogging(log_level or "info")
    with Notifier() as notifier, SignalEvents() as signals:
        daemon = Daemon(
            config_path,
            model_dir=model_dir,
            logs=logs,
            log_level_override=log_level,
            notifier=notifier,
            signals=signals,
            no_gate=no_gate,
        )
        try:
            return daemon.run()
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("config error: %s", issue)
            log.error("not starting: %d config error(s) in %s", len(exc.issues), config_path)
            notifier.status(f"config error in {config_path}")
            return EXIT_CONFIG
        except ModelError as exc:
            # An installation problem, like a config error: restarting cannot fix it.
            log.error("not starting: %s", exc)
            notifier.status("model missing or unusable")
            return EXIT_CONFIG
        except PosedError as exc:
            log.error("fatal: %s", exc)
            notifier.status(f"failed: {exc}")
            return exc.exit_code
        except Exception as exc:
            log.critical("fatal error: %s", exc, exc_info=exc)
            return EXIT_FAILURE
