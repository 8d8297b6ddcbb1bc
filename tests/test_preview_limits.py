"""The preview port under a flood of connections: bounded, timed out, and never the cameras' end.

Real sockets against the real server: 1,050 connections that each send only
`GET / HTTP/1.1` and then nothing. The page may refuse them; the daemon keeps its
cameras publishing, with the unit's descriptor limit, and even with none to spare.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import resource
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import cv2

from posed.preview.config import PreviewConfig
from posed.preview.limits import MAX_CONNECTIONS, REFUSAL, REQUEST_TIMEOUT
from posed.preview.server import PreviewServer
from posed.preview.tap import PreviewTap
from tests.conftest import MEDIA, REPO
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.mqtt_support import decoded_frames
from tests.preview_support import page_url

ATTACKERS = 1050
HALF_OPEN = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no blank line: the head never ends


def _unit_nofile() -> int:
    found = re.search(r"^LimitNOFILE=(\d+)$", (REPO / "systemd" / "posed.service").read_text(), re.M)
    assert found, "the unit sets no LimitNOFILE"
    return int(found.group(1))


@contextmanager
def _half_open(port: int, count: int = ATTACKERS) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            with suppress(OSError):  # refused and closed before we wrote: counted by the caller
                sock.sendall(HALF_OPEN)
            sockets.append(sock)
        yield sockets


def _answer(sock: socket.socket, timeout: float) -> bytes | None:
    """What the server sent before closing (b"" for a plain close); None while it is still open."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return int(answer.status)


def test_connections_beyond_the_limit_are_refused_and_half_open_ones_time_out() -> None:
    with PreviewServer(PreviewConfig(enabled=True, port=0), PreviewTap()) as server:
        with _half_open(server.port) as sockets:
            answers = [_answer(sock, 0.05) for sock in sockets]
            refused = [a for a in answers if a is not None]
            assert all(a in (REFUSAL, b"") for a in refused)
            assert len(refused) >= ATTACKERS - MAX_CONNECTIONS
            assert server.gate is not None and server.gate.open <= MAX_CONNECTIONS
            held = [s for s, a in zip(sockets, answers, strict=True) if a is None]
            started = time.monotonic()
            # Each is closed by the server once REQUEST_TIMEOUT passes with no complete request.
            assert all(_answer(sock, REQUEST_TIMEOUT + 5.0) is not None for sock in held)
            assert time.monotonic() - started < REQUEST_TIMEOUT + 5.0
        assert _get(server.url) == 200  # and the page serves again


def _config(path: Path, broker: Mosquitto, stills: Path) -> Path:
    path.write_text(
        "device_id: dev\n"
        "backend: {type: tflite, num_threads: 1}\n"
        "model: {name: blazepose-lite}\n"
        "cameras:\n"
        f"  street: {{type: video, path: {MEDIA / 'vtest.avi'}, realtime: true, loop: true}}\n"
        f"  stills: {{type: images, path: {stills}, realtime: true, fps: 2, loop: true}}\n"
        f"mqtt: {{host: 127.0.0.1, port: {broker.port}, topic_prefix: posed, stats_interval: 2}}\n"
        "preview: {enabled: true, port: 0}\n"
    )
    return path.resolve()


def _stills(folder: Path) -> Path:
    folder.mkdir()
    for i, rgb in enumerate(decoded_frames(3)):  # good JPEGs: any complaint about them is a lie
        cv2.imwrite(str(folder / f"still_{i}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return folder


def _poses(sub: Subscriber, camera: str, start: float, end: float) -> list[float]:
    topic = f"posed/dev/{camera}/poses"
    return [m.at for m in sub.snapshot() if m.topic == topic and start <= m.at <= end]


def _longest_gap(times: list[float], start: float, end: float) -> float:
    return max(b - a for a, b in itertools.pairwise([start, *times, end]))


def _stats(message: Received) -> bool:
    return message.topic == "posed/dev/stats"


def test_under_the_units_descriptor_limit_a_flood_leaves_the_cameras_publishing(tmp_path: Path) -> None:
    nofile = _unit_nofile()
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/dev/#"]) as sub:
        config = _config(tmp_path / "posed.yaml", broker, _stills(tmp_path / "stills"))
        prefix = ["prlimit", f"--nofile={nofile}:{nofile}", "--"]
        with Daemon(config, tmp_path / "posed.log", prefix=prefix) as daemon:
            url = page_url(daemon)
            port = int(url.rsplit(":", 1)[1].strip("/"))
            first = sub.wait_for(lambda m: m.topic == "posed/dev/street/poses", timeout=120)
            sub.wait_for(lambda m: m.at > first.at + 3.0, timeout=30)
            start = time.monotonic()
            with _half_open(port) as sockets:
                time.sleep(REQUEST_TIMEOUT + 3.0)
                # The server closed the held ones by now: every socket reads as closed.
                assert all(_answer(sock, 0.5) is not None for sock in sockets)
            end = time.monotonic()
            assert _get(url) == 200
            assert daemon.process.poll() is None, daemon.log_text()
            for camera in ("street", "stills"):
                assert _longest_gap(_poses(sub, camera, start, end), start, end) < 3.0, camera
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
    assert "connection(s) refused" in log and "Traceback" not in log, log


def test_with_no_descriptor_to_spare_posed_keeps_running_and_blames_no_file(tmp_path: Path) -> None:
    with Mosquitto(tmp_path) as broker, Subscriber(broker, ["posed/dev/#"]) as sub:
        config = _config(tmp_path / "posed.yaml", broker, _stills(tmp_path / "stills"))
        with Daemon(config, tmp_path / "posed.log") as daemon:
            url = page_url(daemon)
            port = int(url.rsplit(":", 1)[1].strip("/"))
            first = sub.wait_for(lambda m: m.topic == "posed/dev/stills/poses", timeout=120)
            sub.wait_for(lambda m: m.at > first.at + 2.0, timeout=30)
            pid = daemon.process.pid
            spare = len(os.listdir(f"/proc/{pid}/fd")) + 6
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # the daemon inherited ours
            subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={spare}:{hard}"], check=True)
            start = time.monotonic()
            with _half_open(port, MAX_CONNECTIONS):  # more than the descriptors left
                time.sleep(8.0)  # the stats loop reads /proc every round; images are opened each frame
                assert daemon.process.poll() is None, daemon.log_text()
            end = time.monotonic()
            assert _longest_gap(_poses(sub, "street", start, end), start, end) < 3.0
            # The stats loop reads /proc and keeps publishing (stats_interval: 2).
            stats = [m.at for m in sub.snapshot() if _stats(m) and start <= m.at <= end]
            assert _longest_gap(stats, start, end) < 5.0
            subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={hard}:{hard}"], check=True)
            # The images camera comes back by itself once descriptors are free again.
            back = sub.wait_for(lambda m: m.topic == "posed/dev/stills/poses" and m.at > end, timeout=60)
            assert json.loads(back.payload)["camera"] == "stills"
            assert _get(url) == 200
            daemon.signal(signal.SIGTERM)
            assert daemon.process.wait(30) == 0
        log = daemon.log_text()
    assert "Too many open files" in log, log  # the flood really exhausted them
    assert "not a JPEG" not in log and "cannot decode" not in log and "skipping" not in log, log
    assert "cannot gather the stats" not in log, log  # the last CPU and memory figures stand in
