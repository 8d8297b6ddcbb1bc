"""A private Mosquitto broker for tests, and a paho subscriber that records what it gets.

Usage:

    from tests.mosquitto import Mosquitto, Subscriber, make_tls_files, make_password_file

    with Mosquitto(tmp_path) as broker:             # plain MQTT on a free port of 127.0.0.1
        with Subscriber(broker, ["posed/#"]) as sub:  # subscribed once this returns
            ...                                    # point posed at broker.host, broker.port
            msg = sub.wait_for(lambda m: m.topic.endswith("/availability") and m.text == "online")
        broker.kill()                              # SIGKILL, like a crash
        broker.start()                             # again, on the same port
        broker.stop()                              # SIGTERM, a clean shutdown (saves persistence)
        broker.pause(); broker.resume()            # SIGSTOP / SIGCONT: a hung broker

    tls = make_tls_files(tmp_path)                 # CA, server and client certs (openssl)
    users = {"posed": "s3cret"}
    Mosquitto(tmp_path, tls=tls, users=users, require_certificate=True)

Everything lives in the directory given; `broker.log_text()` returns the broker's log.
Only the processes started here are ever signalled.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

BARRIER_PREFIX = "posed-test/barrier/"  # Subscriber.barrier's markers; never recorded as messages


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        raise RuntimeError(f"{name} is not installed; run .ci/setup (Debian: apt-get install mosquitto)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class TlsFiles:
    """PEM files made by make_tls_files: a CA, and a server and client certificate it signed."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run([_tool("openssl"), *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr}")


def make_tls_files(
    directory: Path, *, dns_names: Iterable[str] = ("localhost",), ips: Iterable[str] = ("127.0.0.1",)
) -> TlsFiles:
    """A fresh test CA (P-256, valid two days) and the certificates it signs.

    The server certificate names `dns_names` and `ips`; give other names to
    make a certificate whose hostname check fails.
    """
    d = directory / "tls"
    d.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=posed test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        cwd=d,
    )  # fmt: skip
    san = ",".join([*(f"DNS:{n}" for n in dns_names), *(f"IP:{ip}" for ip in ips)])
    for role, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        ext = d / f"{role}.ext"
        lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            f"extendedKeyUsage={usage}",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid,issuer",
        ]
        if role == "server":
            lines.append(f"subjectAltName={san}")
        ext.write_text("\n".join(lines) + "\n")
        _openssl(
            "req", "-new", *ec, "-keyout", f"{role}.key", "-out", f"{role}.csr",
            "-subj", f"/CN=posed test {role}", cwd=d,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{role}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{role}.crt", "-days", "2", "-extfile", ext.name, cwd=d,
        )  # fmt: skip
    for key in d.glob("*.key"):
        key.chmod(0o600)
    return TlsFiles(d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key")


def make_password_file(directory: Path, users: Mapping[str, str]) -> Path:
    """A Mosquitto password file made with mosquitto_passwd."""
    path = directory / "passwd"
    path.unlink(missing_ok=True)
    for i, (user, password) in enumerate(users.items()):
        flags = ["-b", "-c"] if i == 0 else ["-b"]
        subprocess.run([_tool("mosquitto_passwd"), *flags, str(path), user, password], check=True)
    path.chmod(0o600)
    return path


class Mosquitto:
    """A private broker on 127.0.0.1 and a fixed, free port (kept across restarts)."""

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        users: Mapping[str, str] | None = None,
        persistence: bool = False,
    ) -> None:
        self.directory = directory / f"mosquitto-{id(self):x}"
        self.directory.mkdir(parents=True)
        self.port = port if port is not None else free_port()
        self.log_file = self.directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        lines = [f"listener {self.port} {self.host}", f"log_dest file {self.log_file}", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to `mosquitto`, who cannot read our files
        if users:
            lines += ["allow_anonymous false", f"password_file {make_password_file(self.directory, users)}"]
        else:
            lines.append("allow_anonymous true")
        if tls is not None:
            lines += [f"cafile {tls.ca}", f"certfile {tls.server_cert}", f"keyfile {tls.server_key}"]
            lines.append(f"require_certificate {'true' if require_certificate else 'false'}")
        if persistence:
            lines += ["persistence true", f"persistence_location {self.directory}/", "autosave_interval 1"]
        else:
            lines.append("persistence false")
        self.config_file = self.directory / "mosquitto.conf"
        self.config_file.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the port accepts connections."""
        if self.running:
            raise RuntimeError("mosquitto is already running")
        stderr = (self.directory / "stderr.log").open("ab")
        try:
            self._process = subprocess.Popen(
                [_tool("mosquitto"), "-c", str(self.config_file)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        finally:
            stderr.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start:\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s:\n{self.log_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: a clean shutdown (the broker saves its persistence file)."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: the broker vanishes; clients see their connection reset."""
        self._signal(signal.SIGKILL, 10.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is read or acknowledged (a hung broker)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals, timeout: float) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        if sig != signal.SIGKILL:
            process.send_signal(signal.SIGCONT)  # a paused broker must wake to handle SIGTERM
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_text(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.directory / "stderr.log", self.log_file)]
        return "".join(p for p in parts if p)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


