"""`stream`: a real RTSP server (GStreamer's gst-rtsp-server) on loopback, killed and brought back."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest

from posed.cameras import open_camera
from posed.cameras.config import CameraConfig
from posed.cameras.probe import probe_camera
from posed.cameras.sources.stream import ffmpeg_transport, redact
from posed.cameras.status import CameraStatus
from posed.errors import CameraError
from tests.camera_helpers import StatusLog, camera_config, wait_until

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("gst_rtsp_server.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RtspServer:
    """gst_rtsp_server.py as a subprocess: start, SIGKILL (a crash), start again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"rtsp://127.0.0.1:{port}/cam"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(SERVER), str(self.port)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line == "READY":
                self.proc = proc
                # Drain its output so the server never blocks on a full pipe.
                threading.Thread(target=proc.stdout.read, daemon=True).start()
                return
            proc.kill()
            proc.wait()
            if time.monotonic() > deadline:  # the port may linger a moment after a kill
                raise AssertionError(f"RTSP server did not start: {line!r}")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def gst_available() -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.fail(
            "GStreamer's RTSP server is missing (run .ci/setup: it installs gir1.2-gst-rtsp-server-1.0, "
            f"the GStreamer plugins and python3-gi): {probe.stderr.strip()}"
        )


@pytest.fixture
def server(gst_available: None) -> Iterator[RtspServer]:
    srv = RtspServer(free_port())
    srv.start()
    yield srv
    srv.kill()


def stream_config(url: str, **values: object) -> CameraConfig:
    defaults: dict[str, object] = {
        "open_timeout": 5,
        "read_timeout": 2,
        "stall_timeout": 3,
        "reconnect_min_delay": 0.25,
        "reconnect_max_delay": 1.0,
    }
    return camera_config(type="stream", url=url, **(defaults | values))


