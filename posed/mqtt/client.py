"""Builds the paho-mqtt client from the config: protocol, identity, TLS, auth, will.

paho is imported here, inside the function, so importing posed never loads it.
Bad local settings (unreadable password file, TLS files that do not load) raise
MqttError before any network activity; network trouble is left to reconnects.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from posed.errors import MqttError
from posed.mqtt.config import MqttConfig, TlsConfig
from posed.mqtt.credentials import RedactFilter, read_password

PAHO_LOGGER = "posed.mqtt.paho"
# How long one connection attempt (TCP and TLS handshake) may take; bounds close() too.
CONNECT_TIMEOUT_S = 4.0


class _ConnectionNoise(logging.Filter):
    """Keeps paho's connection chatter out of ERROR.

    paho's network thread logs "Client is not connected" at ERROR whenever its loop
    runs without a socket: after every failed reconnection attempt during an outage,
    and after a deliberate disconnect. posed's ConnectionReport already says when the
    connection is lost, each failed attempt's reason and when it is back, so those
    lines are dropped. "failed to receive on socket" (a broker that went away) keeps
    its reason but becomes a WARNING, like posed's own line about the loss.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Client is not connected"):
            return False
        if message.startswith("failed to receive on socket") and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


_CONNECTION_NOISE = _ConnectionNoise()


def client_id_for(config: MqttConfig, device_id: str) -> str:
    return config.client_id if config.client_id is not None else f"posed-{device_id}"


def build_client(
    config: MqttConfig,
    *,
    client_id: str,
    will_topic: str,
    will_payload: bytes,
    environ: Mapping[str, str] | None = None,
) -> tuple[Any, RedactFilter | None]:
    """A configured, unconnected paho Client (VERSION2 callbacks, none set yet).

    Also returns the filter that masks the password in paho's log records; it
    is installed on the `posed.mqtt.paho` logger and the caller removes it
    when it closes the client.
    """
    password = read_password(config, os.environ if environ is None else environ)
    context = tls_context(config.tls) if config.tls is not None else None

    v5 = config.protocol == "5"
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        # A clean session each time: posed re-sends what the broker may have
        # missed itself, from its own queue, so it needs no broker-side state
        # (which a restarted broker may have lost anyway).
        clean_session=None if v5 else True,
    )
    paho_logger = logging.getLogger(PAHO_LOGGER)
    redact: RedactFilter | None = None
    if password is not None:
        # paho does not log credentials today; this keeps it so if that changes.
        redact = RedactFilter(password)
        paho_logger.addFilter(redact)
        client.username_pw_set(config.username, password.reveal())
    elif config.username is not None:
        client.username_pw_set(config.username, None)
    paho_logger.addFilter(_CONNECTION_NOISE)  # once: addFilter ignores a filter already there
    client.enable_logger(paho_logger)
    client.suppress_exceptions = True
    if context is not None:
        client.tls_set_context(context)
    client.will_set(will_topic, will_payload, qos=1, retain=True)
    # paho annotates the delays as int, but its back-off arithmetic is float
    # throughout, and sub-second delays are useful on a LAN and in tests.
    client.reconnect_delay_set(cast(int, config.reconnect_min_delay), cast(int, config.reconnect_max_delay))
    client.max_inflight_messages_set(config.max_inflight)
    # posed bounds what it hands over itself (Outbox); this only guards paho's
    # queue should that bookkeeping ever be wrong: it then refuses, not grows.
    client.max_queued_messages_set(config.max_inflight + 16)
    client.connect_timeout = CONNECT_TIMEOUT_S
    return client, redact


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """An SSL context that verifies the broker (hostname too, unless `insecure`)."""
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file) if tls.ca_file else None
        )
    except (OSError, ssl.SSLError) as err:
        raise MqttError(f"mqtt.tls.ca_file: cannot load {tls.ca_file}: {_reason(err)}") from None
    if tls.cert_file is not None and tls.key_file is not None:
        try:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        except (OSError, ssl.SSLError) as err:
            raise MqttError(
                f"mqtt.tls: cannot load the client certificate {tls.cert_file} with key "
                f"{tls.key_file}: {_reason(err)}"
            ) from None
    if tls.insecure:
        context.check_hostname = False
    return context


def _reason(err: OSError) -> str:
    if isinstance(err, ssl.SSLError):
        return err.reason or str(err)
    return err.strerror or str(err)


def connect_properties(config: MqttConfig) -> Any:
    """CONNECT properties for MQTT 5 (None for 3.1.1)."""
    if config.protocol != "5":
        return None

    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0
    return properties
