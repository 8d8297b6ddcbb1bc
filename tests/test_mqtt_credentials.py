"""The MQTT password (file, env, systemd credentials) and the config's own checks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from posed.errors import MqttError
from posed.mqtt.config import HomeAssistantConfig, MqttConfig, TlsConfig
from posed.mqtt.credentials import RedactFilter, Secret, read_password

PASSWORD = "correct horse battery staple"


def _cfg(**values: object) -> MqttConfig:
    return MqttConfig.model_validate({"username": "posed", **values})


def test_password_from_a_file_loses_one_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(PASSWORD + " \n")
    secret = read_password(_cfg(password_file=str(path)), {})
    assert secret is not None and secret.reveal() == PASSWORD + " "


def test_password_from_systemd_credentials(tmp_path: Path) -> None:
    (tmp_path / "mqtt_password").write_text(PASSWORD)
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    for form in (
        "mqtt_password",
        "$CREDENTIALS_DIRECTORY/mqtt_password",
        "${CREDENTIALS_DIRECTORY}/mqtt_password",
    ):
        secret = read_password(_cfg(password_file=form), env)
        assert secret is not None and secret.reveal() == PASSWORD, form
    with pytest.raises(MqttError, match="LoadCredential"):
        read_password(_cfg(password_file="$CREDENTIALS_DIRECTORY/mqtt_password"), {})


def test_password_from_the_environment() -> None:
    secret = read_password(_cfg(password_env="POSED_MQTT_PASSWORD"), {"POSED_MQTT_PASSWORD": PASSWORD})
    assert secret is not None and secret.reveal() == PASSWORD
    with pytest.raises(MqttError, match="POSED_MQTT_PASSWORD is not set"):
        read_password(_cfg(password_env="POSED_MQTT_PASSWORD"), {})
    with pytest.raises(MqttError, match="is empty"):
        read_password(_cfg(password_env="POSED_MQTT_PASSWORD"), {"POSED_MQTT_PASSWORD": ""})
    assert read_password(MqttConfig(), {}) is None


def test_unusable_password_files_are_named_never_shown(tmp_path: Path) -> None:
    with pytest.raises(MqttError, match=r"cannot read .*missing: No such file"):
        read_password(_cfg(password_file=str(tmp_path / "missing")), {})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(MqttError, match="is empty"):
        read_password(_cfg(password_file=str(tmp_path / "empty")), {})
    (tmp_path / "binary").write_bytes(b"\xff\xfe" + PASSWORD.encode())
    with pytest.raises(MqttError) as err:
        read_password(_cfg(password_file=str(tmp_path / "binary")), {})
    assert PASSWORD not in str(err.value)


def test_secret_never_shows_itself() -> None:
    secret = Secret(PASSWORD)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", format(secret, ">40")):
        assert PASSWORD not in text


def test_redact_filter_masks_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("posed.test.redact")
    redact = RedactFilter(Secret(PASSWORD))
    logger.addFilter(redact)
    try:
        with caplog.at_level(logging.DEBUG, logger="posed.test.redact"):
            logger.debug("sending %s to the broker", PASSWORD)
    finally:
        logger.removeFilter(redact)
    assert PASSWORD not in caplog.text and "********" in caplog.text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"topic_prefix": "posed/#"}, "wildcards"),
        ({"topic_prefix": "posed/"}, "start or end"),
        ({"homeassistant": {"discovery_prefix": "ha/+"}}, "wildcards"),
        ({"reconnect_min_delay": 10, "reconnect_max_delay": 5}, "must not exceed"),
        ({"password_env": "X"}, "needs a username"),
        ({"username": "u", "password_env": "X", "password_file": "f"}, "not both"),
        ({"client_id": ""}, "must not be empty"),
        ({"max_inflight": 0}, "greater than or equal to 1"),
    ],
)
def test_config_rejects(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MqttConfig.model_validate(values)


def test_every_config_field_is_described() -> None:
    for model in (MqttConfig, TlsConfig, HomeAssistantConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
