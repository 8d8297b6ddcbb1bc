"""(3) TLS with a CA the test generates, client certificates and password auth.

Logs are captured at DEBUG, paho's own included (posed hands paho the
`posed.mqtt.paho` logger), and must never contain the password.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from posed.errors import MqttError
from posed.mqtt.publisher import Publisher
from tests.mosquitto import Mosquitto, Subscriber, TlsFiles, make_tls_files
from tests.mqtt_support import config, document, frames, poses_for, validate_all, wait

USER = "posed"
PASSWORD = "tr0ub4dor&3-horse"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("pki"))


def _tls_config(tls: TlsFiles, **extra: object) -> dict[str, object]:
    return {
        "ca_file": str(tls.ca),
        "cert_file": str(tls.client_cert),
        "key_file": str(tls.client_key),
        **extra,
    }


def _password_file(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "mqtt_password"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path


def test_tls_client_certificate_and_password(
    tmp_path: Path, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = Mosquitto(tmp_path, tls=tls, users={USER: PASSWORD}, require_certificate=True)
    with broker, Subscriber(broker, ["posed/#"], username=USER, password=PASSWORD, tls=tls) as sub:
        cfg = config(
            broker,
            protocol="5",
            username=USER,
            password_file=str(_password_file(tmp_path, PASSWORD)),
            tls=_tls_config(tls),
        )
        with Publisher(cfg, "secure", cameras=["front"], model="m", backend="b") as pub:
            topics = pub.topics
            pub.start()
            wait(lambda: pub.connected, 10, "the TLS connection")
            frame = next(frames())
            pub.publish_poses("front", frame, poses_for(frame, 1), inference_ms=5.0, width=768, height=576)
            sub.wait_for(lambda m: m.topic == topics.poses("front") and document(m)["count"] == 1)
        sub.wait_for(lambda m: m.topic == topics.availability and m.text == "offline")
        validate_all(topics, sub.snapshot())
    assert "Sending CONNECT (u1, p1" in caplog.text, "paho's debug log was captured, with credentials sent"
    assert PASSWORD not in caplog.text


def test_wrong_password_is_reported_and_retried(
    tmp_path: Path, tls: TlsFiles, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + PASSWORD
    monkeypatch.setenv("POSED_TEST_MQTT_PASSWORD", wrong)
    with Mosquitto(tmp_path, tls=tls, users={USER: PASSWORD}) as broker:
        cfg = config(
            broker,
            username=USER,
            password_env="POSED_TEST_MQTT_PASSWORD",
            tls={"ca_file": str(tls.ca)},
            reconnect_min_delay=0.1,
            reconnect_max_delay=0.3,
        )
        with Publisher(cfg, "locked-out", cameras=["front"], model="m", backend="b") as pub:
            pub.start()

            def refusals() -> list[logging.LogRecord]:
                return [r for r in caplog.records if "refused the connection" in r.getMessage()]

            wait(lambda: len(refusals()) >= 3, 15, "three refused attempts")
            frame = next(frames())
            pub.publish_poses("front", frame, poses_for(frame), inference_ms=5.0, width=768, height=576)
            assert not pub.connected
        first = refusals()[0]
        assert first.levelno == logging.WARNING
        assert "Not authorized" in first.getMessage() or "Bad user name or password" in first.getMessage()
        assert "mqtt.username" in first.getMessage()
        # Said once at WARNING; the retries repeat it at DEBUG only.
        assert sum(r.levelno >= logging.WARNING for r in refusals()) == 1
    assert wrong not in caplog.text and PASSWORD not in caplog.text


def test_hostname_check_and_tls_insecure(
    tmp_path: Path, tls: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere = make_tls_files(tmp_path / "elsewhere", dns_names=["broker.elsewhere.invalid"], ips=[])
    with Mosquitto(tmp_path, tls=elsewhere) as broker:
        strict = config(broker, tls={"ca_file": str(elsewhere.ca)}, reconnect_max_delay=0.5)
        with (
            caplog.at_level(logging.WARNING, logger="posed.mqtt"),
            Publisher(strict, "strict", cameras=["front"], model="m", backend="b") as pub,
        ):
            pub.start()
            wait(lambda: "certificate verify failed" in caplog.text, 10, "the TLS failure to be logged")
            assert not pub.connected
        insecure = config(broker, tls={"ca_file": str(elsewhere.ca), "insecure": True})
        with Publisher(insecure, "insecure", cameras=["front"], model="m", backend="b") as pub:
            pub.start()
            wait(lambda: pub.connected, 10, "the connection without a hostname check")
    # A certificate from another CA is refused even with `insecure`: only the hostname check is off.
    with Mosquitto(tmp_path, tls=elsewhere) as broker:
        foreign = config(broker, tls={"ca_file": str(tls.ca), "insecure": True}, reconnect_max_delay=0.5)
        with Publisher(foreign, "foreign", cameras=["front"], model="m", backend="b") as pub:
            pub.start()
            wait(lambda: caplog.text.count("certificate verify failed") >= 2, 10, "the chain to be refused")
            assert not pub.connected


def test_unusable_tls_files_raise_at_start(tmp_path: Path, tls: TlsFiles) -> None:
    with Mosquitto(tmp_path, tls=tls) as broker:
        missing = config(broker, tls={"ca_file": str(tmp_path / "missing-ca.pem")})
        pub = Publisher(missing, "d", cameras=["front"], model="m", backend="b")
        with pub, pytest.raises(MqttError, match=r"missing-ca\.pem"):
            pub.start()
        mismatched = config(broker, tls=_tls_config(tls, key_file=str(tls.server_key)))
        pub = Publisher(mismatched, "d", cameras=["front"], model="m", backend="b")
        with pub, pytest.raises(MqttError, match="client certificate"):
            pub.start()
