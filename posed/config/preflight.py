"""What a valid config still needs from this machine before posed can run, checked all at once.

`posed check` and `posed run` both call `preflight`, so check finds every problem
run would refuse to start with, and run reports all of them (exit 78) instead of
failing on the first with a traceback and exit 1. Only what a restart cannot fix
belongs here: files, variables and directories. A broker or camera that is down
may come up later; those are warnings in `check` and retries in `run`.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap

from posed.config.schema import ModelConfig
from posed.errors import ConfigIssue, ModelNotFoundError, ModelOptionError, PosedError
from posed.evidence.config import SnapshotsConfig
from posed.mqtt.config import MqttConfig, TlsConfig
from posed.preview.config import PreviewConfig
from posed.regular_files import MAX_PEM_BYTES, read_regular
from posed.suggest import did_you_mean

if TYPE_CHECKING:
    from posed.config.loader import LoadedConfig

Section = TypeVar("Section", bound=BaseModel)


def preflight_document(
    path: Path, document: CommentedMap, loaded: LoadedConfig | None, *, cli_model_dir: Path | None
) -> list[ConfigIssue]:
    """preflight on the whole config, or, when it is invalid, on the sections that are valid,
    so one run of `check` or `run` names every problem."""
    mqtt: MqttConfig | None
    model: ModelConfig | None
    preview: PreviewConfig | None
    snapshots: SnapshotsConfig | None
    if loaded is not None:
        cfg = loaded.config
        mqtt, model, model_dir = cfg.mqtt, cfg.model, cfg.model_dir
        preview, snapshots = cfg.preview, cfg.snapshots
        backend_type: str | None = loaded.backend.type
    else:
        mqtt = _section(MqttConfig, document.get("mqtt", {}))
        snapshots = _section(SnapshotsConfig, document.get("snapshots", {}))
        model = _section(ModelConfig, document.get("model"))
        preview = _section(PreviewConfig, document.get("preview", {}))
        raw_dir = document.get("model_dir")
        model_dir = Path(raw_dir) if isinstance(raw_dir, str) and raw_dir and "\0" not in raw_dir else None
        raw_backend = document.get("backend")
        backend_type = raw_backend.get("type") if isinstance(raw_backend, dict) else None
        backend_type = backend_type if isinstance(backend_type, str) else None
    return preflight(
        str(path),
        document,
        mqtt=mqtt,
        model=model,
        model_dir=model_dir,
        cli_model_dir=cli_model_dir,
        backend_type=backend_type,
        preview=preview,
        snapshots=snapshots,
    )


def _section(model: type[Section], value: object) -> Section | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None  # already reported by validation


def preflight(
    display: str,
    document: CommentedMap,
    *,
    mqtt: MqttConfig | None,
    model: ModelConfig | None,
    model_dir: Path | None,
    cli_model_dir: Path | None,
    backend_type: str | None = None,
    environ: Mapping[str, str] | None = None,
    preview: PreviewConfig | None = None,
    snapshots: SnapshotsConfig | None = None,
) -> list[ConfigIssue]:
    """Every problem of this machine with the given sections; None skips a section that did not validate.

    `backend_type` picks the int8 variant that `model.precision: int8` needs.
    """
    from posed.config.loader import line_of  # deferred: the loader imports this package's schema

    env = os.environ if environ is None else environ

    def issue(key: str, message: str) -> ConfigIssue:
        return ConfigIssue(display, line_of(document, key), key, message)

    issues: list[ConfigIssue] = []
    if mqtt is not None:
        issues += _password(mqtt, env, issue)
        if mqtt.tls is not None:
            issues += _tls(mqtt.tls, issue)
    if preview is not None and preview.enabled:
        issues += _preview_host(preview.host, issue)
    issues += _model_dirs(model_dir, cli_model_dir, issue)
    if model is not None:
        issues += _model(
            model, model_dir, cli_model_dir=cli_model_dir, backend_type=backend_type, env=env, issue=issue
        )
    if snapshots is not None and snapshots.enabled:
        issues += _snapshots(snapshots, env, issue)
    return issues


def _snapshots(
    snapshots: SnapshotsConfig, env: Mapping[str, str], issue: Callable[[str, str], ConfigIssue]
) -> list[ConfigIssue]:
    """The store's directory can be made and written; clips have their encoder."""
    from posed.evidence.clip import clips_available
    from posed.evidence.recorder import store_directory

    found: list[ConfigIssue] = []
    directory = store_directory(snapshots, env)
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        found.append(issue("snapshots.directory", f"{existing} is not a directory"))
    elif not os.access(existing, os.W_OK | os.X_OK):
        what = "write to" if existing == directory else f"make {directory} in"
        found.append(issue("snapshots.directory", f"posed cannot {what} {existing}: permission denied"))
    if snapshots.clips.enabled and (missing := clips_available()) is not None:
        found.append(issue("snapshots.clips.enabled", missing))
    return found


