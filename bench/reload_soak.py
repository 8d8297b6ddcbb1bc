"""Reload soak: SIGHUP `posed run` N times with configs that change cameras and MQTT; memory per reload.

Observed once: 133 reloads took RSS from 166 MB to 256 MB, about 0.15 MB per reload
after the first jump. Is that a leak?

    .venv/bin/python bench/reload_soak.py [--reloads 100] [--host 127.0.0.1 --port 1883]
                                          [--model blazepose-lite] [--json]

The script owns the daemon's NOTIFY_SOCKET, so it waits for each reload to finish
(RELOADING=1 then READY=1) instead of sleeping. Each reload alternates two configs
that differ in the MQTT topic prefix and stats interval (a new MQTT client each time),
in a second camera that comes and goes, and in the first camera's settings (reopened).
After each reload it samples the daemon's RSS (psutil) once the process has settled.
It prints the RSS after the first reload, after the last, and the least-squares slope
in MB per reload over the reloads after --warmup (a one-time step is not a leak; a
slope that stays above zero as N grows is), and the daemon's thread and file-descriptor
counts, which a leaked camera, client or worker would raise. The daemon then gets
SIGTERM and must exit 0. Run it with MALLOC_ARENA_MAX=2 in the environment (as the
systemd unit sets it) to see the allocator's share of the growth.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
VIDEO = SHARED / "media" / "vtest.avi"
SQUATS = SHARED / "conformance" / "tfjs-pose-detection" / "pose_squats.mp4"


def config_text(args: argparse.Namespace, variant: int) -> str:
    second = f"  side: {{type: video, path: {SQUATS}, realtime: true, loop: true}}\n" if variant % 2 else ""
    return (
        "device_id: reloadsoak\n"
        "backend: {type: tflite, num_threads: 1}\n"
        f"model: {{name: {args.model}}}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {VIDEO}, realtime: true, loop: true, "
        f"stall_timeout: {20 + variant % 2}}}\n"
        f"{second}"
        f"mqtt: {{host: {args.host}, port: {args.port}, topic_prefix: reloadsoak{variant % 2}, "
        f"stats_interval: {15 + variant % 2}}}\n"
    )


class Notify:
    """systemd's side of sd_notify: a datagram socket, read in order."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def wait_for(self, field: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                fields = self.sock.recv(4096).decode().split("\n")
            except TimeoutError:
                raise SystemExit(f"no {field} within {timeout} s") from None
            if field in fields:
                return fields


def slope(values: list[float]) -> float:
    """Least-squares slope of values against their index."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, statistics.fmean(values)
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10, help="Reloads left out of the slope.")
    parser.add_argument("--settle-seconds", type=float, default=1.0, help="Wait after READY before sampling.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--model", default="blazepose-lite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="posed-reload-soak-") as tmp:
        directory = Path(tmp)
        config = directory / "posed.yaml"
        config.write_text(config_text(args, 0))
        notify = Notify(directory)
        env = {**os.environ, "NOTIFY_SOCKET": str(notify.path)}
        env.pop("JOURNAL_STREAM", None)
        log = (directory / "posed.log").open("wb")
        command = [
            sys.executable,
            "-m",
            "posed",
            "run",
            "-c",
            str(config),
            "--model-dir",
            str(SHARED / "models"),
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            notify.wait_for("READY=1", timeout=120)
            daemon = psutil.Process(process.pid)
            time.sleep(args.settle_seconds)
            start_mb = daemon.memory_info().rss / 2**20
            samples: list[float] = []
            threads: list[int] = []
            fds: list[int] = []
            for number in range(1, args.reloads + 1):
                config.write_text(config_text(args, number))
                process.send_signal(signal.SIGHUP)
                notify.wait_for("RELOADING=1", timeout=30)
                fields = notify.wait_for("READY=1", timeout=120)
                if any("reload failed" in f or "reload rejected" in f for f in fields):
                    raise SystemExit(f"reload {number} did not apply: {fields}")
                time.sleep(args.settle_seconds)
                samples.append(daemon.memory_info().rss / 2**20)
                threads.append(daemon.num_threads())
                fds.append(daemon.num_fds())
                if not args.json:
                    print(
                        f"reload {number:4d}: rss {samples[-1]:7.1f} MB, "
                        f"{threads[-1]} threads, {fds[-1]} fds",
                        flush=True,
                    )
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
            notify.sock.close()
    steady = samples[args.warmup :]
    result = {
        "reloads": args.reloads,
        "rss_before_mb": round(start_mb, 1),
        "rss_after_first_mb": round(samples[0], 1),
        "rss_after_last_mb": round(samples[-1], 1),
        "mb_per_reload_after_warmup": round(slope(steady), 4),
        "threads_first_last": (threads[0], threads[-1]),
        "fds_first_last": (fds[0], fds[-1]),
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX", "glibc default (8 per core)"),
        "exit_code": code,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