def udp_sockets() -> int:
    return len(psutil.Process().net_connections(kind="udp"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_rtsp_stream_survives_a_server_crash(server: RtspServer) -> None:
    statuses = StatusLog()
    with open_camera("door", stream_config(server.url), on_status=statuses) as cam:
        cam.start()
        statuses.wait_for(CameraStatus.ONLINE)
        frame = cam.latest(10.0)
        assert frame is not None and frame.image.shape == (240, 320, 3)
        red, green, blue = frame.image.reshape(-1, 3).mean(axis=0)
        assert red > 200 and green < 60 and blue < 60, "the server sends red; RGB order is wrong"

        server.kill()
        statuses.wait_for(CameraStatus.RECONNECTING)
        wait_until(lambda: cam.latest(0.05) is None, what="the frames to stop")
        wait_until(lambda: cam.counters().reconnects >= 2, what="reopen attempts while down")
        before = cam.counters()

        server.start()
        back = time.monotonic()
        online_at = statuses.wait_for(CameraStatus.ONLINE, count=2)
        # Back-off is capped at 1 s; opening RTSP takes about 1 s more.
        assert online_at - back < 10.0
        frames = [cam.latest(10.0) for _ in range(5)]
        assert all(f is not None for f in frames)
        numbers = [f.number for f in frames if f is not None]
        assert numbers == sorted(numbers) and numbers[0] >= before.captured - 1
        after = cam.counters()
    assert statuses.statuses == ["online", "reconnecting", "online", "offline"]
    assert after.stalls == 1
    assert after.reconnects >= before.reconnects


def test_silent_server_is_a_stall(server: RtspServer) -> None:
    """A server that stops sending but keeps its connection open (SIGSTOP): the read times out."""
    statuses = StatusLog()
    config = stream_config(server.url, read_timeout=1, open_timeout=2)
    with open_camera("door", config, on_status=statuses) as cam:
        cam.start()
        assert cam.latest(10.0) is not None
        assert server.proc is not None
        server.proc.send_signal(signal.SIGSTOP)
        try:
            statuses.wait_for(CameraStatus.RECONNECTING, timeout=30)
        finally:
            server.proc.send_signal(signal.SIGCONT)
        statuses.wait_for(CameraStatus.ONLINE, count=2, timeout=30)
        assert cam.latest(10.0) is not None
        assert cam.counters().stalls == 1


def test_rtsp_over_udp(server: RtspServer) -> None:
    previous = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS")
    with open_camera("door", stream_config(server.url, transport="udp")) as cam:
        cam.start()
        frames = [cam.latest(10.0) for _ in range(10)]
        assert all(f is not None for f in frames)
        assert udp_sockets() >= 2, "RTP did not arrive over UDP"
    assert os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS") == previous


def test_rtsp_over_tcp_uses_no_udp(server: RtspServer) -> None:
    baseline = udp_sockets()
    with open_camera("door", stream_config(server.url, transport="tcp")) as cam:
        cam.start()
        assert cam.latest(10.0) is not None
        assert udp_sockets() == baseline


class MjpegServer:
    """An HTTP MJPEG camera (multipart/x-mixed-replace of JPEGs, BGR red) on loopback, 20 fps."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/video.mjpg"
        self.stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        red = np.zeros((120, 160, 3), np.uint8)
        red[:] = (0, 0, 255)  # BGR
        jpeg = cv2.imencode(".jpg", red)[1].tobytes()
        part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg)
        stopped = self.stopped
        stopped.clear()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                with contextlib.suppress(OSError):
                    while not stopped.wait(0.05):
                        self.wfile.write(part)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def test_http_mjpeg_stream_and_its_return() -> None:
    server = MjpegServer(free_port())
    server.start()
    statuses = StatusLog()
    options = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS")
    try:
        with open_camera("porch", stream_config(server.url), on_status=statuses) as cam:
            cam.start()
            frames = [cam.latest(10.0) for _ in range(3)]
            assert all(f is not None and f.image.shape == (120, 160, 3) for f in frames)
            assert frames[0] is not None
            assert np.abs(frames[0].image[60, 80].astype(int) - (255, 0, 0)).max() < 8
            server.stop()
            statuses.wait_for(CameraStatus.RECONNECTING)
            server.start()
            statuses.wait_for(CameraStatus.ONLINE, count=2)
            assert cam.latest(10.0) is not None
        assert os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS") == options  # only RTSP needs it
    finally:
        server.stop()
    assert statuses.statuses == ["online", "reconnecting", "online", "offline"]


def test_transport_option_is_set_only_inside_the_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "hwaccel;none|rtsp_transport;tcp")
    with ffmpeg_transport("udp"):
        assert os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] == "hwaccel;none|rtsp_transport;udp"
    assert os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] == "hwaccel;none|rtsp_transport;tcp"
    monkeypatch.delenv("OPENCV_FFMPEG_CAPTURE_OPTIONS")
    with ffmpeg_transport("tcp"):
        assert os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] == "rtsp_transport;tcp"
    assert "OPENCV_FFMPEG_CAPTURE_OPTIONS" not in os.environ


def test_probe_of_an_unreachable_url_is_clear() -> None:
    url = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/stream1"
    with pytest.raises(CameraError) as info:
        probe_camera("door", stream_config(url))
    message = str(info.value)
    assert "connection refused" in message and "camera 'door'" in message
    assert "s3cret" not in message and "admin:***@" in message


def test_probe_of_a_wrong_path_is_clear(server: RtspServer) -> None:
    with pytest.raises(CameraError, match="answers but the stream did not open"):
        probe_camera("door", stream_config(server.url.replace("/cam", "/nope")))
    probe_camera("door", stream_config(server.url))


def test_unreachable_url_at_run_time_reconnects_and_does_not_leak() -> None:
    """Many failed reopens: status stays `reconnecting`, no fds, threads or memory pile up."""
    statuses = StatusLog()
    config = stream_config(
        f"rtsp://127.0.0.1:{free_port()}/cam", reconnect_min_delay=0.01, reconnect_max_delay=0.01
    )
    cam = open_camera("door", config, on_status=statuses)
    cam.start()
    statuses.wait_for(CameraStatus.RECONNECTING)
    wait_until(lambda: cam.counters().reconnects >= 20, what="20 reopen attempts")
    fds, threads = open_fds(), threading.active_count()
    rss = psutil.Process().memory_info().rss
    start = cam.counters().reconnects
    wait_until(lambda: cam.counters().reconnects >= start + 100, what="100 more reopen attempts")
    assert open_fds() <= fds + 2
    assert threading.active_count() == threads
    assert psutil.Process().memory_info().rss - rss < 8 * 2**20
    assert cam.latest(0.05) is None
    cam.close()
    assert statuses.statuses == ["reconnecting", "offline"]


def test_failed_ffmpeg_opens_do_not_leak(server: RtspServer) -> None:
    """Reopening through FFmpeg (the server answers 404) again and again holds nothing."""
    config = stream_config(
        server.url.replace("/cam", "/nope"), reconnect_min_delay=0.01, reconnect_max_delay=0.01
    )
    with open_camera("door", config) as cam:
        cam.start()
        wait_until(lambda: cam.counters().reconnects >= 5, what="5 reopen attempts")
        fds = open_fds()
        rss = psutil.Process().memory_info().rss
        start = cam.counters().reconnects
        wait_until(lambda: cam.counters().reconnects >= start + 20, what="20 more reopen attempts")
        assert open_fds() <= fds + 2
        assert psutil.Process().memory_info().rss - rss < 8 * 2**20
        assert cam.status == "reconnecting"


def test_redact() -> None:
    assert redact("rtsp://u:p@cam.local:8554/x") == "rtsp://u:***@cam.local:8554/x"
    assert redact("rtsp://cam.local/x") == "rtsp://cam.local/x"
