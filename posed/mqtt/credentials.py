"""The MQTT password: read from a file or an environment variable, never logged.

A file fits systemd's `LoadCredential=mqtt_password:/etc/posed/mqtt_password`:
systemd exposes it as `$CREDENTIALS_DIRECTORY/mqtt_password`, so the config can
say `password_file: mqtt_password` (a relative path is looked up in
$CREDENTIALS_DIRECTORY when that is set) or spell the variable out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from posed.errors import MqttError
from posed.mqtt.config import MqttConfig
from posed.regular_files import MAX_SECRET_BYTES, read_regular

CREDENTIALS_VAR = "CREDENTIALS_DIRECTORY"
_VAR_FORMS = (f"${CREDENTIALS_VAR}", f"${{{CREDENTIALS_VAR}}}")
REDACTED = "********"


class Secret:
    """A string that never shows itself in reprs, str() or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def password_path(configured: Path, environ: Mapping[str, str]) -> Path:
    """Where the password file really is, after the systemd credentials directory."""
    text = str(configured)
    creds = environ.get(CREDENTIALS_VAR)
    for form in _VAR_FORMS:
        if text == form or text.startswith(form + "/"):
            if not creds:
                raise MqttError(
                    f"mqtt.password_file: {text} refers to ${CREDENTIALS_VAR}, which is not set "
                    "(is LoadCredential= in the systemd unit?)"
                )
            return Path(creds) / text[len(form) :].lstrip("/")
    if not configured.is_absolute() and creds:
        return Path(creds) / configured
    return configured


def read_password(config: MqttConfig, environ: Mapping[str, str]) -> Secret | None:
    """The configured password, or None when the config has none.

    Raises MqttError naming the file or variable (never the value) when it is
    missing, unreadable or empty. One trailing newline is stripped, because
    `echo secret > file` adds it.
    """
    if config.password_file is not None:
        path = password_path(config.password_file, environ)
        try:
            text = read_regular(path, MAX_SECRET_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
            raise MqttError(f"mqtt.password_file: cannot read {path}: {reason}") from None
        value = _strip_newline(text)
        if not value:
            raise MqttError(f"mqtt.password_file: {path} is empty")
        return Secret(value)
    if config.password_env is not None:
        raw = environ.get(config.password_env)
        if raw is None:
            raise MqttError(f"mqtt.password_env: the environment variable {config.password_env} is not set")
        value = _strip_newline(raw)
        if not value:
            raise MqttError(f"mqtt.password_env: the environment variable {config.password_env} is empty")
        return Secret(value)
    return None


def _strip_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


class RedactFilter(logging.Filter):
    """Replaces a secret in log records with asterisks.

    posed never formats the password into a message; this guards the logger we
    hand to paho, whose debug output we do not control.
    """

    def __init__(self, secret: Secret) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        value = self._secret.reveal()
        message = record.getMessage()
        if value in message:
            record.msg = message.replace(value, REDACTED)
            record.args = None
        return True
