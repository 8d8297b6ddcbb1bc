"""Config model of the MQTT section."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from posed.strict import ConfigPath, StrictModel

# MQTT limits a topic to 65,535 bytes. posed adds device, camera and a few levels of its own
# (each at most 64 characters), so a prefix of 256 characters (1,024 bytes in UTF-8) leaves room.
MAX_PREFIX_CHARS = 256
MAX_DELAY = 3600.0  # seconds; a longer reconnect delay is an outage, not a back-off


def mqtt_text_problem(value: str) -> str | None:
    """Why a broker refuses `value` as an MQTT UTF-8 string (MQTT 3.1.1 section 1.5.3), or None.

    NUL and UTF-16 surrogates are forbidden outright (a broker drops the connection, and a
    lone surrogate cannot even be encoded); control characters SHOULD NOT appear and
    brokers are free to refuse them, so posed refuses them too rather than fail at CONNECT.
    """
    for char in value:
        code = ord(char)
        if code == 0:
            return "must not contain NUL (MQTT forbids it)"
        if 0xD800 <= code <= 0xDFFF:
            return f"must not contain the UTF-16 surrogate U+{code:04X} (not valid UTF-8)"
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"must not contain the control character U+{code:04X} (brokers may refuse it)"
    return None


def _check_mqtt_text(value: str | None) -> str | None:
    if value is not None and (problem := mqtt_text_problem(value)) is not None:
        raise ValueError(problem)
    return value


def _check_host(value: str) -> str:
    """A host name or an IP address, nothing else: credentials or a URL here would be printed
    in every connection message, and paho would only fail to resolve them."""
    if "@" in value:
        raise ValueError(
            "holds user-info (user:password@): give the user as mqtt.username and the password "
            "in mqtt.password_file or mqtt.password_env"
        )
    if "://" in value or "/" in value:
        raise ValueError("a host name or address, not a URL (the port goes in mqtt.port, TLS in mqtt.tls)")
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?", value):
            raise ValueError(
                "a host name (letters, digits, '-', '_' and '.') or an IP address; the port goes in mqtt.port"
            ) from None
    return value


def _check_topic_prefix(value: str) -> str:
    """A topic prefix is one or more plain topic levels: no wildcards, no empty level, no `$`."""
    if (problem := mqtt_text_problem(value)) is not None:
        raise ValueError(problem)
    if any(c in value for c in "+#\0"):
        raise ValueError("must not contain the MQTT wildcards + or #, or NUL")
    if any(level == "" for level in value.split("/")):
        raise ValueError("must not start or end with / or contain //")
    if value.startswith("$"):
        # Brokers reserve $-topics ($SYS...): they drop what clients publish there.
        raise ValueError(f"{value!r} starts with $, which brokers reserve ($SYS) and drop publishes to")
    return value


class TlsConfig(StrictModel):
    ca_file: ConfigPath | None = Field(
        None,
        description="CA certificate (PEM) that signed the broker's certificate; a regular file "
        "of at most 1 MiB.",
    )
    cert_file: ConfigPath | None = Field(
        None, description="Client certificate (PEM) for mutual TLS; a regular file of at most 1 MiB."
    )
    key_file: ConfigPath | None = Field(
        None, description="Private key (PEM) of the client certificate; a regular file of at most 1 MiB."
    )
    insecure: bool = Field(
        False, description="Skip the broker hostname check. Only for testing; it defeats TLS."
    )

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file must be given together")
        return self


class HomeAssistantConfig(StrictModel):
    enabled: bool = Field(False, description="Publish Home Assistant MQTT discovery messages.")
    discovery_prefix: str = Field(
        "homeassistant",
        min_length=1,
        max_length=MAX_PREFIX_CHARS,
        description="HA discovery prefix, at most 256 characters, not starting with $.",
    )
    expire_after: int | None = Field(
        None,
        ge=1,
        le=86400,
        description="Seconds (1 to 86400) without an update after which HA shows the sensors fed by "
        "each stats message (fps, inference time, CPU, memory) as unavailable; default none: the "
        "device's and each camera's availability topics already say when a value is stale.",
    )
    support_url: str | None = Field(
        None,
        max_length=512,
        pattern=r"^https?://\S+$",
        description="Where HA's device page links for support (discovery's origin.support_url), "
        "an http(s) URL of at most 512 characters, e.g. your fork's issue tracker; posed has no "
        "public home of its own, so by default the link is left out rather than invented.",
    )

    _prefix = field_validator("discovery_prefix")(_check_topic_prefix)


class MqttConfig(StrictModel):
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        description="Broker host name or address, at most 253 characters (DNS's limit).",
    )
    port: int = Field(1883, ge=1, le=65535, description="Broker port, 1 to 65535 (8883 is usual for TLS).")
    topic_prefix: str = Field(
        "posed",
        min_length=1,
        max_length=MAX_PREFIX_CHARS,
        description="First level(s) of every topic, at most 256 characters, not starting with $.",
    )
    client_id: str | None = Field(
        None,
        max_length=MAX_PREFIX_CHARS,
        description="MQTT client id, at most 256 characters; default posed-<device_id>.",
    )
    keepalive: int = Field(30, ge=5, le=3600, description="Keepalive interval in seconds, 5 to 3600.")
    protocol: Literal["3.1.1", "5"] = Field("3.1.1", description="MQTT protocol version.")
    username: str | None = Field(
        None,
        max_length=MAX_PREFIX_CHARS,
        description="User name for password authentication, at most 256 characters.",
    )
    password_file: ConfigPath | None = Field(
        None,
        description="File holding the password, e.g. $CREDENTIALS_DIRECTORY/mqtt_password; a regular "
        "file of at most 64 KiB (a FIFO or a device is refused).",
    )
    password_env: str | None = Field(
        None,
        max_length=MAX_PREFIX_CHARS,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the password (a shell variable name, "
        "at most 256 characters).",
    )
    tls: TlsConfig | None = Field(None, description="TLS settings; absent means plain TCP.")
    # A whole number, not Literal[0, 1, 2]: a Literal takes `true` for 1 even in strict mode.
    qos: int = Field(0, ge=0, le=2, description="QoS of pose messages: 0, 1 or 2.")
    max_rate_hz: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="Publish at most this many pose messages per second per camera, up to 1000.",
    )
    only_when_people: bool = Field(
        False, description="Skip frames with no person; the change to zero is still sent."
    )
    compact: bool = Field(False, description="Arrays instead of objects in pose payloads.")
    presence_hold: float = Field(
        5.0, ge=0, le=3600, description="Seconds without people before presence turns OFF, 0 to 3600."
    )
    stats_interval: float = Field(
        15.0, ge=1, le=86400, description="Seconds between stats messages, 1 to 86400."
    )
    queue_size: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Pose messages kept while disconnected, 1 to 100,000; the oldest are dropped.",
    )
    event_queue_size: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Events (falls, reps, gestures, zone changes) kept while disconnected, 1 to 1,000,000; "
        "kept apart from pose messages, so poses never push an event out. Only when this many wait "
        "does the oldest go.",
    )
    max_inflight: int = Field(
        20,
        ge=1,
        le=65535,
        description="Messages (1 to 65535) handed to the MQTT client and not yet acknowledged (QoS 1/2) "
        "or written to the socket (QoS 0); the rest wait in posed's own bounded queue.",
    )
    reconnect_min_delay: float = Field(
        1.0, ge=0.01, le=MAX_DELAY, description="First reconnect delay, seconds, 0.01 to 3600."
    )
    reconnect_max_delay: float = Field(
        30.0, ge=0.01, le=MAX_DELAY, description="Cap of the reconnect back-off, seconds, 0.01 to 3600."
    )
    homeassistant: HomeAssistantConfig = Field(
        default_factory=HomeAssistantConfig,
        description="Home Assistant discovery.",
    )

    _prefix = field_validator("topic_prefix")(_check_topic_prefix)

    _host = field_validator("host")(_check_host)
    _username = field_validator("username")(_check_mqtt_text)

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("must not be empty; leave it out for posed-<device_id>")
        return _check_mqtt_text(value)

    @model_validator(mode="after")
    def _credentials(self) -> MqttConfig:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give password_file or password_env, not both")
        if (self.password_file or self.password_env) and not self.username:
            raise ValueError("a password needs a username")
        if self.reconnect_min_delay > self.reconnect_max_delay:
            raise ValueError("reconnect_min_delay must not exceed reconnect_max_delay")
        return self