class Subscriber:
    """A paho client that subscribes (again after every reconnect) and records every message."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: Iterable[str] = ("#",),
        *,
        qos: int = 1,
        client_id: str = "",
        clean_session: bool = True,
        username: str | None = None,
        password: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.broker = broker
        self.topics = list(topics)
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._barriers: set[str] = set()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls is not None:
            self._client.tls_set(
                ca_certs=str(tls.ca), certfile=str(tls.client_cert), keyfile=str(tls.client_key)
            )
        self._client.reconnect_delay_set(1, 1)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._qos = qos

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(t, self._qos) for t in self.topics])

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._cond:
            if message.topic.startswith(BARRIER_PREFIX):
                self._barriers.add(message.topic)
            else:
                received = Received(message.topic, bytes(message.payload), message.retain, message.qos)
                self.messages.append(received)
            self._cond.notify_all()

    @property
    def subscribed(self) -> threading.Event:
        """Set on every SUBACK; clear it to wait for the re-subscription after a reconnect."""
        return self._subscribed

    def start(self, timeout: float = 10.0) -> Subscriber:
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=5)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"subscriber: no SUBACK from 127.0.0.1:{self.broker.port} in {timeout} s")
        return self

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Subscriber:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Publish from the subscriber's own connection (e.g. Home Assistant's birth message)."""
        self._client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(10)

    def barrier(self, timeout: float = 10.0) -> None:
        """Return once every message the broker sent this subscriber before the call has arrived,
        the retained messages of its subscriptions included.

        A marker goes to a private topic on this same connection, at QoS 1: the broker
        handles the SUBSCRIBE and the PUBLISH in order and queues the marker behind what
        it already queued for us, so when it comes back nothing older is still on the way.
        Instead of "wait a second for the retained messages".
        """
        topic = f"{BARRIER_PREFIX}{uuid.uuid4().hex}"
        self._client.subscribe(topic, 1)
        self._client.publish(topic, b"", qos=1)
        deadline = time.monotonic() + timeout
        with self._cond:
            while topic not in self._barriers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"barrier marker not back within {timeout} s")
                self._cond.wait(left)
        self._client.unsubscribe(topic)

    def snapshot(self) -> list[Received]:
        with self._cond:
            return list(self.messages)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10.0) -> Received:
        """The first recorded message (old or new) that matches; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({m.topic for m in self.messages})
                    raise TimeoutError(f"no matching message within {timeout} s; topics seen: {seen}")
                self._cond.wait(left)

    def wait_until(
        self, condition: Callable[[list[Received]], bool], timeout: float = 10.0
    ) -> list[Received]:
        """Wait until `condition(all messages so far)` holds; returns the messages."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"condition not met within {timeout} s ({len(self.messages)} messages)"
                    )
                self._cond.wait(left)
            return list(self.messages)
