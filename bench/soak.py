"""Soak test: `posed run` on a looping video for N minutes; does its memory grow?

The target: no RSS growth beyond 5 MB over a 10-minute run.

    .venv/bin/python bench/soak.py [--minutes 10] [--backend tflite] [--model blazepose-full]
                                   [--video FILE] [--realtime] [--host 127.0.0.1 --port 1883] [--json]

It writes a daemon config (a `video` camera with loop: true; by default not
realtime, so the pipeline runs flat out and a per-frame leak shows as early as
possible), starts `python -m posed run` against the broker, and:
  - measures the time from spawning the process to systemd's READY=1, through a
    NOTIFY_SOCKET it owns (the daemon's own notion of ready: model loaded, MQTT
    and cameras started);
  - subscribes to the device's topics and counts pose messages, so a daemon
    that stopped publishing cannot pass;
  - samples the daemon's RSS with psutil every --sample-seconds.
Growth is the median RSS of the last minute minus the median of the first minute
after --warmup-seconds (allocations made while the first frames flow are not a
leak); the least-squares slope over the same span, and the growth over the
second half of the run (a bounded queue filling once is a step, a leak keeps
climbing), are printed too. Finally the
daemon gets SIGTERM and must exit 0.
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
import threading
import time
from pathlib import Path
from typing import Any

from posed.benchmark.records import load_note

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSED_SHARED_DIR", REPO.parent / "shared"))
VIDEO = SHARED / "conformance/tfjs-pose-detection/pose_squats.mp4"
GROWTH_LIMIT_MB = 5.0
DEVICE_ID = "soak"


def write_config(directory: Path, args: argparse.Namespace) -> Path:
    document = {
        "device_id": DEVICE_ID,
        "backend": {"type": args.backend},
        "model": {"name": args.model},
        "cameras": {
            "soak": {
                "type": "video",
                "path": str(args.video.resolve()),
                "loop": True,
                "realtime": args.realtime,
            }
        },
        "mqtt": {"host": args.host, "port": args.port, "topic_prefix": args.topic_prefix},
        "log_level": "warning",
    }
    path = directory / "soak.yaml"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")  # JSON is YAML
    return path


class PoseCounter:
    """Counts pose messages of the soak device on the broker."""

    def __init__(self, host: str, port: int, prefix: str) -> None:
        import paho.mqtt.client as mqtt

        self.count = 0
        self._lock = threading.Lock()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"posed-soak-{os.getpid()}")
        topic = f"{prefix}/{DEVICE_ID}/#"
        self._client.on_connect = lambda client, *_: client.subscribe(topic)
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        if message.topic.endswith("/poses"):
            with self._lock:
                self.count += 1

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class NotifyListener:
    """A NOTIFY_SOCKET, read on its own thread as systemd does.

    It must be drained all along: the daemon's notify socket is blocking, so once
    the kernel's datagram queue (net.unix.max_dgram_qlen, often 10) is full, the
    daemon's next STATUS= would block its main loop.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(path)
        self._socket.settimeout(0.2)
        self._ready = threading.Event()
        self.ready_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="notify", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._socket.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in message.split("\n") and self.ready_at is None:
                self.ready_at = time.monotonic()
                self._ready.set()

    def wait_ready(self, process: subprocess.Popen[bytes], timeout: float) -> float:
        """Monotonic time of READY=1; raises if the daemon exits or never gets ready."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if process.poll() is not None:
                raise SystemExit(f"posed run exited with {process.returncode} before READY=1")
            if time.monotonic() > deadline:
                raise SystemExit(f"posed run did not send READY=1 within {timeout:.0f} s")
        assert self.ready_at is not None
        return self.ready_at

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


def slope_mb_per_min(times: list[float], values: list[float]) -> float:
    mean_t, mean_v = statistics.fmean(times), statistics.fmean(values)
    var = sum((t - mean_t) ** 2 for t in times)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True))
    return cov / var * 60.0 if var > 0 else 0.0


def soak(args: argparse.Namespace) -> dict[str, Any]:
    import psutil

    with tempfile.TemporaryDirectory(prefix="posed-soak-") as scratch:
        config = write_config(Path(scratch), args)
        notify = NotifyListener(str(Path(scratch) / "notify"))
        counter = PoseCounter(args.host, args.port, args.topic_prefix)
        command = [
            sys.executable,
            "-m",
            "posed",
            "run",
            "-c",
            str(config),
            "--model-dir",
            str(args.model_dir),
        ]
        env = {**os.environ, "NOTIFY_SOCKET": notify.path}
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=REPO)
        try:
            ready = notify.wait_ready(process, 120.0)
            print(f"ready after {ready - started:.2f} s; {load_note()}", flush=True)
            daemon = psutil.Process(process.pid)
            times: list[float] = []
            rss: list[float] = []
            end = ready + args.minutes * 60.0
            next_report = ready + 60.0
            while (now := time.monotonic()) < end:
                if process.poll() is not None:
                    raise SystemExit(f"posed run exited with {process.returncode} during the soak")
                times.append(now - ready)
                rss.append(daemon.memory_info().rss / 2**20)
                if now >= next_report:
                    print(
                        f"{(now - ready) / 60:4.1f} min: rss {rss[-1]:.1f} MB, "
                        f"{counter.count} pose messages; {load_note()}",
                        flush=True,
                    )
                    next_report += 60.0
                time.sleep(args.sample_seconds)
            messages = counter.count
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            counter.close()
            notify.close()
    first = [
        v for t, v in zip(times, rss, strict=True) if args.warmup_seconds <= t < args.warmup_seconds + 60
    ]
    last = [v for t, v in zip(times, rss, strict=True) if t >= times[-1] - 60]
    kept = [(t, v) for t, v in zip(times, rss, strict=True) if t >= args.warmup_seconds]
    if not first or not last or not kept:
        raise SystemExit("the soak was too short for a baseline and a final minute; raise --minutes")
    growth = statistics.median(last) - statistics.median(first)
    # A bounded queue that fills once (e.g. the MQTT outbox while the machine is busy)
    # is a step, not a leak; growth over the second half tells the two apart.
    middle = [v for t, v in zip(times, rss, strict=True) if times[-1] / 2 <= t < times[-1] / 2 + 60]
    return {
        "backend": args.backend,
        "model": args.model,
        "minutes": args.minutes,
        "startup_to_ready_s": round(ready - started, 3),
        "rss_baseline_mb": round(statistics.median(first), 1),
        "rss_final_mb": round(statistics.median(last), 1),
        "rss_max_mb": round(max(rss), 1),
        "rss_growth_mb": round(growth, 2),
        "rss_growth_second_half_mb": round(statistics.median(last) - statistics.median(middle), 2),
        "rss_slope_mb_per_min": round(slope_mb_per_min(*map(list, zip(*kept, strict=True))), 3),
        "pose_messages": messages,
        "pose_messages_per_s": round(messages / (args.minutes * 60.0), 2),
        "exit_code": code,
        "target_met": growth <= GROWTH_LIMIT_MB and code == 0 and messages > 0,
        "load": load_note(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--backend", default="tflite")
    parser.add_argument("--model", default="blazepose-full")
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--realtime", action="store_true", help="Play the video at its own rate.")
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--topic-prefix", default="posed-soak")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--warmup-seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="Print the result as one JSON object.")
    args = parser.parse_args()
    result = soak(args)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:22} {value}")
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