def _password(
    mqtt: MqttConfig, env: Mapping[str, str], issue: Callable[[str, str], ConfigIssue]
) -> list[ConfigIssue]:
    from posed.mqtt.credentials import read_password

    try:
        read_password(mqtt, env)
    except PosedError as exc:
        key = "mqtt.password_file" if mqtt.password_file is not None else "mqtt.password_env"
        return [issue(key, str(exc).removeprefix(f"{key}: "))]
    return []


def _tls(tls: TlsConfig, issue: Callable[[str, str], ConfigIssue]) -> list[ConfigIssue]:
    found: list[ConfigIssue] = []
    unreadable: set[str] = set()
    for key, path in (("ca_file", tls.ca_file), ("cert_file", tls.cert_file), ("key_file", tls.key_file)):
        if path is not None and (reason := _unreadable(path)) is not None:
            found.append(issue(f"mqtt.tls.{key}", f"cannot read {path}: {reason}"))
            unreadable.add(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls.ca_file is not None and "ca_file" not in unreadable:
        try:
            context.load_verify_locations(cafile=str(tls.ca_file))
        except ssl.SSLError as err:
            found.append(
                issue("mqtt.tls.ca_file", f"{tls.ca_file} is no PEM CA certificate: {_ssl_reason(err)}")
            )
    pair_readable = not unreadable & {"cert_file", "key_file"}
    if tls.cert_file is not None and tls.key_file is not None and pair_readable:
        try:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        except ssl.SSLError as err:
            message = (
                f"cannot load the client certificate {tls.cert_file} with the key {tls.key_file}: "
                f"{_ssl_reason(err)}"
            )
            found.append(issue("mqtt.tls.cert_file", message))
    return found


def _unreadable(path: Path) -> str | None:
    """Why OpenSSL must not be handed `path` (it would block on a FIFO, or read /dev/zero for ever)."""
    try:
        read_regular(path, MAX_PEM_BYTES)
    except OSError as err:
        return err.strerror or type(err).__name__
    return None


def _preview_host(host: str, issue: Callable[[str, str], ConfigIssue]) -> list[ConfigIssue]:
    """A host the page cannot listen on is no address of this machine: a restart cannot fix it.

    The address is bound with port 0, so a posed that already serves the page on its port
    (a reload, or `check` beside the running daemon) does not make this fail. A name that
    cannot be looked up just now (EAI_AGAIN: DNS not up yet at boot) is left to `run`.
    """
    try:
        addresses = socket.getaddrinfo(host.strip("[]"), 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        if err.errno == socket.EAI_AGAIN:
            return []
        return [
            issue("preview.host", f"cannot listen on {host!r}: the name cannot be resolved ({err.strerror})")
        ]
    reasons: list[str] = []
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            try:
                probe.bind((address[0], 0, *address[2:]))
            except OSError as err:
                reasons.append(err.strerror or type(err).__name__)
                continue
        return []
    hint = "; give an address of this machine, 127.0.0.1, or 0.0.0.0 for all of them"
    return [
        issue("preview.host", f"cannot listen on {host!r}: {reasons[0] if reasons else 'no address'}{hint}")
    ]


def _ssl_reason(err: ssl.SSLError) -> str:
    return str(err.reason or err).replace("_", " ").lower()


def _model_dirs(
    model_dir: Path | None, cli_model_dir: Path | None, issue: Callable[[str, str], ConfigIssue]
) -> list[ConfigIssue]:
    """A model directory that exists but cannot be read fails every lookup with a PermissionError."""
    found: list[ConfigIssue] = []
    for key, directory in (("model_dir", model_dir), ("--model-dir", cli_model_dir)):
        if directory is None:
            continue
        try:
            if directory.exists():
                next(iter(directory.iterdir()), None)
        except OSError as err:
            found.append(issue(key, f"cannot read the model directory {directory}: {err.strerror or err}"))
    return found


def _model(
    model: ModelConfig,
    model_dir: Path | None,
    *,
    cli_model_dir: Path | None,
    backend_type: str | None,
    env: Mapping[str, str],
    issue: Callable[[str, str], ConfigIssue],
) -> list[ConfigIssue]:
    from posed.models.resolve import known_models, model_search_path, resolve_model

    key = "model.name" if model.name is not None else "model.path"
    dirs = model_search_path(cli_dir=cli_model_dir, config_dir=model_dir, env=env)
    try:
        resolve_model(model, dirs, backend=backend_type)
    except ModelOptionError as exc:  # e.g. no int8 variant made: model.precision's line
        return [issue(exc.key, str(exc))]
    except ModelNotFoundError as exc:
        hint = ""
        if model.name is not None and model.name not in known_models() and model.name != "blazepose":
            hint = did_you_mean(model.name, known_models())
        return [issue(key, f"{exc}{hint}")]
    except PosedError as exc:
        return [issue(key, str(exc))]
    except OSError as exc:  # a search-path directory (e.g. the user's cache) that cannot be read
        where = f" {exc.filename}" if exc.filename else ""
        return [issue(key, f"cannot look for the model in{where}: {exc.strerror or exc}")]
    return []
