"""The documented promise that downloads honour `https_proxy` and `no_proxy`.

A real HTTPS server on loopback stands in for the official hosts (its certificate is
signed by a test CA that the fetch trusts through SSL_CERT_FILE). A forward proxy on
loopback tunnels CONNECT requests and records each one. `posed models fetch` runs as a
subprocess, as a user runs it, with the proxy settings in its environment (urllib reads
them once per process, so an in-process test would depend on test order).

The proxy is written here rather than taken from proxy.py: proxy.py runs its acceptors in
other processes and logs through logging.basicConfig, a no-op under pytest, so a test
cannot see what it tunnelled; a CONNECT tunnel is a few lines of socket copying.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.conftest import POSED, REPO
from tests.models_support import ServedFiles, https_server
from tests.mosquitto import TlsFiles, free_port, make_tls_files

LITE = ("pose_detection.tflite", "pose_landmark_lite.tflite")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


class _Tunnel(BaseHTTPRequestHandler):
    """CONNECT host:port: open the connection, answer 200, then copy bytes both ways."""

    tunnels: list[str]

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=30)
        except (OSError, ValueError):
            self.send_error(502)
            return
        self.tunnels.append(self.path)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with upstream:
            ends = [self.connection, upstream]
            while True:
                readable, _, _ = select.select(ends, [], [], 30)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.connection else self.connection).sendall(data)


@contextmanager
def forward_proxy() -> Iterator[tuple[str, list[str]]]:
    """A CONNECT proxy on 127.0.0.1; yields its URL and the list of tunnels it opened."""
    tunnels: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Tunnel", (_Tunnel,), {"tunnels": tunnels}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tunnels
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def environment(tmp_path: Path, tls: TlsFiles, **proxies: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in PROXY_VARIABLES and k not in ("POSED_MODEL_DIR", "POSED_MODEL_MIRROR")
    }
    env.update(SSL_CERT_FILE=str(tls.ca), XDG_CACHE_HOME=str(tmp_path / "xdg-cache"), **proxies)
    return env


def fetch(store: Path, origin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [*POSED, "models", "fetch", "blazepose-lite", "--model-dir", str(store)]
    command += ["--sources", "url", "--mirror", origin]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def test_downloads_go_through_https_proxy(tmp_path: Path, models_dir: Path) -> None:
    """Guards: with https_proxy set, every model download is tunnelled through that proxy."""
    tls = make_tls_files(tmp_path)
    served = ServedFiles({name: (models_dir / name).read_bytes() for name in LITE})
    with (
        https_server(served, tls.server_cert, tls.server_key) as origin,
        forward_proxy() as (url, tunnels),
    ):
        result = fetch(tmp_path / "store", origin, environment(tmp_path, tls, https_proxy=url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "store").glob("*.tflite")) == sorted(LITE)
    assert sorted(name for name, _ in served.requests) == sorted(LITE)
    assert tunnels == [origin.removeprefix("https://")] * len(LITE)


def test_no_proxy_bypasses_the_proxy(tmp_path: Path, models_dir: Path) -> None:
    """Guards: a host listed in no_proxy is fetched directly, not through https_proxy."""
    tls = make_tls_files(tmp_path)
    served = ServedFiles({name: (models_dir / name).read_bytes() for name in LITE})
    with (
        https_server(served, tls.server_cert, tls.server_key) as origin,
        forward_proxy() as (url, tunnels),
    ):
        env = environment(tmp_path, tls, https_proxy=url, no_proxy="localhost,127.0.0.1")
        result = fetch(tmp_path / "store", origin, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(name for name, _ in served.requests) == sorted(LITE)
    assert tunnels == []


def test_an_unreachable_proxy_fails_the_download(tmp_path: Path, models_dir: Path) -> None:
    """The proxy setting is not ignored: a proxy nobody listens on makes the fetch fail, and
    the origin never hears of it."""
    tls = make_tls_files(tmp_path)
    served = ServedFiles({name: (models_dir / name).read_bytes() for name in LITE})
    with https_server(served, tls.server_cert, tls.server_key) as origin:
        env = environment(tmp_path, tls, https_proxy=f"http://127.0.0.1:{free_port()}")
        result = fetch(tmp_path / "store", origin, env)
    assert result.returncode != 0
    assert "gave up after" in result.stdout + result.stderr
    assert served.requests == []
